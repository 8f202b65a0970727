// Lint against Foundry's config: law ids exist, check scripts exist and are (or are not) bound to
// a validator, artefact paths match an artefact type's patterns, overlapping formations, and
// "did you mean" for mistyped ids.
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { lintProject } from "../../src/service/lint-project.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"

let p: PinnedProject
beforeEach(async () => {
  p = await makePinnedProject()
})
afterEach(() => p.cleanup())

const all = () => lintProject(p.ctx).entries.flatMap((e) => e.warnings)
const edit = (rel: string, from: string, to: string) => {
  const f = path.join(p.dir, rel)
  writeFileSync(f, readFileSync(f, "utf8").replace(from, to))
}

describe("lint against Foundry's config", () => {
  it("the example's law ids, validator binding and artefact paths pass", () => {
    const codes = all()
      .filter((w) => w.severity === "warning")
      .map((w) => w.code)
    expect(codes).not.toContain("law_unknown")
    expect(codes).not.toContain("artefact_unmatched")
    expect(all().map((w) => w.code)).not.toContain("check_unbound") // AC-1's command is the word-limit validator's
  })

  it("a mistyped law id is law_unknown with a did-you-mean", () => {
    edit(".alloy/intents/release-note-voice.md", "law: customer-benefit-first", "law: customer-benefit-frist")
    const w = all().find((x) => x.code === "law_unknown")
    expect(w).toMatchObject({ severity: "warning", path: "acceptance_criteria[1].evidence.law" })
    expect(w!.message).toContain("did you mean customer-benefit-first?")
  })

  it("an artefact path no artefact type produces is artefact_unmatched", () => {
    edit(".alloy/intents/release-note-voice.md", "path: release-notes/*.md", "path: notes/*.txt")
    expect(all().find((x) => x.code === "artefact_unmatched")?.message).toContain("notes/*.txt")
  })

  it("a check not bound to any validator says so; a missing script is named", () => {
    edit(".alloy/intents/release-note-voice.md", "command: node scripts/validators/word-limit.mjs --max 150 release-notes/*.md", "command: node scripts/nowhere.mjs")
    const ws = all()
    expect(ws.find((x) => x.code === "check_unbound")).toBeDefined()
    expect(ws.find((x) => x.code === "check_file_missing")?.message).toContain("scripts/nowhere.mjs")
  })

  it("two briefs naming the same cycle overlap; a mistyped cycle gets a did-you-mean", () => {
    writeFileSync(
      path.join(p.dir, ".alloy", "briefs", "second.md"),
      "---\nid: second\nintents:\n  - release-note-voice\nformation:\n  cycles:\n    - draft-release-note\n    - draft-release-nte\n---\n",
    )
    const ws = all()
    expect(ws.find((x) => x.code === "formation_overlap")?.message).toContain("cycle draft-release-note")
    expect(ws.find((x) => x.code === "formation_unknown")?.fix).toBe("did you mean draft-release-note?")
  })
})
