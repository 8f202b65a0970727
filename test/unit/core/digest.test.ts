import { describe, expect, it, vi } from "vitest"
import fc from "fast-check"
import { canonicalBytes, digestOf, encodeCanonical, isCanonicalEncoding, normalizeJson, normalizeText, sha256Hex, sourceDigest } from "../../../src/core/digest.js"
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

/** The full check the cheap one stands in for: normalise, re-encode, compare bytes (false when it refuses the value). */
function canonicalByReencoding(bytes: Buffer): boolean {
  try {
    return canonicalBytes(normalizeJson(JSON.parse(bytes.toString("utf8")))).equals(bytes)
  } catch {
    return false
  }
}

/** Strings that stress the cheap check: NFD, CR, BOM, lone surrogates, escapes, integer-like keys. */
const trickyString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.constantFrom("e\u0301", "\u00e9", "a\r\nb", "\uFEFFx", "\uD800", "\u0007", "/", "\u2028", "10", "9", "0", "-1", "__proto__", "ﬁ", "Å"),
)
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1e9, max: 1e9 }),
    fc.constantFrom(-0, 1.5, 2 ** 60, 1e21),
    trickyString,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(trickyString, tie("value"), { maxKeys: 5 }),
  ),
})).value

describe("the cheap canonical check (isCanonicalEncoding)", () => {
  it("never calls bytes canonical that the full re-encoding refuses", () => {
    fc.assert(
      fc.property(anyJson, fc.nat(50), fc.boolean(), (v, seed, pretty) => {
        // arbitrary, mostly non-canonical encodings of arbitrary values
        const bytes = Buffer.from(JSON.stringify(shuffleKeys(v, seed), null, pretty ? 1 : undefined) ?? "null", "utf8")
        if (isCanonicalEncoding(bytes, JSON.parse(bytes.toString("utf8")))) expect(canonicalByReencoding(bytes)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it("says yes to canonical bytes, integer-like keys included", () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const { bytes } = encodeCanonical(v)
        const parsed = JSON.parse(bytes.toString("utf8"))
        const text = bytes.toString("utf8")
        // U+FFFD could be a byte that did not decode, and a BOM is stripped from strings by
        // normalisation, so the cheap check leaves such text to the full comparison
        if (!text.includes("\uFFFD") && !text.includes("\uFEFF")) expect(isCanonicalEncoding(bytes, parsed)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it("decides NFC exactly as normalize does, piece by piece", () => {
    // letters, precomposed letters, combining marks, Hangul jamo and syllables, a dash, CJK
    const unit = fc.constantFrom("e", "a", "\u00e9", "\u0301", "\u0323", "\u0308", "\u1100", "\u1161", "\u11a8", "\uac00", "\u2014", "\u4e2d", "\u212b", "\u0344", " ")
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 12 }), (units) => {
        const s = units.join("")
        const bytes = Buffer.from(JSON.stringify([s]), "utf8")
        expect(isCanonicalEncoding(bytes, undefined)).toBe(s.normalize("NFC") === s)
      }),
      { numRuns: 3000 },
    )
  })

  it("reads a string once, however many escapes come before its closing quote", () => {
    // a pinned object is anyone's bytes: a string of many escapes once cost a search to its
    // closing quote per escape (16 MiB of them: hours); the work is counted, not timed
    const text = JSON.stringify({ a: "x\n".repeat(5000), b: 'say "hi"\t'.repeat(500) })
    const indexOf = String.prototype.indexOf
    let scanned = 0
    const spy = vi.spyOn(String.prototype, "indexOf").mockImplementation(function (this: string, search: string, from?: number) {
      const at = indexOf.call(this, search, from)
      if (this === text) scanned += (at === -1 ? text.length : at) - (from ?? 0)
      return at
    })
    try {
      expect(isCanonicalEncoding(Buffer.from(text, "utf8"), undefined, text)).toBe(true)
    } finally {
      spy.mockRestore()
    }
    expect(scanned).toBeLessThanOrEqual(3 * text.length)
  })

  it("refuses the classic non-canonical forms", () => {
    const no = (text: string) => expect(isCanonicalEncoding(Buffer.from(text, "utf8"), JSON.parse(text))).toBe(false)
    no('{"b":1,"a":2}') // key order
    no('{"a":1,"a":1}') // duplicate key (parses to one)
    no('{"a": 1}') // whitespace
    no('{"a":"e\\u0301"}') // escaped where JCS writes the character, and not NFC
    no('{"a":"\\u0041"}') // needless escape
    no('{"a":1.5}') // float
    no('{"a":-0}')
    no('{"a":"x\\r\\ny"}') // CR not normalised
    no('{"a":"\\ud800"}') // lone surrogate
    no('{"a":1e2}')
    no('{"b":1,"10":2}') // JSON.parse lists "10" first, but the text does not
    no('{"a":"\\/"}') // needless escape of "/"
    no('{"a":"\\u001F"}') // uppercase hex
    no('{"a":"\\u000a"}') // JSON.stringify writes \n
    no('{"a":1 }') // whitespace before a brace
    no('{"__proto__":1}')
    no("9007199254740993")
    expect(isCanonicalEncoding(Buffer.from('{"10":1,"9":{"":[],"a\\u0001":"\\u001f\\n\\"\\\\"}}'), undefined)).toBe(true)
    // a raw lone surrogate cannot come from decoding bytes, but text handed in may hold one
    expect(isCanonicalEncoding(Buffer.alloc(0), undefined, '["\uD800"]')).toBe(false)
    expect(isCanonicalEncoding(Buffer.alloc(0), undefined, '["\uDC00\uD800"]')).toBe(false)
    expect(isCanonicalEncoding(Buffer.alloc(0), undefined, '["a\uD83D\uDE00\u2014"]')).toBe(true)
    // invalid UTF-8 decodes to U+FFFD: the bytes differ from the re-encoded text
    const lossy = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')])
    expect(isCanonicalEncoding(lossy, JSON.parse(lossy.toString("utf8")))).toBe(false)
    expect(isCanonicalEncoding(Buffer.from('{"a":[1,"x",null,true],"b":{"c":"é"}}'), { a: [1, "x", null, true], b: { c: "é" } })).toBe(true)
  })
})
