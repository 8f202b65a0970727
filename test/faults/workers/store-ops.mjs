// Fault-test worker: repeats one store operation through the BUILT package (dist/), so that a
// parent can kill it with SIGKILL mid-write or run several at once against one project.
//
//   node store-ops.mjs <op> <projectDir> <iterations> <maxMs> [op args...]
//
//   build      <briefId> <intentId> <tag>       rewrite the intent's goal (a new digest each time), build the brief
//   build-same <briefId>                        build the brief again and again from unchanged sources
//   pin        <cycle> <briefId> <digestA> <digestB>   pin A, B, A, ... into the cycle
//   export     <prefix> [shared]                export stage runs with markers <prefix>-<i> (and shared-<i>)
//   hooks      <dispatchJsonFile>               load the plugin (dist/index.js) and run its hooks once: foundry_stage_end
//                                              (before + after) and foundry_orchestrate (after) on the given dispatch;
//                                              prints `hooks <json>` with what became of Foundry's outputs and the log
//
// Every iteration also reads back what it wrote (and, with ALLOY_WORKER_READ_CYCLE=<cycle>,
// resolves that cycle's pin) and verifies it: any error exits with status 3 and `ERR <code> <message>`.
// Prints `ready` once the imports are done; with ALLOY_WORKER_WAIT_GO=1 it then waits for a line on stdin.
// One line per completed iteration on stdout: `built <digest>`, `pinned <digest>`, `exported <key> <created>`.
const [op, dir, iterationsArg, maxMsArg, ...rest] = process.argv.slice(2)
const iterations = Number(iterationsArg)
const deadline = Date.now() + Number(maxMsArg)
import { createHash } from "node:crypto"

const dist = new URL("../../../dist/", import.meta.url)
const core = await import(new URL("library.js", dist).href)
const runs = op === "export" ? await import(new URL("service/runs.js", dist).href) : undefined

// Warm up before saying ready: the built package loads its schemas and parsers on first use, and a
// kill must land inside an operation, not inside that one-time loading. The warm-up is one whole
// operation of the same kind (unprinted), so the store is in a state the test checks anyway.
if (op === "build" || op === "build-same") {
  const warm = new core.AlloyContext(dir)
  if (op === "build") {
    const intent = warm.store.readIntent(rest[1]).value
    warm.store.writeIntent({ ...intent, goal: `${intent.goal.replace(/ \[[^\]]*\]$/, "")} [${rest[2]} warm]` }, "replace")
  }
  core.buildBrief(warm, rest[0])
}
if (op === "export") {
  // the capability manifest each record names is built (and its schema loaded) on the first export: load it now, writing nothing
  const caps = await import(new URL("service/capabilities.js", dist).href)
  caps.projectCapabilitiesDigest(new core.AlloyContext(dir))
}
if (op === "pin") {
  const warm = new core.AlloyContext(dir)
  core.pinBrief(warm, { cycle: rest[0], brief_id: rest[1], digest: rest[2] })
  core.resolveTarget(warm, { cycle: rest[0] })
}

process.stdout.write("ready\n")
if (process.env.ALLOY_WORKER_WAIT_GO === "1") {
  await new Promise((resolve) => {
    process.stdin.once("data", resolve)
    process.stdin.once("end", resolve)
  })
}

const out = (line) => process.stdout.write(`${line}\n`)
const ctx = new core.AlloyContext(dir)
const readCycle = process.env.ALLOY_WORKER_READ_CYCLE

function readBack(briefId, digest) {
  const bytes = ctx.store.readObject(digest)
  if (!bytes) throw new core.AlloyError("object_missing", `object ${digest} vanished right after it was written`)
  core.verifyObjectBytes(bytes, { brief_id: briefId, digest }, digest)
  if (readCycle) core.resolveTarget(ctx, { cycle: readCycle })
}

try {
  for (let i = 0; i < iterations && Date.now() < deadline; i++) {
    switch (op) {
      case "build": {
        const [briefId, intentId, tag] = rest
        const intent = ctx.store.readIntent(intentId).value
        const goal = intent.goal.replace(/ \[[^\]]*\]$/, "")
        ctx.store.writeIntent({ ...intent, goal: `${goal} [${tag} ${i}]` }, "replace")
        const r = core.buildBrief(ctx, briefId)
        readBack(briefId, r.digest)
        out(`built ${r.digest}`)
        break
      }
      case "build-same": {
        const [briefId] = rest
        const r = core.buildBrief(ctx, briefId)
        readBack(briefId, r.digest)
        out(`built ${r.digest}`)
        break
      }
      case "pin": {
        const [cycle, briefId, a, b] = rest
        const digest = i % 2 === 0 ? a : b
        const r = core.pinBrief(ctx, { cycle, brief_id: briefId, digest })
        if (r.digest !== digest) throw new Error(`pinned ${r.digest}, wanted ${digest}`)
        core.resolveTarget(ctx, { cycle })
        out(`pinned ${digest}`)
        break
      }
      case "export": {
        const [prefix, shared] = rest
        const pin = { brief_id: "release-note-voice", digest: process.env.ALLOY_WORKER_PIN }
        const markers = [`${prefix}-${i}`, ...(shared ? [`shared-${i}`] : [])]
        for (const marker of markers) {
          const r = runs.exportStageRun(dir, {
            cycle: "draft-release-note",
            stage: "forge:draft-release-note",
            pin: pin.digest ? pin : null,
            marker,
            summary: `stage run ${marker}`,
            // each stage run starts from its own commit (a stage run's identity is its cycle, stage and base commit)
            baseSha: createHash("sha1").update(marker).digest("hex"),
          })
          out(`exported ${r.key} ${r.created} ${marker}`)
        }
        break
      }
      case "hooks": {
        const { readFileSync } = await import("node:fs")
        const { AlloyPlugin } = await import(new URL("index.js", dist).href)
        const logs = []
        const client = { app: { log: async (o) => void logs.push(`${o.body.level}: ${o.body.message}`) } }
        const input = { client, directory: dir, worktree: dir, project: { id: "faults" }, serverUrl: new URL("http://127.0.0.1:1") }
        const hooks = await AlloyPlugin(input, {})
        const endArgs = { summary: "Drafted the note." }
        const endOut = { title: "foundry_stage_end", output: JSON.stringify({ ok: true, summary: endArgs.summary }), metadata: {} }
        const endBefore = endOut.output
        await hooks["tool.execute.before"]({ tool: "foundry_stage_end", sessionID: "ses", callID: `call-${i}` }, { args: endArgs })
        await hooks["tool.execute.after"]({ tool: "foundry_stage_end", sessionID: "ses", callID: `call-${i}`, args: endArgs }, endOut)
        const dispatch = readFileSync(rest[0], "utf8")
        const dOut = { title: "foundry_orchestrate", output: dispatch, metadata: {} }
        await hooks["tool.execute.after"]({ tool: "foundry_orchestrate", sessionID: "ses", callID: `call-o-${i}`, args: {} }, dOut)
        await new Promise((r) => setTimeout(r, 20)) // let the logger's promises settle
        out(`hooks ${JSON.stringify({ stageEndUnchanged: endOut.output === endBefore, dispatch: dOut.output, logs })}`)
        break
      }
      default:
        throw new Error(`unknown op ${op}`)
    }
  }
  out("done")
} catch (e) {
  process.stderr.write(`ERR ${e?.code ?? "-"} ${e?.message ?? e}\n`)
  process.exit(3)
}
