/** outJsonStreamed (src/cli/io.ts): a large JSON object printed piece by piece parses to what JSON.stringify gives. */
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { outJsonStreamed } from "../../../src/cli/io.js"

const printed = (v: Record<string, unknown>) => {
  const lines: string[] = []
  outJsonStreamed({ out: (s) => lines.push(s) }, v)
  return lines
}

describe("outJsonStreamed", () => {
  test("the same value as JSON.stringify, each array entry on a line of its own", () => {
    const v = { ok: true, detail: "full", records: [{ a: 1 }, { b: [1, 2] }], empty: [], nested: { x: [1, { y: "z\n" }] }, gone: undefined, fn: () => 1, holes: [undefined, 2] }
    const lines = printed(v)
    expect(JSON.parse(lines.join("\n"))).toEqual(JSON.parse(JSON.stringify(v)))
    expect(lines).toContain('    {"a":1},')
    expect(lines).toContain('    {"b":[1,2]}')
  })

  test("any JSON object round-trips", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (v) => {
        expect(JSON.parse(printed(v).join("\n"))).toEqual(JSON.parse(JSON.stringify(v)))
      }),
      { numRuns: 200 },
    )
  })
})
