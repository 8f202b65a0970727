import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { FOUNDRY_ID_MAX_BYTES, isFoundryId, parseStage } from "../../../src/core/ids.js"
import { AlloyError } from "../../../src/core/errors.js"

describe("isFoundryId", () => {
  it("limits an id by its UTF-8 bytes (a file name), not its length in code units", () => {
    expect(isFoundryId("a".repeat(FOUNDRY_ID_MAX_BYTES))).toBe(true)
    expect(isFoundryId("a".repeat(FOUNDRY_ID_MAX_BYTES + 1))).toBe(false)
    // 84 × 3 bytes = 252: fits; one more two-byte character does not
    expect(isFoundryId("€".repeat(84))).toBe(true)
    expect(isFoundryId(`${"€".repeat(84)}é`)).toBe(false)
    // surrogate pairs: 4 bytes for 2 code units
    expect(isFoundryId("😀".repeat(63))).toBe(true)
    expect(isFoundryId("😀".repeat(64))).toBe(false)
  })

  it("agrees with the byte count on every printable id (property)", () => {
    const ch = fc.constantFrom("a", "-", "é", "€", "😀", "中", "z", "_")
    fc.assert(
      fc.property(fc.array(ch, { minLength: 1, maxLength: 140 }), (chars) => {
        const id = `x${chars.join("")}`
        expect(isFoundryId(id)).toBe(Buffer.byteLength(id, "utf8") <= FOUNDRY_ID_MAX_BYTES)
      }),
    )
  })
})

describe("parseStage", () => {
  const fixOf = (s: unknown): string => {
    try {
      parseStage(s)
    } catch (e) {
      expect(e).toBeInstanceOf(AlloyError)
      expect((e as AlloyError).code).toBe("invalid_stage")
      return (e as AlloyError).fix ?? ""
    }
    return "accepted"
  }
  it("reads a stage with or without its cycle or alias", () => {
    expect(parseStage("forge")).toMatchObject({ base: "forge", alias: undefined })
    expect(parseStage("appraise:draft-release-note")).toMatchObject({ base: "appraise", alias: "draft-release-note" })
  })
  it("names the stage a slip meant, keeping the alias; anything else gets the list", () => {
    expect(fixOf("forg")).toMatch(/^did you mean forge\? use one of assay, forge/)
    expect(fixOf("apprasie:draft-release-note")).toMatch(/^did you mean appraise:draft-release-note\? /)
    expect(fixOf("review")).toMatch(/^use one of /)
    // an alias that is not a slug is not repeated back
    expect(fixOf(`forg:${"x ".repeat(100)}`)).toMatch(/^use one of /)
    expect(fixOf(5)).toMatch(/^use one of /)
  })
})
