// `brief diff` between two builds of the sample names every changed criterion and stage, in
// words and as unified diffs, as text, Markdown (for a PR comment) and JSON; sides may be
// digests, brief ids or git revisions.

import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { unifiedDiff } from "../../src/core/diff.js"
import { buildBrief } from "../../src/service/build.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { runCli } from "../helpers/cli.js"
import { git, gitInitCommitAll } from "../helpers/git.js"

let p: PinnedProject
beforeEach(async () => {
  p = await makePinnedProject()
})
afterEach(() => p.cleanup())

function change(): string {
  const f = path.join(p.dir, ".alloy", "intents", `${p.briefId}.md`)
  let t = readFileSync(f, "utf8")
  t = t.replace("text: The note is 150 words or fewer, title included.", "text: The note is 120 words or fewer, title included.")
  t = t.replace("who: the product owner", "who: the head of support")
  t = t.replace("non_goals:", "  - id: AC-6\n    text: The note names the date the change reaches customers.\n    evidence:\n      kind: law\nnon_goals:")
  writeFileSync(f, t)
  return buildBrief(p.ctx, p.briefId).digest
}

describe("brief diff", () => {
  it("names every changed criterion and every stage whose pack changed, with unified diffs", async () => {
    const after = change()
    const r = await runCli(p.dir, "brief", "diff", p.digest, p.briefId, "--json")
    expect(r.code, r.out + r.err).toBe(0)
    const d = JSON.parse(r.out)
    expect(d.from_digest).toBe(p.digest)
    expect(d.to_digest).toBe(after)
    expect(d.criteria).toEqual([
      { ref: "release-note-voice#AC-1", status: "changed", from: "The note is 150 words or fewer, title included.", to: "The note is 120 words or fewer, title included.", evidence_changed: false },
      { ref: "release-note-voice#AC-4", status: "changed", evidence_changed: true },
      { ref: "release-note-voice#AC-6", status: "added", to: "The note names the date the change reaches customers." },
    ])
    expect(d.gates.map((g: { id: string; status: string }) => `${g.id} ${g.status}`)).toEqual([
      "release-note-voice#AC-1/check changed",
      "release-note-voice#AC-4/human changed",
      "release-note-voice#AC-6/law added",
    ])
    expect(d.stages.map((s: { key: string }) => s.key)).toEqual(["appraise", "forge", "human-appraise", "quench"])
    const forge = d.stages.find((s: { key: string }) => s.key === "forge").diff as string
    expect(forge).toMatch(/^-.*150 words or fewer/m)
    expect(forge).toMatch(/^\+.*120 words or fewer/m)

    const md = await runCli(p.dir, "brief", "diff", p.digest, p.briefId, "--format", "markdown")
    expect(md.out).toContain("### Alloy brief diff")
    expect(md.out).toContain("- release-note-voice#AC-6 added: The note names the date the change reaches customers.")
    expect(md.out).toContain("```diff")
    const text = await runCli(p.dir, "brief", "diff", p.digest, p.briefId)
    expect(text.out).toContain("release-note-voice#AC-1 changed")
  })

  it("the same build twice: no change", async () => {
    const r = await runCli(p.dir, "brief", "diff", p.digest, p.briefId)
    expect(r.out).toContain("No change to what any agent or gate is given.")
  })

  it("HEAD~1: the brief as committed one commit ago", async () => {
    gitInitCommitAll(p.dir, "one")
    change()
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-qm", "two"])
    const r = await runCli(p.dir, "brief", "diff", "HEAD~1", p.briefId, "--json")
    expect(r.code, r.out + r.err).toBe(0)
    expect(JSON.parse(r.out)).toMatchObject({ from: `${p.briefId}@HEAD~1`, from_digest: p.digest })
  })

  it("unifiedDiff gives standard hunks", () => {
    expect(unifiedDiff("a\nb\nc", "a\nx\nc", "A", "B")).toBe("--- A\n+++ B\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c")
    expect(unifiedDiff("same", "same", "A", "B")).toBe("")
  })
})
