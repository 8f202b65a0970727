// Crash safety and concurrency of the run exporter, with real processes running the BUILT
// exporter (dist/, from `npm run build`): kill -9 in the middle of writing ~1 MB records leaves no
// half record and no torn event line; 8 processes exporting at once lose nothing and duplicate nothing.
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { RunEventSchema, RunRecordSchema } from "../../src/core/run-record.js"
import { readEvents, readRecords } from "../../src/store/outbox.js"
import { STALE_TEMP_MS, sweepStaleTemps } from "../../src/store/atomic.js"
import { REPO_ROOT } from "../helpers/project.js"

const CHILD = path.join(REPO_ROOT, "test", "faults", "workers", "export-child.mjs")
const DIST_RUNS = path.join(REPO_ROOT, "dist", "service", "runs.js")
const SOURCES = ["src/service/runs.ts", "src/store/atomic.ts", "src/core/run-record.ts"]

beforeAll(() => {
  if (!existsSync(DIST_RUNS)) throw new Error("dist/service/runs.js is missing: run `npm run build` before these tests")
  const built = statSync(DIST_RUNS).mtimeMs
  for (const s of SOURCES) {
    if (statSync(path.join(REPO_ROOT, s)).mtimeMs > built + 1000) throw new Error(`dist/ is older than ${s}: run \`npm run build\` before these tests`)
  }
})

const roots: string[] = []
afterEach(() => {
  while (roots.length) rmSync(roots.pop()!, { recursive: true, force: true })
})
function tempRoot(): string {
  const r = mkdtempSync(path.join(os.tmpdir(), "alloy-runs-"))
  roots.push(r)
  return r
}

function run(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (b) => (stdout += String(b)))
  child.stderr!.on("data", (b) => (stderr += String(b)))
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  return { child, done }
}

/** Every `<64 hex>.json` is a whole, valid record; everything else is a leftover temp file. */
function checkRecordsDir(root: string): { records: number; temps: string[] } {
  const dir = path.join(root, ".alloy", "runs", "records")
  const names = existsSync(dir) ? readdirSync(dir) : []
  let records = 0
  const temps: string[] = []
  for (const n of names) {
    if (/^[0-9a-f]{64}\.json$/.test(n)) {
      const text = readFileSync(path.join(dir, n), "utf8")
      const parsed = RunRecordSchema.safeParse(JSON.parse(text))
      expect(parsed.success, `${n} is not a valid record`).toBe(true)
      expect(`${n.slice(0, 64)}`).toBe(parsed.data!.idempotency_key)
      records++
    } else {
      expect(n, "unexpected file in records/").toMatch(/^\..+\.tmp$/)
      temps.push(n)
    }
  }
  return { records, temps }
}

function checkEventLines(root: string): number {
  const file = path.join(root, ".alloy", "runs", "events.jsonl")
  if (!existsSync(file)) return 0
  const text = readFileSync(file, "utf8")
  if (text.length) expect(text.endsWith("\n"), "events.jsonl ends in a torn line").toBe(true)
  const lines = text.split("\n").filter(Boolean)
  for (const l of lines) expect(RunEventSchema.safeParse(JSON.parse(l)).success, l.slice(0, 200)).toBe(true)
  return lines.length
}

describe("run exporter under crashes and concurrency (real processes)", () => {
  it("kill -9 in the middle of writing leaves no half record and no torn event line", async () => {
    const root = tempRoot()
    let killedMidway = 0
    for (let round = 0; round < 5; round++) {
      const { child, done } = run([root, "loop", `k${round}`, "400"])
      // wait until it is writing, then kill it at a different moment each round
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("child did not start within 15 s")), 15_000)
        child.stderr!.on("data", (b) => {
          if (String(b).includes("ready")) {
            clearTimeout(t)
            resolve()
          }
        })
      })
      await new Promise((r) => setTimeout(r, 15 + round * 23))
      child.kill("SIGKILL")
      const res = await done
      expect(res.signal).toBe("SIGKILL")
      const { temps } = checkRecordsDir(root)
      if (temps.length) killedMidway++
    }
    const { records } = checkRecordsDir(root)
    const events = checkEventLines(root)
    expect(records).toBeGreaterThan(0)
    // a kill between the record's link and its event line can lose an event, never add one
    expect(events).toBeLessThanOrEqual(records)
    const byRun = new Set(readRecords(root).records.map((r) => r.run_id))
    for (const e of readEvents(root).events) expect(byRun.has(e.run_id!), `event for a record that does not exist: ${e.run_id}`).toBe(true)
    console.log(`[crash] 5 kills: ${records} whole records, ${events} events, ${killedMidway} kill(s) left a temp file behind (ignored by readers)`)

    // leftover temp files are swept once they are old enough; whole records are never touched
    const dir = path.join(root, ".alloy", "runs", "records")
    const { temps } = checkRecordsDir(root)
    expect(sweepStaleTemps(dir)).toBe(0)
    const old = (Date.now() - STALE_TEMP_MS - 60_000) / 1000
    for (const n of temps) utimesSync(path.join(dir, n), old, old)
    expect(sweepStaleTemps(dir)).toBe(temps.length)
    expect(checkRecordsDir(root)).toEqual({ records, temps: [] })
  }, 120_000)

  it("8 processes exporting at once lose nothing and write each shared stage run once", async () => {
    const root = tempRoot()
    const OWN = 25
    const SHARED = 5
    const children = Array.from({ length: 8 }, (_, i) => run([root, "batch", `p${i}`, String(OWN), String(SHARED)]))
    const results = await Promise.all(children.map((c) => c.done))
    for (const r of results) expect(r.code, r.stderr).toBe(0)
    const created = results.map((r) => (JSON.parse(r.stdout) as { created: number }).created).reduce((a, b) => a + b, 0)
    const expected = 8 * OWN + SHARED
    expect(created).toBe(expected)
    const { records, temps } = checkRecordsDir(root)
    expect(records).toBe(expected)
    expect(temps).toEqual([])
    expect(checkEventLines(root)).toBe(expected)
    const recs = readRecords(root).records
    const events = readEvents(root).events
    expect(new Set(recs.map((r) => r.run_id)).size).toBe(expected)
    expect(new Set(events.map((e) => e.run_id))).toEqual(new Set(recs.map((r) => r.run_id)))
    expect(
      recs
        .filter((r) => r.summary?.startsWith("shared "))
        .map((r) => r.summary)
        .sort(),
    ).toEqual(["shared 0", "shared 1", "shared 2", "shared 3", "shared 4"])
    expect(readFileSync(path.join(root, ".alloy", "runs", ".gitignore"), "utf8")).toBe("*\n")
  }, 120_000)
})
