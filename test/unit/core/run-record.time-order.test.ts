import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { cmpTime, newestFirst } from "../../../src/core/run-record.js"

// times as run records carry them, and the ones that compare as 0: missing, empty, not a date
const time = fc.oneof(
  fc.date({ min: new Date("2026-01-01T00:00:00Z"), max: new Date("2026-01-01T00:00:09Z"), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom("2026-01-01T00:00:05Z", "2026-01-01T01:00:05+01:00", "not a time", "", undefined),
)

describe("core/run-record: newest first", () => {
  it("orders exactly as sorting with cmpTime does, ties and unparsable times kept in the order they came (property)", () => {
    fc.assert(
      fc.property(fc.array(time, { maxLength: 60 }), (times) => {
        const items = times.map((at, n) => ({ at, n }))
        const expected = [...items].sort((a, b) => cmpTime(b.at, a.at))
        expect(newestFirst(items, (x) => x.at)).toEqual(expected)
      }),
    )
  })

  it("leaves its input as it was", () => {
    const items = [{ at: "2026-01-01T00:00:01Z" }, { at: "2026-01-01T00:00:02Z" }]
    const copy = [...items]
    expect(newestFirst(items, (x) => x.at).map((x) => x.at)).toEqual(["2026-01-01T00:00:02Z", "2026-01-01T00:00:01Z"])
    expect(items).toEqual(copy)
  })
})
