/** The HTML report's list of observations under a criterion: bounded, never silently (src/evidence/report-html.ts). */
import { describe, expect, test } from "vitest"
import { criterionRow, LISTED_OBSERVATIONS } from "../../../src/evidence/report-html.js"
import type { Observation } from "../../../src/evidence/observations.js"
import type { CriterionVerdict } from "../../../src/evidence/satisfaction.js"

const obs = (i: number): Observation => ({
  id: `o${i}`,
  criterion: "release-note-voice#AC-2",
  gate_kind: "law",
  kind: "appraisal",
  outcome: "pass",
  summary: `item ${i} resolved`,
  subject: `I${i}`,
  at: new Date(Date.parse("2026-05-01T00:00:00Z") - i * 60_000).toISOString(),
  provenance: { run_id: `01JW${String(i).padStart(22, "0")}`, record: "k", stage: "appraise:draft-release-note", cycle: "draft-release-note", session: `s${i}`, source: "import" },
  current: true,
  older_bundle: false,
})

const criterion = (n: number, decisive: string[]): CriterionVerdict => ({
  ref: "release-note-voice#AC-2",
  id: "AC-2",
  text: "The note leads with the benefit.",
  verdict: "satisfied",
  reason: "resolved",
  gates: [{ id: "g", kind: "law", verdict: "satisfied", reason: "resolved", decisive }],
  evidence: Array.from({ length: n }, (_, i) => obs(i)),
})

const listed = (html: string) => [...html.matchAll(/data-observation="(o\d+)"/g)].map((m) => m[1])

describe("observations under a criterion", () => {
  test("up to the limit every observation is listed and nothing is said to be left out", () => {
    const html = criterionRow(criterion(LISTED_OBSERVATIONS, ["o0"]), () => undefined)
    expect(listed(html)).toHaveLength(LISTED_OBSERVATIONS)
    expect(html).not.toContain("data-unlisted")
  })

  test("past the limit: the newest are listed, every deciding one too, and a line counts the rest and says where they are", () => {
    const n = LISTED_OBSERVATIONS + 150
    const html = criterionRow(criterion(n, ["o0", `o${n - 7}`]), () => undefined)
    const ids = listed(html)
    expect(ids).toHaveLength(LISTED_OBSERVATIONS + 1)
    expect(ids).toContain(`o${n - 7}`)
    expect(html).toMatch(new RegExp(`data-observation="o${n - 7}"`))
    expect(html).toContain(`data-decisive="true" title="decided the verdict" data-observation="o${n - 7}"`)
    expect(html).toContain(`data-unlisted="149">149 older observations not listed here; all of them: <code>opencode-alloy evidence --intent release-note-voice</code>`)
    expect(html).toContain(`<summary>${n - 3} more observations</summary>`)
  })
})
