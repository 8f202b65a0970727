/** reportSummary (src/evidence/model.ts): what `report --json` prints by default, and the caps that say so. */
import { describe, expect, test } from "vitest"
import type { Bundle } from "../../../src/core/bundle.js"
import { buildEvidenceModel, decisiveObservations, reportSummary, summaryOf } from "../../../src/evidence/model.js"
import { exampleBundle, fbItem, feedback, record } from "../../helpers/evidence.js"

const AC2 = "law:alloy--release-note-voice--ac-2"

/** n appraisals of the example brief's current build, one session each, every one citing AC-2; the last leaves its item open. */
function modelWith(n: number, problems: string[] = []) {
  const cur = exampleBundle()
  const records = Array.from({ length: n }, (_, i) => {
    const at = new Date(Date.parse("2026-05-01T00:00:00Z") + i * 60_000).toISOString()
    return record({ digest: cur.digest, session: `draft-release-note@${at}`, at, feedback: feedback([fbItem(`I${i}`, AC2, [[i === n - 1 ? "open" : "resolved", at]])]) })
  })
  return buildEvidenceModel({
    project: "p",
    now: "2026-06-01T00:00:00.000Z",
    bundles: new Map<string, Bundle>([[cur.digest, cur.bundle]]),
    current: new Map([["release-note-voice", cur.digest]]),
    validators: [],
    records,
    problems,
  })
}

describe("reportSummary", () => {
  test("the verdicts and counts of the model, the deciding observations in full, records and observations as counts, and what was left out", () => {
    const model = modelWith(40)
    const s = reportSummary(model)
    expect(s.detail).toBe("summary")
    expect(s.counts).toEqual(model.counts)
    expect(s.records).toBe(40)
    expect(s.observations).toBe(model.observations.length)
    const ac2 = s.intents[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-2")!
    const judged = model.intents[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-2")!
    expect(ac2).toMatchObject({ verdict: "failing", reason: judged.reason, observations: 40 })
    // the latest session decides: only its open item is shown, in full
    expect(ac2.decisive.map((o) => o.id)).toEqual(judged.gates.flatMap((g) => g.decisive))
    expect(ac2.decisive).toHaveLength(1)
    expect(ac2.decisive[0]).toMatchObject({ outcome: "fail", feedback_id: "I39" })
    expect(decisiveObservations(judged)).toEqual(ac2.decisive)
    const shown = s.intents.flatMap((i) => i.criteria).reduce((n, c) => n + c.decisive.length, 0)
    expect(s.omitted).toEqual({ records: 40, observations: model.observations.length - shown, signoffs: 0, full: "opencode-alloy report --json --full" })
    expect(JSON.stringify(s)).not.toContain("idempotency_key")
  })

  test("its size follows the intents, not the records: 10 and 1,000 records give summaries of the same length", () => {
    const size = (n: number) => {
      const s = reportSummary(modelWith(n))
      // counts (and the ids and times in reasons) grow in digits; nothing grows with the records
      return JSON.stringify({
        ...s,
        records: 0,
        observations: 0,
        omitted: 0,
        intents: s.intents.map((i) => ({ ...i, criteria: i.criteria.map((c) => ({ ...c, observations: 0 })) })),
      }).length
    }
    expect(Math.abs(size(1000) - size(10))).toBeLessThan(40)
  })
})

describe("summaryOf (status and report lines): no silent cap", () => {
  test("past ten problems the lines say how many more there are and where to see them all", () => {
    const problems = Array.from({ length: 13 }, (_, i) => `record ${i}: unreadable`)
    const s = summaryOf(modelWith(1, problems))
    expect(s.lines.filter((l) => l.startsWith("  ! record"))).toHaveLength(10)
    expect(s.lines).toContain("  ! … and 3 more problems, not shown here (all of them: `opencode-alloy report --json`)")
    expect(s.json.problems).toHaveLength(13)
    expect(summaryOf(modelWith(1, problems.slice(0, 10))).lines.some((l) => l.includes("more problems"))).toBe(false)
  })
})
