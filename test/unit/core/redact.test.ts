import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { REDACTED, redactSecrets, secretValues } from "../../../src/core/redact.js"

describe("secretValues", () => {
  it("takes the values of variables named as secrets, long enough not to be ordinary words", () => {
    const env = { GITHUB_TOKEN: "abcdefgh12345678", NPM_AUTH: "npm-secret-value", DB_PASSWORD: "hunter2hunter2", SHORT_SECRET: "abc", HOME: "/home/someone", PATH: "/usr/bin" }
    expect(secretValues(env).sort()).toEqual(["abcdefgh12345678", "hunter2hunter2", "npm-secret-value"])
  })
})

describe("redactSecrets", () => {
  it("removes every occurrence of an environment secret, and counts them", () => {
    const r = redactSecrets("token=abcdefgh12345678\nagain abcdefgh12345678\n", ["abcdefgh12345678"])
    expect(r.text).toBe(`token=${REDACTED}\nagain ${REDACTED}\n`)
    expect(r.redacted).toBe(2)
  })

  it.each([
    ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", `Authorization: ${REDACTED}`],
    ["curl -H 'authorization: token abc123def456'", `curl -H 'authorization: ${REDACTED}'`],
    ["using bearer 0123456789abcdef", `using bearer ${REDACTED}`],
    ["GH ghp_0123456789abcdefghijABCDEFGHIJ0123", `GH ${REDACTED}`],
    ["github_pat_11ABCDEFG0123456789_abcdefghijkl", REDACTED],
    ["glpat-abcdefghij0123456789", REDACTED],
    ["xoxb-1234567890-abcdefghij", REDACTED],
    ["npm_abcdefghijklmnopqrstuvwxyz012345", REDACTED],
    ["key AKIAIOSFODNN7EXAMPLE ok", `key ${REDACTED} ok`],
    ["push https://someone:s3cr3t-pass@registry.example/x", `push https://someone:${REDACTED}@registry.example/x`],
    ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\nafter", `${REDACTED}\nafter`],
  ])("removes a credential-shaped run: %s", (input, want) => {
    const r = redactSecrets(input, [])
    expect(r.text).toBe(want)
    expect(r.redacted).toBeGreaterThan(0)
  })

  it("leaves ordinary check output alone", () => {
    const out = "✓ 12 tests passed\nword-limit: 143 words (max 150)\nsee https://example.com/docs@v2 and the token list\n"
    expect(redactSecrets(out, ["abcdefgh12345678"])).toEqual({ text: out, redacted: 0 })
  })

  it("no secret value survives, wherever it is in the text", () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 8, maxLength: 40 }), fc.string(), (before, secret, after) => {
        fc.pre(!REDACTED.includes(secret) && !secret.includes(REDACTED))
        const r = redactSecrets(before + secret + after, [secret])
        expect(r.text.includes(secret)).toBe(false)
        expect(r.redacted).toBeGreaterThan(0)
      }),
    )
  })
})
