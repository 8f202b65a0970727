import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { canonicalBytes, digestOf, encodeCanonical, normalizeJson, normalizeText, sha256Hex, sourceDigest } from "../../../src/core/digest.js"
import { AlloyError } from "../../../src/core/errors.js"

/** Rebuild an object with its keys in a different order (deeply). */
function shuffleKeys(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => shuffleKeys(x, seed + i))
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
    const rotated = entries.length ? [...entries.slice(seed % entries.length), ...entries.slice(0, seed % entries.length)].reverse() : entries
    return Object.fromEntries(rotated.map(([k, x]) => [k, shuffleKeys(x, seed + 1)]))
  }
  return v
}

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1e9, max: 1e9 }),
    fc.string({ unit: "grapheme" }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: "grapheme", maxLength: 8 }), tie("value"), { maxKeys: 5 }),
  ),
})).value

describe("canonical JSON (RFC 8785)", () => {
  it("matches the JCS vector from Foundry's contract", () => {
    const v = { b: 1, a: [true, null, "x"], c: { z: "é" } }
    const bytes = canonicalBytes(normalizeJson(v))
    expect(bytes.toString("utf8")).toBe('{"a":[true,null,"x"],"b":1,"c":{"z":"é"}}')
    expect(sha256Hex(bytes)).toBe("947d53608a4b81c46dc56831c2bc9a03a582b6b02d11a9dedb4c6bf7622b886c")
  })

  it("is stable under key order", () => {
    fc.assert(
      fc.property(jsonValue, fc.nat(50), (v, seed) => {
        expect(encodeCanonical(shuffleKeys(v, seed)).digest).toBe(encodeCanonical(v).digest)
      }),
      { numRuns: 300 },
    )
  })

  it("is stable under CRLF/LF and NFC/NFD variations of every string", () => {
    const variants = (s: string) => [s, s.replace(/\n/g, "\r\n"), s.normalize("NFD"), s.normalize("NFC"), `\uFEFF${s}`.replace(/\n/g, "\r\n")]
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme" }), { maxLength: 5 }), fc.string({ unit: "grapheme" }), (lines, key) => {
        const text = lines.join("\n") + "\né café Å ﬁ"
        const digests = variants(text).flatMap((t) => variants(key).map((k) => encodeCanonical({ [k.replace(/^\uFEFF/, "")]: t, list: [t] }).digest))
        expect(new Set(digests).size).toBe(1)
      }),
      { numRuns: 200 },
    )
  })

  it("gives different digests for different normalised values", () => {
    fc.assert(
      fc.property(jsonValue, jsonValue, (a, b) => {
        const ea = encodeCanonical(a)
        const eb = encodeCanonical(b)
        expect(ea.digest === eb.digest).toBe(Buffer.compare(ea.bytes, eb.bytes) === 0)
      }),
      { numRuns: 300 },
    )
  })

  it("refuses floats, unsafe integers and lone surrogates with code malformed", () => {
    for (const bad of [{ x: 1.5 }, { x: 2 ** 60 }, { x: Number.NaN }, { x: "\uD800" }, [Infinity]]) {
      expect(() => encodeCanonical(bad)).toThrowError(AlloyError)
      try {
        encodeCanonical(bad)
      } catch (e) {
        expect((e as AlloyError).code).toBe("malformed")
      }
    }
  })

  it("refuses keys that collide after NFC", () => {
    expect(() => normalizeJson({ "e\u0301": 1, "\u00e9": 2 })).toThrow(/normalise/)
  })

  it("normalises text: BOM dropped, CRLF and CR to LF, NFC", () => {
    expect(normalizeText("\uFEFFa\r\nb\rc")).toBe("a\nb\nc")
    expect(normalizeText("e\u0301")).toBe("\u00e9")
    expect(sourceDigest("a\r\nb\n")).toBe(sourceDigest("a\nb\n"))
  })

  it("formats digests as sha256: + 64 lowercase hex", () => {
    expect(digestOf("")).toBe("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    fc.assert(fc.property(fc.uint8Array(), (b) => /^sha256:[0-9a-f]{64}$/.test(digestOf(b))))
  })
})
