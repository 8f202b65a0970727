// The CI gate misses nothing: `verify` reads the same facts as `status` (one pin scan), names
// each problem by a stable code, fails on errors, and with --strict on every warning; its JSON
// matches the alloy.verify/v1 schema in core.
import { describe, expect, it } from "vitest"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { VerifyReportSchema, type VerifyReport } from "../../src/core/verify-report.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { projectStatus } from "../../src/service/status.js"
import { scratch } from "../helpers/project.js"
import { runCli } from "../helpers/cli.js"

const tmp = scratch()

/** verify --json (and --strict): exit codes and the parsed, schema-checked report. */
async function verify(dir: string): Promise<{ plain: number; strict: number; report: VerifyReport; strictReport: VerifyReport; text: string }> {
  const j = await runCli(dir, "verify", "--json")
  const s = await runCli(dir, "verify", "--json", "--strict")
  const t = await runCli(dir, "verify", "--strict")
  return { plain: j.code, strict: s.code, report: VerifyReportSchema.parse(JSON.parse(j.out)), strictReport: VerifyReportSchema.parse(JSON.parse(s.out)), text: t.out }
}

const codes = (r: VerifyReport) => r.findings.map((f) => f.code)
const edit = (file: string, from: string | RegExp, to: string) => writeFileSync(file, readFileSync(file, "utf8").replace(from, to))

describe("verify: the CI gate", () => {
  it("passes on the clean project, also with --strict, with no findings", async () => {
    const p = await tmp.pinned()
    const v = await verify(p.dir)
    expect(v.plain).toBe(0)
    expect(v.strict).toBe(0)
    expect(v.report.findings).toEqual([])
    expect(v.report).toMatchObject({ $type: "alloy.verify/v1", ok: true, errors: 0, warning_count: 0 })
  })

  it("source drift: an intent edited but not rebuilt is a warning (source_drift); --strict fails; status says the same", async () => {
    const p = await tmp.pinned()
    edit(path.join(p.dir, ".alloy", "intents", `${p.briefId}.md`), "at most 150 words", "at most 120 words")
    const v = await verify(p.dir)
    expect(v.plain).toBe(0)
    expect(v.strict).toBe(1)
    expect(codes(v.report)).toEqual(["source_drift"])
    expect(v.report.findings[0]).toMatchObject({ severity: "warning", brief: p.briefId })
    expect(v.report.findings[0]!.message).toContain(`intent ${p.briefId} changed since the build`)
    expect(v.text).toContain("[source_drift]")
    const s = projectStatus(p.ctx)
    expect(s.briefs[0]).toMatchObject({ needs_build: true, changed_sources: [`intent ${p.briefId}`] })
    expect(s.findings.map((f) => f.code)).toEqual(["source_drift"])
    // a rebuild clears the drift; the pin is then behind (also a warning)
    buildBrief(p.ctx, p.briefId)
    expect(codes((await verify(p.dir)).report)).toEqual(["pin_behind"])
  })

  it("a recipe edited but not rebuilt is drift too", async () => {
    const p = await tmp.pinned()
    edit(path.join(p.dir, ".alloy", "briefs", `${p.briefId}.md`), "Read the note as a returning customer", "Read the note as a new customer")
    const v = await verify(p.dir)
    expect(codes(v.report)).toEqual(["source_drift"])
    expect(v.report.findings[0]!.message).toContain(`recipe ${p.briefId}`)
    expect(v.strict).toBe(1)
  })

  it("dangling formation: a formation naming a deleted cycle is formation_dangling; --strict fails", async () => {
    const p = await tmp.pinned()
    rmSync(path.join(p.dir, "foundry", "cycles", "condense-changelog-entry.md"))
    const recipe = path.join(p.dir, ".alloy", "briefs", `${p.briefId}.md`)
    edit(recipe, "    - draft-release-note\n", "    - draft-release-note\n    - gone-cycle\n")
    buildBrief(p.ctx, p.briefId)
    pinBrief(p.ctx, { cycle: p.cycle, brief_id: p.briefId })
    const v = await verify(p.dir)
    expect(v.plain).toBe(0)
    expect(v.strict).toBe(1)
    expect(codes(v.report)).toEqual(["formation_dangling"])
    expect(v.report.findings[0]).toMatchObject({ cycle: "gone-cycle", brief: p.briefId })
    // the fix names the cycles there are (a bounded list), then what to do instead
    expect(v.report.findings[0]!.fix).toBe("the cycles here are: draft-release-note; otherwise remove it from the formation and rebuild, or restore the cycle")
  })

  it("shadowed pin: a cycle pin that differs from its flow's pin is pin_shadowed; a pin outside the brief's formation is pin_outside_formation", async () => {
    const p = await tmp.pinned()
    // a second brief from the same intent, for the flow
    writeFileSync(path.join(p.dir, ".alloy", "briefs", "flow-voice.md"), "---\nid: flow-voice\nintents:\n  - release-note-voice\nformation:\n  flow: release-notes\n---\n")
    buildBrief(p.ctx, "flow-voice")
    pinBrief(p.ctx, { flow: "release-notes", brief_id: "flow-voice" })
    let v = await verify(p.dir)
    expect(codes(v.report)).toEqual(["pin_shadowed"])
    expect(v.report.findings[0]).toMatchObject({ cycle: p.cycle, flow: "release-notes", brief: p.briefId, severity: "warning" })
    expect(v.plain).toBe(0)
    expect(v.strict).toBe(1)
    // the flow's other cycle is covered by the flow pin, not unpinned
    expect(v.report.covered).toEqual([{ cycle: "condense-changelog-entry", flow: "release-notes" }])
    expect(v.report.unpinned).toEqual([])

    // pin release-note-voice into a cycle its formation does not name (and the flow does reach: still outside, since it names its own cycles)
    pinBrief(p.ctx, { flow: "release-notes", brief_id: p.briefId })
    const r = pinBrief(p.ctx, { cycle: "condense-changelog-entry", brief_id: "flow-voice" })
    expect(r.note).toBeUndefined() // flow-voice's formation is the flow, which reaches the cycle
    writeFileSync(path.join(p.dir, ".alloy", "briefs", "other.md"), "---\nid: other\nintents:\n  - release-note-voice\nformation:\n  cycles:\n    - draft-release-note\n---\n")
    buildBrief(p.ctx, "other")
    const outside = pinBrief(p.ctx, { cycle: "condense-changelog-entry", brief_id: "other" })
    expect(outside.note).toContain("is not in brief other's formation")
    v = await verify(p.dir)
    expect(codes(v.report)).toContain("pin_outside_formation")
    expect(v.report.findings.find((f) => f.code === "pin_outside_formation")).toMatchObject({ cycle: "condense-changelog-entry", brief: "other" })
    expect(v.strict).toBe(1)
  })

  it("merge conflict: a ref with git conflict markers is an error (merge_conflict) with the fix", async () => {
    const p = await tmp.pinned()
    const ref = path.join(p.dir, ".alloy", "refs", "briefs", p.briefId)
    writeFileSync(ref, `<<<<<<< HEAD\n${p.digest}\n=======\nsha256:${"1".repeat(64)}\n>>>>>>> feature\n`)
    const v = await verify(p.dir)
    expect(v.plain).toBe(1)
    expect(v.strict).toBe(1)
    const f = v.report.findings.find((x) => x.code === "merge_conflict")
    expect(f).toMatchObject({ severity: "error", brief: p.briefId, file: `.alloy/refs/briefs/${p.briefId}` })
    expect(f!.message).toContain("merge conflict")
    expect(f!.fix).toContain(`opencode-alloy brief build ${p.briefId}`)
    expect(v.text).toContain("[merge_conflict]")
  })

  it("merge conflict in a cycle's frontmatter is named as one, not as bad YAML", async () => {
    const p = await tmp.pinned()
    const cycle = path.join(p.dir, "foundry", "cycles", `${p.cycle}.md`)
    edit(
      cycle,
      /^alloy:.*$/m,
      `<<<<<<< HEAD\nalloy: { brief_id: release-note-voice, digest: "${p.digest}" }\n=======\nalloy: { brief_id: release-note-voice, digest: "sha256:${"1".repeat(64)}" }\n>>>>>>> feature`,
    )
    const v = await verify(p.dir)
    expect(v.plain).toBe(1)
    expect(v.report.pins.find((x) => x.id === p.cycle)).toMatchObject({ status: "error", code: "merge_conflict" })
    expect(codes(v.report)).toContain("merge_conflict")
  })

  it("a wrong alloy block is reported with the brief and digest as written; a block without them, with none", async () => {
    const p = await tmp.pinned()
    const cycle = path.join(p.dir, "foundry", "cycles", `${p.cycle}.md`)
    edit(cycle, /^alloy:.*$/m, `alloy: { brief_id: ${p.briefId}, digest: "sha256:not-a-digest" }`)
    const v = await verify(p.dir)
    expect(v.plain).toBe(1)
    expect(v.report.pins.find((x) => x.id === p.cycle)).toMatchObject({ status: "error", brief_id: p.briefId, digest: "sha256:not-a-digest" })
    edit(cycle, /^alloy:.*$/m, "alloy: [1, 2]")
    const w = await verify(p.dir)
    expect(w.plain).toBe(1)
    const pin = w.report.pins.find((x) => x.id === p.cycle)
    expect(pin).toMatchObject({ status: "error" })
    expect(pin).not.toHaveProperty("brief_id")
    expect(pin).not.toHaveProperty("digest")
  })

  it("a formation cycle without any pin is an error (not_pinned)", async () => {
    const p = await tmp.pinned()
    edit(path.join(p.dir, "foundry", "cycles", `${p.cycle}.md`), /^alloy:.*\n/m, "")
    const v = await verify(p.dir)
    expect(v.plain).toBe(1)
    expect(codes(v.report)).toEqual(["not_pinned"])
  })
})

describe("pin: one path for the CLI and the tools", () => {
  it("the CLI pin defaults to the brief's formation, reads the pin back, verifies it and notes a cycle outside the formation", async () => {
    const p = await tmp.pinned()
    buildBrief(p.ctx, p.briefId) // unchanged build: same digest
    const j = await runCli(p.dir, "pin", p.briefId, "--json")
    expect(j.code, j.out).toBe(0)
    expect(JSON.parse(j.out)).toMatchObject({ ok: true, target: { kind: "cycle", id: p.cycle }, verified: true, object: `.alloy/objects/sha256/${p.digest.slice(7)}.json` })
    const outside = await runCli(p.dir, "pin", "condense-changelog-entry", p.briefId)
    expect(outside.code).toBe(0)
    expect(outside.out).toContain("note: cycle condense-changelog-entry is not in brief release-note-voice's formation (draft-release-note)")
  })
})
