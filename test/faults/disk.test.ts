/**
 * Issue #5, part 3: a full disk and a read-only `.alloy/` give a clear `io_error` and leave the
 * store consistent and unchanged. Three ways to make the file system refuse writes:
 *
 *   - injected (always): the child process runs with `--import workers/inject-fs.mjs`, which makes
 *     every write under the project fail with ENOSPC (after a short partial write, as a disk that
 *     fills up mid-file does) or EROFS;
 *   - a real tiny tmpfs (when `mount` works, e.g. as root): the project lives on it, filled up
 *     with a filler file, then remounted read-only;
 *   - `chmod -R a-w` (only when not root: chmod does not stop root).
 *
 * Under each: `brief build` (new object + ref), `pin` (cycle rewrite) through the built CLI, a
 * run export, and the plugin's hooks (stage_end export and dispatch injection) in a child process:
 * the CLI fails with exit 1 and `io_error` saying "the disk is full" / "read-only" / "permission
 * denied"; the hooks never change Foundry's stage_end result and still inject a verified pack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { chmodSync, cpSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs"
import { spawnSync } from "node:child_process"
import os from "node:os"
import path from "node:path"
import { makePinnedProject } from "../helpers/project.js"
import { skipNote } from "../helpers/skip.js"
import { AlloyContext } from "../../src/service/context.js"
import { buildBrief } from "../../src/service/build.js"
import { diffSnapshots, snapshotTree } from "../helpers/tree.js"
import { runBin } from "../helpers/cli.js"
import { assertBuilt, checkStore, startWorker, WORKERS_DIR } from "./store-check.js"

const INJECT = path.join(WORKERS_DIR, "inject-fs.mjs")
const DISPATCH = path.join(path.dirname(WORKERS_DIR), "..", "corpus", "foundry-output", "dispatch-forge.json")
const isRoot = process.getuid?.() === 0
/** Can this process mount a tmpfs (root in a mount namespace that allows it)? */
function canMount(): boolean {
  if (process.platform !== "linux" || !isRoot) return false
  const d = mkdtempSync(path.join(os.tmpdir(), "alloy-mount-probe-"))
  try {
    if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", d], { timeout: 10_000 }).status !== 0) return false
    spawnSync("umount", [d], { timeout: 10_000 })
    return true
  } catch {
    return false
  } finally {
    rmSync(d, { recursive: true, force: true })
  }
}
const MOUNT = canMount()

interface Scene {
  /** the project (on the faulty file system) */
  dir: string
  /** a second build of the brief, not yet pinned */
  other: string
  cleanup(): void
}

/** A pinned project in `parent`, with the intent edited (the next build makes a new object) and a second build to pin. */
async function scene(parent?: string, name = "project"): Promise<Scene> {
  const p = await makePinnedProject()
  let dir = p.dir
  if (parent) {
    dir = path.join(parent, name)
    cpSync(p.dir, dir, { recursive: true })
    p.cleanup()
  }
  const ctx = new AlloyContext(dir)
  const intent = path.join(dir, ".alloy/intents/release-note-voice.md")
  const text = readFileSync(intent, "utf8")
  writeFileSync(intent, text.replace(/^goal: (.*)$/m, "goal: $1 (second build)"))
  const other = buildBrief(ctx, "release-note-voice").digest
  // back to the pinned build as the ref, and an edited intent for the next build
  writeFileSync(intent, text.replace(/^goal: (.*)$/m, "goal: $1 (third build)"))
  writeFileSync(path.join(dir, ".alloy/refs/briefs/release-note-voice"), `${checkStore(dir).pins.get("cycle draft-release-note")}\n`)
  return { dir, other, cleanup: parent ? () => undefined : p.cleanup }
}

interface Outcome {
  status: number | null
  stdout: string
  stderr: string
}

async function cli(dir: string, args: string[], preload?: Record<string, string>): Promise<Outcome> {
  return runBin([...args, "--json"], { cwd: dir, timeoutMs: 20_000, ...(preload ? { preload: INJECT, env: preload } : {}) })
}

async function worker(dir: string, args: string[], preload?: Record<string, string>): Promise<Outcome> {
  const w = startWorker("store-ops.mjs", [args[0]!, dir, "1", "10000", ...args.slice(1)], {
    timeoutMs: 20_000,
    ...(preload ? { preload: INJECT, env: preload } : {}),
  })
  const r = await w.done
  return { status: r.code, stdout: r.stdout, stderr: r.stderr }
}

interface Results {
  build: Outcome
  pin: Outcome
  exportRun: Outcome
  hooks: { stageEndUnchanged: boolean; dispatch: string; logs: string[] } | undefined
  hooksOutcome: Outcome
  changes: string[]
  runsChanges: string[]
  store: ReturnType<typeof checkStore>
  dir: string
}

/** Run every operation against a project whose file system refuses writes; record what happened. */
async function runAll(dir: string, other: string, preload?: Record<string, string>): Promise<Results> {
  const isRuns = (r: string) => r === ".alloy/runs" || r.startsWith(".alloy/runs/")
  const before = snapshotTree(dir, () => false)
  const build = await cli(dir, ["brief", "build", "release-note-voice"], preload)
  const pin = await cli(dir, ["pin", "draft-release-note", "release-note-voice", "--digest", other], preload)
  const afterCli = snapshotTree(dir, () => false)
  const exportRun = await worker(dir, ["export", "fault"], preload && { ...preload, ALLOY_FAULT_BYTES: "0" })
  const hooksOutcome = await worker(dir, ["hooks", DISPATCH], preload && { ...preload, ALLOY_FAULT_BYTES: "0" })
  const line = hooksOutcome.stdout.split("\n").find((l) => l.startsWith("hooks "))
  const after = snapshotTree(dir, () => false)
  return {
    build,
    pin,
    exportRun,
    hooksOutcome,
    hooks: line ? (JSON.parse(line.slice(6)) as Results["hooks"]) : undefined,
    changes: diffSnapshots(before, afterCli),
    runsChanges: diffSnapshots(new Map([...before].filter(([k]) => !isRuns(k))), new Map([...after].filter(([k]) => !isRuns(k)))),
    store: checkStore(dir),
    dir,
  }
}

function json(o: Outcome): { ok?: boolean; code?: string; error?: string } {
  try {
    return JSON.parse(o.stdout) as { ok?: boolean; code?: string; error?: string }
  } catch {
    return { error: `no JSON on stdout; stderr: ${o.stderr.slice(0, 400)}` }
  }
}

/** The assertions every mechanism shares. */
function expectations(get: () => Results, reason: RegExp, known: { export?: string } = {}): void {
  it("`brief build` fails with exit 1 and a clear io_error", () => {
    const r = get()
    expect(r.build.status, r.build.stderr).toBe(1)
    const j = json(r.build)
    expect({ ok: j.ok, code: j.code }, j.error).toEqual({ ok: false, code: "io_error" })
    expect(j.error).toMatch(reason)
    expect(j.error, "names the file").toContain(".alloy/objects/sha256/")
    expect(r.build.stderr, "no stack trace").not.toMatch(/\n\s+at |node:internal/)
  })
  it("`pin` fails with exit 1 and a clear io_error", () => {
    const r = get()
    expect(r.pin.status, r.pin.stderr).toBe(1)
    const j = json(r.pin)
    expect({ ok: j.ok, code: j.code }, j.error).toEqual({ ok: false, code: "io_error" })
    expect(j.error).toMatch(reason)
    expect(j.error, "names the file").toContain("foundry/cycles/draft-release-note.md")
  })
  it("nothing the CLI tried to write changed (no partial file, no temp file)", () => {
    expect(get().changes).toEqual([])
  })
  ;(known.export ? it.fails : it)(`the run export fails with a clear io_error${known.export ? ` [known issue: ${known.export}]` : ""}`, () => {
    const r = get()
    expect(r.exportRun.status, r.exportRun.stdout).toBe(3)
    expect(r.exportRun.stderr).toMatch(/^ERR io_error /)
    expect(r.exportRun.stderr).toMatch(reason)
  })
  it("the hooks never change Foundry's stage_end result, and still inject the verified pack", () => {
    const r = get()
    expect(r.hooksOutcome.status, r.hooksOutcome.stderr).toBe(0)
    expect(r.hooks?.stageEndUnchanged).toBe(true)
    const d = JSON.parse(r.hooks!.dispatch) as { action: string; prompt: string }
    expect(d.action).toBe("dispatch")
    expect(d.prompt).toContain("Pinned brief: release-note-voice @ sha256:")
    // the failed export is reported in OpenCode's log, not to Foundry
    expect(r.hooks!.logs.join("\n")).toMatch(reason)
  })
  it("the store is consistent and unchanged outside .alloy/runs/", () => {
    const r = get()
    expect(r.store.problems.join("\n")).toBe("")
    expect(r.store.tempFiles).toEqual([])
    expect(r.runsChanges).toEqual([])
  })
  it("messages name project-relative paths only", () => {
    const r = get()
    for (const o of [r.build, r.pin]) expect(json(o).error).not.toContain(r.dir)
  })
}

describe("faults: full disk and read-only .alloy/ (injected into the child process)", () => {
  beforeAll(() => assertBuilt("service/runs.js", "index.js"))

  describe("ENOSPC after a partial write", () => {
    let s: Scene
    let r: Results
    beforeAll(async () => {
      s = await scene()
      r = await runAll(s.dir, s.other, { ALLOY_FAULT: "ENOSPC", ALLOY_FAULT_DIR: s.dir, ALLOY_FAULT_BYTES: "64" })
    }, 60_000)
    afterAll(() => s?.cleanup())
    expectations(() => r, /the disk is full/)
  })

  describe("EROFS", () => {
    let s: Scene
    let r: Results
    beforeAll(async () => {
      s = await scene()
      r = await runAll(s.dir, s.other, { ALLOY_FAULT: "EROFS", ALLOY_FAULT_DIR: s.dir })
    }, 60_000)
    afterAll(() => s?.cleanup())
    expectations(() => r, /read-only/)
  })
})

describe.skipIf(!MOUNT)(`faults: a real tiny tmpfs${skipNote(MOUNT ? undefined : "needs root and a kernel that allows mount (a tmpfs of a few KiB)")}`, () => {
  beforeAll(() => assertBuilt("service/runs.js", "index.js"))

  let mnt: string
  let base: string
  beforeAll(async () => {
    base = mkdtempSync(path.join(os.tmpdir(), "alloy-tmpfs-"))
    mnt = path.join(base, "mnt")
    mkdirSync(mnt)
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt], { encoding: "utf8", timeout: 10_000 })
    if (m.status !== 0) throw new Error(`mount failed: ${m.stderr}`)
  }, 60_000)
  afterAll(() => {
    if (mnt) spawnSync("umount", [mnt], { timeout: 10_000 }).status === 0 || spawnSync("umount", ["-l", mnt], { timeout: 10_000 })
    if (base) rmSync(base, { recursive: true, force: true })
  })

  describe("full (filled with a filler file)", () => {
    let r: Results
    beforeAll(async () => {
      const s = await scene(mnt, "full")
      // fill it: big chunks, then smaller, until not even one byte fits in a new file
      const fd = openSync(path.join(mnt, "filler"), "w")
      try {
        for (const size of [65536, 4096, 1]) {
          const chunk = Buffer.alloc(size, 120)
          for (let i = 0; i < 100_000; i++) {
            try {
              writeSync(fd, chunk)
            } catch {
              break
            }
          }
        }
      } finally {
        closeSync(fd)
      }
      expect(() => writeFileSync(path.join(mnt, "probe"), "x")).toThrow(/ENOSPC/)
      rmSync(path.join(mnt, "probe"), { force: true })
      r = await runAll(s.dir, s.other)
      rmSync(path.join(mnt, "filler"))
      rmSync(s.dir, { recursive: true, force: true })
    }, 60_000)
    expectations(() => r, /the disk is full/)
  })

  describe("remounted read-only", () => {
    let r: Results
    beforeAll(async () => {
      const s = await scene(mnt, "read-only")
      const m = spawnSync("mount", ["-o", "remount,ro", mnt], { encoding: "utf8", timeout: 10_000 })
      if (m.status !== 0) throw new Error(`remount failed: ${m.stderr}`)
      r = await runAll(s.dir, s.other)
    }, 60_000)
    expectations(() => r, /read-only/)
  })
})

describe.skipIf(isRoot)(`faults: chmod -R a-w${skipNote(isRoot ? "needs a non-root user (root ignores file modes)" : undefined)}`, () => {
  let s: Scene
  let r: Results
  const setMode = (p: string, w: boolean) => {
    const st = statSync(p)
    chmodSync(p, w ? st.mode | 0o200 : st.mode & ~0o222)
    if (st.isDirectory()) for (const n of readdirSync(p)) setMode(path.join(p, n), w)
  }
  beforeAll(async () => {
    assertBuilt("service/runs.js", "index.js")
    s = await scene()
    setMode(path.join(s.dir, ".alloy"), false)
    setMode(path.join(s.dir, "foundry"), false)
    r = await runAll(s.dir, s.other)
  }, 60_000)
  afterAll(() => {
    if (!s) return
    setMode(path.join(s.dir, ".alloy"), true)
    setMode(path.join(s.dir, "foundry"), true)
    s.cleanup()
  })
  expectations(() => r, /permission denied/)
})
