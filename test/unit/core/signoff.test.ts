/** alloy.signoff/v1 (src/core/signoff.ts): the schema, the identity of a sign-off, and the `who:` rule. */
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { isSignoffPath, matchWho, SignoffSchema, signoffBytes, signoffPath, type Signoff } from "../../../src/core/signoff.js"

const base: Signoff = {
  $type: "alloy.signoff/v1",
  criterion: "release-note-voice#AC-4",
  decision: "approve",
  signer: { name: "Ada Lovelace", email: "ada@example.com" },
  at: "2026-11-30T01:00:00.000Z",
  bundle: { brief_id: "release-note-voice", digest: `sha256:${"a".repeat(64)}` },
}

describe("alloy.signoff/v1", () => {
  test("a rejection or waiver needs a reason; an approval does not; unknown keys are refused", () => {
    expect(SignoffSchema.safeParse(base).success).toBe(true)
    expect(SignoffSchema.safeParse({ ...base, decision: "waive" }).success).toBe(false)
    expect(SignoffSchema.safeParse({ ...base, decision: "reject", reason: "  " }).success).toBe(false)
    expect(SignoffSchema.safeParse({ ...base, decision: "reject", reason: "too loud" }).success).toBe(true)
    expect(SignoffSchema.safeParse({ ...base, by: "Mallory" }).success).toBe(false)
    expect(SignoffSchema.safeParse({ ...base, signer: { name: "Ada\nEvil", email: "ada@example.com" } }).success).toBe(false)
  })

  test("the file name is the identity: the same sign-off, the same path; another signer, bundle or decision, another path", () => {
    const p = signoffPath(base)
    expect(isSignoffPath(p)).toBe(true)
    expect(p).toMatch(/^signoffs\/release-note-voice\/AC-4\/[0-9a-f]{32}\.json$/)
    expect(signoffPath({ ...base, at: "2027-01-01T00:00:00.000Z" })).toBe(p) // when is not what
    expect(signoffPath({ ...base, signer: { name: "A. Lovelace", email: "ADA@example.com" } })).toBe(p) // the email, case-insensitive
    expect(signoffPath({ ...base, signer: { ...base.signer, email: "sam@example.com" } })).not.toBe(p)
    expect(signoffPath({ ...base, bundle: { ...base.bundle, digest: `sha256:${"b".repeat(64)}` } })).not.toBe(p)
    expect(signoffPath({ ...base, decision: "reject", reason: "no" })).not.toBe(p)
    expect(SignoffSchema.parse(JSON.parse(signoffBytes(base)))).toEqual(base)
  })

  test("property: distinct emails never share a file", () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.emailAddress(), (a, b) => {
        fc.pre(a.toLowerCase() !== b.toLowerCase())
        return signoffPath({ ...base, signer: { name: "x", email: a } }) !== signoffPath({ ...base, signer: { name: "x", email: b } })
      }),
    )
  })

  test("who: emails are an identity check; anything else is a role git cannot check", () => {
    const ada = base.signer
    expect(matchWho(undefined, ada)).toEqual({ kind: "none" })
    expect(matchWho("the product owner", ada)).toEqual({ kind: "role", who: "the product owner" })
    expect(matchWho("Ada Lovelace <ADA@example.com>", ada).kind).toBe("match")
    expect(matchWho("pat@example.com or ada@example.com", ada).kind).toBe("match")
    expect(matchWho("Pat <pat@example.com>, Sam <sam@example.com>", ada)).toEqual({
      kind: "mismatch",
      who: "Pat <pat@example.com>, Sam <sam@example.com>",
      expected: ["pat@example.com", "sam@example.com"],
    })
  })
})
