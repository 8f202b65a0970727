/**
 * Issue #5, part 3: `kill -9` during build, pin and export. A worker process (the built package)
 * repeats the operation; the test kills it with SIGKILL after a random short delay, round after
 * round (bounded by count and time), and after every kill checks that only whole files are left:
 * objects hash to their names, refs hold a digest whose object verifies, the cycle holds the old
 * pin or the new one (byte-for-byte one of the two texts), run records validate. Stray temp files
 * are allowed only with Alloy's dot-prefixed temp names; they are counted and reported.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { verifyAllPins } from "../../src/service/verify-pins.js"
import { AlloyContext } from "../../src/service/context.js"
import { assertBuilt, checkStore, sleep, startWorker } from "./store-check.js"

const ROUNDS = 16
const MAX_MS = 10_000
const MAX_DELAY_MS = 80

interface Tally {
  rounds: number
  killedMidRun: number
  iterations: number
  tempFiles: number
}

/** Run kill rounds: start the worker, wait until it is ready, let it work 0–80 ms, SIGKILL, check. */
async function killRounds(args: () => string[], check: (round: number) => void, env?: NodeJS.ProcessEnv): Promise<Tally> {
  const t: Tally = { rounds: 0, killedMidRun: 0, iterations: 0, tempFiles: 0 }
  const start = Date.now()
  for (let round = 0; round < ROUNDS && Date.now() - start < MAX_MS; round++) {
    const w = startWorker("store-ops.mjs", args(), { timeoutMs: 15_000, ...(env ? { env } : {}) })
    await w.ready
    await sleep(Math.random() * MAX_DELAY_MS)
    w.child.kill("SIGKILL")
    const r = await w.done
    if (r.code === 3) throw new Error(`round ${round}: the worker failed before the kill: ${r.stderr}`)
    t.rounds++
    if (r.signal === "SIGKILL" && !r.stdout.includes("done\n")) t.killedMidRun++
    t.iterations += r.stdout.split("\n").filter((l) => /^(built|pinned|exported) /.test(l)).length
    check(round)
  }
  return t
}

function report(what: string, t: Tally, temps: number): void {
  console.log(`kill -9 during ${what}: ${t.rounds} rounds (${t.killedMidRun} killed mid-run, ${t.iterations} operations completed in all); ` + `stray dot-prefixed temp files left: ${temps}`)
}

describe("kill -9 leaves only whole files", () => {
  // each operation gets its own pinned project, so one failure cannot cascade into the next
  let p: PinnedProject
  beforeAll(() => assertBuilt("service/runs.js"))
  beforeEach(async () => {
    p = await makePinnedProject()
  })
  afterEach(() => p?.cleanup())

  it("during build (intent rewritten, bundle built, object stored, ref moved)", { timeout: 30_000 }, async () => {
    const before = checkStore(p.dir)
    expect(before.problems.join("\n")).toBe("")
    const pinned = before.pins.get("cycle draft-release-note")!
    let tag = 0
    const t = await killRounds(
      () => ["build", p.dir, "1000", "5000", "release-note-voice", "release-note-voice", `k${tag++}`],
      (round) => {
        const s = checkStore(p.dir)
        expect(s.problems.join("\n"), `after kill ${round}`).toBe("")
        expect(s.refs.get("release-note-voice"), `after kill ${round}: the ref`).toBeDefined()
        // the pinned object is immutable and still there
        expect(s.pins.get("cycle draft-release-note"), `after kill ${round}: the pin`).toBe(pinned)
      },
    )
    const s = checkStore(p.dir)
    report("build", t, s.tempFiles.length)
    expect(t.rounds).toBeGreaterThanOrEqual(5)
    expect(t.iterations, "the worker got work done between kills").toBeGreaterThan(0)
    // the store still works: a clean build and every pin verifies
    const ctx = new AlloyContext(p.dir)
    buildBrief(ctx, "release-note-voice")
    expect(verifyAllPins(ctx).ok).toBe(true)
  })

  it("during pin (the cycle's alloy block rewritten, A, B, A, ...)", { timeout: 30_000 }, async () => {
    const ctx = new AlloyContext(p.dir)
    const cycleFile = path.join(p.dir, "foundry/cycles/draft-release-note.md")
    // two builds A and B, and the exact cycle text for each pin
    const intentFile = path.join(p.dir, ".alloy/intents/release-note-voice.md")
    const a = buildBrief(ctx, "release-note-voice").digest
    writeFileSync(intentFile, readFileSync(intentFile, "utf8").replace(/^goal: (.*)$/m, "goal: $1 (pin test)"))
    const b = buildBrief(ctx, "release-note-voice").digest
    expect(b).not.toBe(a)
    pinBrief(ctx, { cycle: "draft-release-note", brief_id: "release-note-voice", digest: b })
    const textB = readFileSync(cycleFile, "utf8")
    pinBrief(ctx, { cycle: "draft-release-note", brief_id: "release-note-voice", digest: a })
    const textA = readFileSync(cycleFile, "utf8")
    expect(textA).not.toBe(textB)

    const t = await killRounds(
      () => ["pin", p.dir, "1000", "5000", "draft-release-note", "release-note-voice", a, b],
      (round) => {
        const text = readFileSync(cycleFile, "utf8")
        expect([textA, textB].includes(text), `after kill ${round}: the cycle file is the old or the new text, whole`).toBe(true)
        const s = checkStore(p.dir)
        expect(s.problems.join("\n"), `after kill ${round}`).toBe("")
        expect([a, b]).toContain(s.pins.get("cycle draft-release-note"))
      },
    )
    report("pin", t, checkStore(p.dir).tempFiles.length)
    expect(t.rounds).toBeGreaterThanOrEqual(5)
    expect(t.iterations).toBeGreaterThan(0)
    expect(verifyAllPins(ctx).ok).toBe(true)
  })

  it("during export (run records created once, events appended)", { timeout: 30_000 }, async () => {
    const digest = checkStore(p.dir).pins.get("cycle draft-release-note")!
    let round = 0
    const t = await killRounds(
      () => ["export", p.dir, "1000", "5000", `kill${round++}`],
      (r) => {
        const s = checkStore(p.dir)
        expect(s.problems.join("\n"), `after kill ${r}`).toBe("")
      },
      { ALLOY_WORKER_PIN: digest },
    )
    const s = checkStore(p.dir)
    report("export", t, s.tempFiles.length)
    console.log(`  export: ${s.records} run records, ${s.events} events, ${s.tornEvents} torn last event line(s)`)
    expect(t.rounds).toBeGreaterThanOrEqual(5)
    expect(s.records).toBeGreaterThan(0)
    // a crash can land between a record and its event, never the other way round
    expect(s.events).toBeLessThanOrEqual(s.records)
    expect(s.events).toBeGreaterThanOrEqual(s.records - t.killedMidRun)
  })
})
