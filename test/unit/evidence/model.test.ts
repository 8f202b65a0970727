/** verdictChanges (src/evidence/model.ts): what a run's records changed, criterion by criterion. */
import { describe, expect, test } from "vitest"
import { verdictChanges, type EvidenceModel } from "../../../src/evidence/model.js"

const model = (verdicts: Record<string, string>): EvidenceModel =>
  ({
    intents: [
      {
        id: "i",
        criteria: Object.entries(verdicts).map(([ref, verdict]) => ({ ref, id: ref.split("#")[1], verdict })),
      },
    ],
  }) as unknown as EvidenceModel

describe("verdictChanges", () => {
  test("only the criteria whose verdict differs, sorted, with before → after; a criterion judged on one side only is `none` on the other", () => {
    const before = model({ "i#AC-1": "unverified", "i#AC-2": "satisfied", "i#AC-3": "violated" })
    const after = model({ "i#AC-1": "satisfied", "i#AC-2": "satisfied", "i#AC-4": "unverified" })
    expect(verdictChanges(before, after)).toEqual([
      { criterion: "i#AC-1", before: "unverified", after: "satisfied" },
      { criterion: "i#AC-3", before: "violated", after: "none" },
      { criterion: "i#AC-4", before: "none", after: "unverified" },
    ])
    expect(verdictChanges(after, after)).toEqual([])
  })
})
