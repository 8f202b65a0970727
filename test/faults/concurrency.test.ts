/**
 * Issue #5, part 3: 8 concurrent builders and 8 concurrent exporters (separate processes running
 * the built package against one project) lose nothing and corrupt nothing.
 *
 * Builders: 4 build the same brief from unchanged sources (racing to create the same object and
 * write the same ref), 4 each rewrite their own intent and build their own brief (new objects,
 * moving refs) — all of them resolving the pinned cycle after every build (readers during writes).
 * Exporters: each exports its own stage runs and the same shared ones; every run must end up
 * recorded exactly once, with exactly one `stage_ended` event, and every line whole.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { AlloyContext } from "../../src/service/context.js"
import { buildBrief } from "../../src/service/build.js"
import { verifyAllPins } from "../../src/service/verify-pins.js"
import { readEvents, readRecords } from "../../src/store/outbox.js"
import { assertBuilt, checkStore, startWorker, type Worker } from "./store-check.js"

const N = 8
const ITERATIONS = 12
const MAX_MS = 15_000

async function runAll(workers: Worker[]): Promise<Array<{ code: number | null; signal: string | null; stdout: string; stderr: string }>> {
  await Promise.all(workers.map((w) => w.ready))
  for (const w of workers) w.go()
  return Promise.all(workers.map((w) => w.done))
}

describe("concurrent writers lose and corrupt nothing", () => {
  let p: PinnedProject
  beforeAll(async () => {
    assertBuilt("service/runs.js")
    p = await makePinnedProject()
  })
  afterAll(() => p?.cleanup())

  it(`${N} concurrent builders (same brief and different briefs)`, { timeout: 40_000 }, async () => {
    const ctx = new AlloyContext(p.dir)
    // briefs b-4..b-7, each built from its own intent i-4..i-7 (copies of the example intent)
    const intentText = readFileSync(path.join(p.dir, ".alloy/intents/release-note-voice.md"), "utf8")
    const recipeText = readFileSync(path.join(p.dir, ".alloy/briefs/release-note-voice.md"), "utf8")
    for (let k = N / 2; k < N; k++) {
      writeFileSync(path.join(p.dir, `.alloy/intents/i-${k}.md`), intentText.replace(/^id: release-note-voice$/m, `id: i-${k}`))
      writeFileSync(path.join(p.dir, `.alloy/briefs/b-${k}.md`), recipeText.replace(/^id: release-note-voice$/m, `id: b-${k}`).replace(/^ {2}- release-note-voice$/m, `  - i-${k}`))
    }
    const shared = buildBrief(ctx, "release-note-voice").digest
    const workers = Array.from({ length: N }, (_, k) =>
      startWorker(
        "store-ops.mjs",
        k < N / 2 ? ["build-same", p.dir, String(ITERATIONS), String(MAX_MS), "release-note-voice"] : ["build", p.dir, String(ITERATIONS), String(MAX_MS), `b-${k}`, `i-${k}`, `w${k}`],
        { waitGo: true, timeoutMs: 35_000, env: { ALLOY_WORKER_READ_CYCLE: "draft-release-note" } },
      ),
    )
    const results = await runAll(workers)
    results.forEach((r, k) => expect(`worker ${k}: exit ${r.code} ${r.signal ?? ""} ${r.stderr}`.trim()).toBe(`worker ${k}: exit 0`))

    const built = results.map((r) =>
      r.stdout
        .split("\n")
        .filter((l) => l.startsWith("built "))
        .map((l) => l.slice(6)),
    )
    const s = checkStore(p.dir)
    expect(s.problems.join("\n")).toBe("")
    expect(s.tempFiles, "no temp file is left behind by a finished writer").toEqual([])
    // nothing lost: every digest any builder reported is stored and verifies; each ref is its writer's last build
    for (const [k, digests] of built.entries()) {
      expect(digests.length, `builder ${k} finished its iterations`).toBeGreaterThan(0)
      if (k < N / 2) expect(new Set(digests), `builder ${k}: identical sources, identical digest`).toEqual(new Set([shared]))
      else expect(s.refs.get(`b-${k}`), `brief b-${k}: the ref is its builder's last build`).toBe(digests.at(-1))
      for (const d of digests) expect(ctx.store.hasObject(d), `object ${d} of builder ${k}`).toBe(true)
    }
    expect(s.refs.get("release-note-voice")).toBe(shared)
    const distinct = new Set(built.flat())
    expect(s.objects, "every distinct build is one object").toBeGreaterThanOrEqual(distinct.size)
    expect(verifyAllPins(ctx).ok).toBe(true)
    console.log(`${N} concurrent builders: ${built.flat().length} builds, ${distinct.size} distinct objects, ${s.objects} objects stored, 0 problems`)
  })

  it(`${N} concurrent exporters (own and shared stage runs)`, { timeout: 40_000 }, async () => {
    const digest = checkStore(p.dir).pins.get("cycle draft-release-note")!
    const before = readRecords(p.dir).records.length
    const eventsBefore = readEvents(p.dir).events.length
    const workers = Array.from({ length: N }, (_, k) =>
      startWorker("store-ops.mjs", ["export", p.dir, String(ITERATIONS), String(MAX_MS), `w${k}`, "shared"], {
        waitGo: true,
        timeoutMs: 35_000,
        env: { ALLOY_WORKER_PIN: digest },
      }),
    )
    const results = await runAll(workers)
    results.forEach((r, k) => expect(`worker ${k}: exit ${r.code} ${r.signal ?? ""} ${r.stderr}`.trim()).toBe(`worker ${k}: exit 0`))
    const lines = results.flatMap((r) =>
      r.stdout
        .split("\n")
        .filter((l) => l.startsWith("exported "))
        .map((l) => l.split(" ")),
    )
    const own = lines.filter((l) => !l[3]!.startsWith("shared-"))
    const sharedRuns = lines.filter((l) => l[3]!.startsWith("shared-"))
    expect(own.length, "every worker exported all its own runs").toBe(N * ITERATIONS)
    expect(
      own.every((l) => l[2] === "true"),
      "an own run is new",
    ).toBe(true)
    // exactly once: each shared run was created by one exporter, seen as existing by the others
    const createdByMarker = new Map<string, number>()
    for (const l of sharedRuns) createdByMarker.set(l[3]!, (createdByMarker.get(l[3]!) ?? 0) + (l[2] === "true" ? 1 : 0))
    expect(createdByMarker.size).toBe(ITERATIONS)
    for (const [m, n] of createdByMarker) expect(n, `shared run ${m} created exactly once`).toBe(1)

    const s = checkStore(p.dir)
    expect(s.problems.join("\n")).toBe("")
    expect(s.tempFiles).toEqual([])
    expect(s.tornEvents).toBe(0)
    const records = readRecords(p.dir).records
    expect(records.length - before, "nothing lost: one record per stage run").toBe(N * ITERATIONS + ITERATIONS)
    expect(new Set(records.map((r) => r.idempotency_key)).size).toBe(records.length)
    expect(new Set(records.map((r) => r.run_id)).size, "run ids are unique").toBe(records.length)
    const events = readEvents(p.dir).events.slice(eventsBefore)
    expect(events.length, "one stage_ended event per created record, every line whole").toBe(N * ITERATIONS + ITERATIONS)
    expect(new Set(events.map((e) => e.run_id)).size).toBe(events.length)
    console.log(`${N} concurrent exporters: ${lines.length} exports, ${records.length - before} records, ${events.length} events, 0 problems`)
  })
})
