// The built CLI's output when its reader is slow, shares the pipe with a parent that makes it
// non-blocking, or goes away: every byte arrives in order, the exit code is the command's, and a
// reader that leaves ends the program quietly (src/cli/stdio.ts; the process ends early only when
// nothing is left to write: src/cli/launch.ts).
import { describe, expect, it } from "vitest"
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { bunRuntime, runBin, runBinPiped } from "../helpers/cli.js"
import { scratch } from "../helpers/project.js"
import { skipNote } from "../helpers/skip.js"

const tmp = scratch()

/** A pinned project with `n` more pinned cycles: `verify --json` prints about 0.7 KB for each (two findings and the pin). */
async function bigProject(n: number): Promise<string> {
  const p = await tmp.pinned()
  const text = readFileSync(path.join(p.dir, "foundry", "cycles", `${p.cycle}.md`), "utf8")
  for (let i = 0; i < n; i++) {
    const id = `extra-cycle-${String(i).padStart(4, "0")}`
    writeFileSync(path.join(p.dir, "foundry", "cycles", `${id}.md`), text.replace(/^id: .*$/m, `id: ${id}`))
  }
  return p.dir
}

describe("CLI output on a pipe", () => {
  it("a slow reader gets every byte, in order, and the command's exit code", async () => {
    const dir = await bigProject(1500)
    const whole = await runBin(["verify", "--json"], { cwd: dir })
    expect(whole.status).toBe(0)
    expect(whole.stdout.length).toBeGreaterThan(500_000) // far more than a pipe holds (64 KiB)
    const slow = await runBinPiped(["verify", "--json"], { cwd: dir, holdMs: 800 })
    expect(slow.status).toBe(0)
    expect(slow.stdout).toBe(whole.stdout)
    expect(slow.stderr).toBe("")

    // a parent that keeps the shared pipe non-blocking: the writes that are refused part way go
    // through Node's stream, and the process waits for them before it ends
    const shared = await runBinPiped(["verify", "--json"], { cwd: dir, holdMs: 800, nonBlocking: true })
    expect(shared.stderr).toBe("")
    expect(shared.status).toBe(0)
    expect(shared.stdout).toBe(whole.stdout)

    // and with an error to report: exit 1 after the whole report
    writeFileSync(path.join(dir, "foundry", "cycles", "extra-cycle-0007.md"), '---\nid: extra-cycle-0007\nalloy: { brief_id: release-note-voice, digest: "sha256:TBD" }\n---\n')
    const failing = await runBin(["verify", "--json"], { cwd: dir })
    const sharedFailing = await runBinPiped(["verify", "--json"], { cwd: dir, holdMs: 800, nonBlocking: true })
    expect(sharedFailing.status).toBe(1)
    expect(sharedFailing.stdout).toBe(failing.stdout)
  }, 60_000)

  const DEV_FULL = existsSync("/dev/full") ? undefined : "needs /dev/full (a device every write to fails: the disk is full)"
  it.skipIf(DEV_FULL !== undefined)(`output that cannot be written fails the command in one line: exit 1, never 0 with the report cut off${skipNote(DEV_FULL)}`, async () => {
    const dir = await bigProject(10)
    const fd = openSync("/dev/full", "w")
    tmp.defer(() => closeSync(fd))
    for (const args of [["verify", "--json"], ["verify"], ["--version"]]) {
      const r = await runBin(args, { cwd: dir, stdoutFd: fd })
      expect(r.status).toBe(1)
      expect(r.stderr).toBe("opencode-alloy: could not write the output (the disk is full); what was printed is incomplete\n")
    }
  })

  it("a reader that goes away ends the program quietly: no stack trace, no error", async () => {
    const dir = await bigProject(1500)
    const r = await runBinPiped(["verify", "--json"], { cwd: dir, closeAfterBytes: 1 })
    expect(r.signal).toBeNull()
    expect(r.status).toBe(0)
    expect(r.stderr).toBe("")
    expect(r.bytes).toBeLessThan(500_000)
  }, 60_000)
})

const BUN = bunRuntime()

describe("CLI: the process ends early only when nothing is left to do", () => {
  // work a command leaves running (here a timer set up before the program, as a server or a child
  // would be): the early ending must wait for it, under Node (which lists it) and under Bun (whose
  // list is always empty, so the early ending is off there)
  const withPendingWork = async (runtime: string | undefined) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "alloy-pending-"))
    tmp.defer(() => rmSync(dir, { recursive: true, force: true }))
    const preload = path.join(dir, "pending.mjs")
    writeFileSync(preload, 'setTimeout(() => process.stdout.write("late work done\\n"), 300)\n')
    return runBin(["--version"], { cwd: dir, preload, ...(runtime ? { runtime } : {}) })
  }

  it("under Node", async () => {
    const r = await withPendingWork(undefined)
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\nlate work done\n$/)
  })

  it.skipIf(BUN === undefined)(`under Bun${skipNote(BUN === undefined ? "needs Bun (the bun dev dependency's platform package)" : undefined)}`, async () => {
    const r = await withPendingWork(BUN)
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\nlate work done\n$/)
  })
})
