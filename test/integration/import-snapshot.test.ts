/**
 * Import from the sample project's WORK files and synthetic dry-run snapshots (current and older
 * bundle): the expected observations and verdicts; a second import changes nothing.
 */
import { readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { discoverSources, importAll, importSnapshot, importOutbox } from "../../src/evidence/import.js"
import { loadEvidence, satisfactionSummary } from "../../src/evidence/model.js"
import { readRecords, runPaths } from "../../src/store/outbox.js"
import { RunRecordSchema } from "../../src/core/run-record.js"
import { makeEvidenceProject, EXPECTED, GATE, NOTE_FINAL, NOTE_PATH, type EvidenceProject } from "./import-fixtures.js"
import { makePinnedProject } from "../helpers/project.js"
import { sha256Hex } from "../../src/core/digest.js"
import { snapshotTree } from "../helpers/tree.js"

describe("import: sample WORK files + dry-run snapshots", () => {
  let p: EvidenceProject
  beforeAll(async () => {
    p = await makeEvidenceProject()
  })
  afterAll(() => p?.cleanup())

  test("the first import finds both snapshots and the work tree and writes one record per stage run", () => {
    const r = importAll(p.ctx)
    expect(r.ok).toBe(true)
    expect(r.sources.map((s) => [s.kind, s.ref, s.records, s.created, s.warnings])).toEqual([
      ["snapshot", ".snapshots/dry-run-config-a11y-release-notes-checkout-01JWB00000000000000000000B", 10, 10, []],
      ["snapshot", ".snapshots/dry-run-config-voice-release-notes-checkout-01JVXA0000000000000000000A", 6, 6, []],
      ["worktree", ".", 6, 6, []],
    ])
    const { records, problems } = readRecords(p.dir)
    expect(problems).toEqual([])
    expect(records).toHaveLength(22)
    for (const rec of records) {
      expect(RunRecordSchema.safeParse(rec).success).toBe(true)
      expect(rec.source).toBe("import")
    }
    // pins: snapshot A ran under the older build (from its trace), B and the work tree under the current one
    const pinsBy = (ref: string) => new Set(records.filter((x) => x.origin?.ref.includes(ref)).map((x) => `${x.pin?.digest}/${x.pin_source}`))
    expect(pinsBy("01JVXA")).toEqual(new Set([`${p.olderDigest}/trace`]))
    expect(pinsBy("01JWB")).toEqual(new Set([`${p.digest}/trace`]))
    expect(pinsBy(".")).toEqual(new Set([`${p.digest}/worktree`]))
    // forge stages got their start times from the trace
    const forges = records.filter((x) => x.origin?.ref.includes("01JWB") && x.stage.startsWith("forge:"))
    expect(forges.map((x) => x.started_at)).toEqual(["2026-05-27T10:00:10.000Z", "2026-05-27T10:01:00.000Z", "2026-05-27T10:04:30.000Z"])
    const finish = records.find((x) => x.stage === "finish" && x.origin?.ref.includes("01JWB"))!
    expect(finish.artefacts).toEqual([{ path: NOTE_PATH, state: "new", sha256: sha256Hex(NOTE_FINAL) }])
  })

  test("a second import adds nothing and changes no file", () => {
    const before = snapshotTree(runPaths(p.dir).records)
    const r = importAll(p.ctx)
    expect(r.ok).toBe(true)
    expect(r.created).toBe(0)
    expect(r.existing).toBe(22)
    expect(snapshotTree(runPaths(p.dir).records)).toEqual(before)
  })

  test("verdicts: satisfied, stale, failing, unproven, waived, each for the expected reason", () => {
    const m = loadEvidence(p.ctx)
    expect(m.problems).toEqual([])
    const verdicts = Object.fromEntries(m.intents.flatMap((i) => i.criteria.map((c) => [c.ref, c.verdict])))
    expect(verdicts).toEqual(EXPECTED)
    const c = new Map(m.intents.flatMap((i) => i.criteria.map((x) => [x.ref, x] as const)))
    expect(c.get("release-note-voice#AC-1")!.reason).toMatch(/quench:draft-release-note ran law:word-limit:count-words .*no issues/)
    expect(c.get("release-note-voice#AC-2")!.reason).toMatch(/law:alloy--release-note-voice--ac-2 resolved/)
    expect(c.get("release-note-voice#AC-3")!.reason).toContain(`older bundle (${p.olderDigest.slice(0, 19)}`)
    expect(c.get("release-note-voice#AC-4")!.reason).toMatch(/human open: AC-4: drop the exclamation mark/)
    expect(c.get("release-note-voice#AC-5")!.reason).toBe(`the final diff includes ${NOTE_PATH}`)
    expect(c.get("release-note-accessibility#AC-1")!.reason).toMatch(/open: The link now reads "this page"/)
    expect(c.get("release-note-accessibility#AC-3")!.reason).toMatch(/Marketing requires the emoji/)
    expect(Object.fromEntries(m.intents.map((i) => [i.id, i.verdict]))).toEqual({ "release-note-voice": "failing", "release-note-accessibility": "failing" })
    expect(m.counts).toEqual({ satisfied: 3, failing: 2, stale: 1, unproven: 1, waived: 1, contested: 0 })
  })

  test("observations keep their provenance; the older bundle is marked", () => {
    const m = loadEvidence(p.ctx)
    const ac3 = m.observations.filter((o) => o.criterion === "release-note-voice#AC-3")
    expect(ac3.length).toBeGreaterThan(0)
    for (const o of ac3) {
      expect(o.older_bundle).toBe(true)
      expect(o.provenance.digest).toBe(p.olderDigest)
      expect(o.provenance.origin).toMatch(/^snapshot dry-run-config-voice/)
    }
    const resolved = m.observations.find((o) => o.criterion === "release-note-voice#AC-2" && o.outcome === "pass")!
    expect(resolved.provenance).toMatchObject({
      stage: "appraise:draft-release-note",
      by_stage: "appraise:draft-release-note",
      digest: p.digest,
      brief_id: "release-note-voice",
      cycle: "draft-release-note",
    })
    expect(resolved.provenance.run_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(resolved.current).toBe(true)
    expect(resolved.feedback_id).toBe("01JWB000000000000000000002")
    // the sample's own appraisal item maps to AC-2 through the law the intent declares, under the current build
    const sampleItem = m.observations.find((o) => o.feedback_id === "01KSF9HJJPKJHQQYVC7CFFEJFB")!
    expect(sampleItem).toMatchObject({ criterion: "release-note-voice#AC-2", outcome: "fail", current: true })
    expect(m.observations.some((o) => o.summary.includes(GATE.a11y3) && o.outcome === "waived" && o.reason?.includes("Marketing"))).toBe(true)
  })

  test("satisfactionSummary gives status its lines and JSON", () => {
    const s = satisfactionSummary(p.ctx)
    expect(s.lines[0]).toBe("Satisfaction: 8 criteria in 2 intents — 2 failing, 1 stale, 1 unproven, 1 waived, 3 satisfied (22 run records)")
    expect(s.lines.some((l) => /release-note-voice\s+FAILING/.test(l))).toBe(true)
    expect(s.json.intents.find((i) => i.id === "release-note-accessibility")!.criteria.map((c) => c.verdict)).toEqual(["failing", "unproven", "waived"])
  })
})

describe("import: single sources and failures", () => {
  test("the sample WORK files alone: AC-2 fails on the declared law, AC-1 passes quench, AC-3/AC-4 unproven", async () => {
    const p = await makePinnedProject()
    try {
      const r = importAll(p.ctx)
      expect(r.sources.map((s) => s.kind)).toEqual(["worktree"])
      const m = loadEvidence(p.ctx)
      expect(Object.fromEntries(m.intents[0]!.criteria.map((c) => [c.id, c.verdict]))).toEqual({ "AC-1": "satisfied", "AC-2": "failing", "AC-3": "unproven", "AC-4": "unproven", "AC-5": "satisfied" })
    } finally {
      p.cleanup()
    }
  })

  test("a folder that is not a snapshot is refused with a fix; other sources still import", async () => {
    const p = await makeEvidenceProject()
    try {
      const notSnap = path.join(p.dir, "not-a-snapshot")
      mkdirSync(notSnap)
      expect(() => importSnapshot(p.ctx, notSnap)).toThrowError(/not a dry-run snapshot/)
      const r = importAll(p.ctx, [
        { kind: "snapshot", ref: notSnap },
        { kind: "snapshot", ref: p.snapshotB },
      ])
      expect(r.ok).toBe(false)
      expect(r.sources[0]!.error).toMatchObject({ code: "usage" })
      expect(r.sources[0]!.error!.fix).toMatch(/\.snapshots/)
      expect(r.sources[1]!.created).toBe(10)
    } finally {
      p.cleanup()
    }
  })

  test("a corrupt WORK.feedback.yaml in a snapshot names the file", async () => {
    const p = await makeEvidenceProject()
    try {
      writeFileSync(path.join(p.snapshotA, "work", "WORK.feedback.yaml"), "items:\n  - id: [unclosed\n")
      const r = importAll(p.ctx, [{ kind: "snapshot", ref: p.snapshotA }])
      expect(r.ok).toBe(false)
      expect(r.sources[0]!.error!.code).toBe("malformed")
      expect(r.sources[0]!.error!.message).toContain("work/WORK.feedback.yaml")
    } finally {
      p.cleanup()
    }
  })

  test("without a pin in the trace, the work-tree pin is used and the import says so", async () => {
    const p = await makeEvidenceProject()
    try {
      rmSync(path.join(p.snapshotB, "trace.jsonl"))
      const r = importAll(p.ctx, [{ kind: "snapshot", ref: p.snapshotB }])
      expect(r.sources[0]!.warnings.join("\n")).toMatch(/no trace.jsonl/)
      expect(r.sources[0]!.warnings.join("\n")).toMatch(/pin read from the work tree/)
      const { records } = readRecords(p.dir)
      expect(new Set(records.map((x) => x.pin_source))).toEqual(new Set(["worktree"]))
    } finally {
      p.cleanup()
    }
  })

  test("a pin the trace recorded is read as Foundry parsed it; a malformed one is named and the work-tree pin used", async () => {
    const p = await makeEvidenceProject()
    try {
      const file = path.join(p.snapshotB, "trace.jsonl")
      const lines = readFileSync(file, "utf8").trimEnd().split("\n")
      const broken = lines.map((l) => {
        const r = JSON.parse(l) as { tool: string; result: { frontmatter?: { alloy?: Record<string, unknown> } } }
        if (r.tool === "foundry_config_cycle") r.result.frontmatter!.alloy = { brief_id: "release-note-voice" }
        return JSON.stringify(r)
      })
      writeFileSync(file, `${broken.join("\n")}\n`)
      const r = importAll(p.ctx, [{ kind: "snapshot", ref: p.snapshotB }])
      const warnings = r.sources[0]!.warnings.join("\n")
      expect(warnings).toContain("trace.jsonl (foundry_config_cycle draft-release-note)")
      expect(warnings).toContain("`alloy.digest` is missing; its runs are imported without a pin")
      expect(warnings).toMatch(/pin read from the work tree/)
      expect(new Set(readRecords(p.dir).records.map((x) => x.pin_source))).toEqual(new Set(["worktree"]))
    } finally {
      p.cleanup()
    }
  })

  test("an outbox from another work tree is copied as is, once", async () => {
    const a = await makeEvidenceProject()
    const b = await makePinnedProject()
    try {
      importAll(a.ctx, [{ kind: "snapshot", ref: a.snapshotB }])
      const first = importOutbox(b.ctx, a.ctx.store.runsDir)
      expect(first).toMatchObject({ records: 10, created: 10, existing: 0 })
      expect(importOutbox(b.ctx, a.ctx.store.runsDir)).toMatchObject({ created: 0, existing: 10 })
      // our own outbox is only checked
      expect(importOutbox(b.ctx, b.ctx.store.runsDir)).toMatchObject({ created: 0, existing: 10 })
      expect(statSync(path.join(runPaths(b.dir).records)).isDirectory()).toBe(true)
    } finally {
      a.cleanup()
      b.cleanup()
    }
  })

  test("every snapshot is found, past a thousand (no silent cap)", async () => {
    const p = await makePinnedProject()
    try {
      const n = 1005
      for (let i = 0; i < n; i++) {
        const d = path.join(p.dir, ".snapshots", `dry-run-${String(i).padStart(4, "0")}`)
        mkdirSync(d, { recursive: true })
        writeFileSync(path.join(d, "README.md"), "---\nflow: release-notes\n---\n")
      }
      const found = discoverSources(p.ctx).filter((s) => s.kind === "snapshot")
      expect(found).toHaveLength(n)
      expect(path.basename(found[n - 1]!.ref)).toBe("dry-run-1004")
    } finally {
      p.cleanup()
    }
  })
})
