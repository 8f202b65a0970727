import { describe, expect, it } from "vitest"
import { AlloyError, MAX_MESSAGE } from "../../../src/core/errors.js"

describe("AlloyError: a message quoting what was read stays readable", () => {
  it("cuts a message, and each detail's path and message, past MAX_MESSAGE characters and says by how much", () => {
    const key = "k".repeat(1 << 20)
    const e = new AlloyError("malformed", `obj: Unrecognized key: "${key}"`, {
      details: [
        { path: key, message: `Unrecognized key: "${key}"` },
        { path: "a", message: "short" },
      ],
    })
    expect(e.message.length).toBeLessThanOrEqual(MAX_MESSAGE)
    expect(e.message).toMatch(/^obj: Unrecognized key: "k+… \(1040\d\d\d more characters\)$/)
    expect(e.details[0]!.path!.length).toBeLessThanOrEqual(MAX_MESSAGE)
    expect(e.details[0]!.message).toMatch(/… \(\d+ more characters\)$/)
    expect(e.details[1]).toEqual({ path: "a", message: "short" })
    // the context added on the way out keeps the cut message as it is (not cut a second time)
    expect(e.withContext({ cycle: "c" }).message).toBe(e.message)
  })

  it("leaves a message of MAX_MESSAGE characters whole", () => {
    const m = "x".repeat(MAX_MESSAGE)
    expect(new AlloyError("malformed", m).message).toBe(m)
  })
})
