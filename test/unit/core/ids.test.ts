import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { FOUNDRY_ID_MAX_BYTES, isFoundryId } from "../../../src/core/ids.js"

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
