// Run the built plugin's foundry_orchestrate after-hook on one recorded result, in a child process
// that may run as another user (setpriv) or with few file descriptors, and print what became of it.
//
//   node pin-lookup.mjs <projectDir> <resultJsonFile> [warm] [exhaust]
//
//   warm      run the hook once first (fills the pin cache), then break things via ALLOY_BREAK
//   exhaust   open /dev/null until the process has no file descriptor left (EMFILE), then run the hook
//
// ALLOY_BREAK=<relative path> (with `warm`): chmod that path to 000 after the warm-up run.
// Prints `ready`, then one line `result <json>` with the hook's output text (and `logs <json>`).
import { chmodSync, closeSync, openSync, readFileSync } from "node:fs"
import path from "node:path"

const [dir, resultFile, ...flags] = process.argv.slice(2)
const dist = new URL("../../../dist/", import.meta.url)
const { AlloyPlugin } = await import(new URL("index.js", dist).href)
const text = readFileSync(resultFile, "utf8")
process.stdout.write("ready\n")

const logs = []
const client = { app: { log: async (o) => void logs.push(`${o.body.level}: ${o.body.message}`) } }
const hooks = await AlloyPlugin({ client, directory: dir, worktree: dir, project: { id: "faults" }, serverUrl: new URL("http://127.0.0.1:1") }, {})
const run = async () => {
  const out = { title: "foundry_orchestrate", output: text, metadata: {} }
  await hooks["tool.execute.after"]({ tool: "foundry_orchestrate", sessionID: "ses", callID: `c${Math.random()}`, args: {} }, out)
  return out.output
}

if (flags.includes("warm")) {
  const first = await run()
  process.stdout.write(`warm ${first}\n`)
  if (process.env.ALLOY_BREAK) chmodSync(path.join(dir, process.env.ALLOY_BREAK), 0)
}
const fds = []
if (flags.includes("exhaust")) {
  // bounded: the test runs this under `ulimit -n 256`
  for (let i = 0; i < 100_000; i++) {
    try {
      fds.push(openSync("/dev/null", "r"))
    } catch (e) {
      if (e.code !== "EMFILE") throw e
      break
    }
  }
}
const result = await run()
for (const fd of fds) closeSync(fd)
process.stdout.write(`result ${result}\n`)
process.stdout.write(`logs ${JSON.stringify(logs)}\n`)
