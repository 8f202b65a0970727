import { describe, expect, it } from "vitest"
import { z } from "zod"
import { safeParseBounded, safeParseJson } from "../../../src/core/schema-errors.js"

describe("safeParseBounded: zod's safeParse for what Alloy reads but did not write", () => {
  const Nums = z.array(z.number())

  it("answers as zod does for a value of ordinary size, faults and all", () => {
    expect(safeParseBounded(Nums, [1, 2])).toEqual(Nums.safeParse([1, 2]))
    const bad = safeParseBounded(Nums, [1, "x"])
    expect(bad.success).toBe(false)
    expect(bad.error!.issues.map((i) => [i.path, i.code])).toEqual([[[1], "invalid_type"]])
  })

  it("refuses a value of more than 100,000 values with one issue, before zod words each", () => {
    const many = new Array(2_000_000).fill("x")
    const r = safeParseBounded(Nums, many)
    expect(r.success).toBe(false)
    expect(r.error!.issues).toEqual([{ code: "custom", path: [], message: "holds more than 100,000 values, far more than any valid one" }])
    // the bound is on values, not on validity: a valid list that large is refused too
    expect(safeParseBounded(Nums, new Array(100_001).fill(0)).success).toBe(false)
    expect(safeParseBounded(Nums, new Array(99_999).fill(0)).success).toBe(true)
  })

  it("does not count a value parsed from a text too short to hold that many (the text's length is given)", () => {
    // 100,001 values need a text of at least 200,001 characters; a caller's shorter length means none is counted
    expect(safeParseBounded(Nums, new Array(100_001).fill(0), { textLength: 200_000 }).success).toBe(true)
    expect(safeParseBounded(Nums, new Array(100_001).fill(0), { textLength: 200_001 }).success).toBe(false)
    expect(JSON.stringify(new Array(100_000).fill(0)).length).toBeGreaterThan(199_999)
  })

  it("safeParseJson: undefined for text that is not JSON; else the bounded check of what it holds", () => {
    expect(safeParseJson(Nums, "[1, 2")).toBeUndefined()
    expect(safeParseJson(Nums, "[1,2]")).toEqual(Nums.safeParse([1, 2]))
    expect(safeParseJson(Nums, JSON.stringify(new Array(100_001).fill(0)))!.error!.issues[0]!.message).toMatch(/^holds more than 100,000 values/)
  })
})
