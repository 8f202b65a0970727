/**
 * Digests (ALLOY.md §3): `sha256:<64 hex>` over the RFC 8785 (JCS) canonical JSON of a
 * value, after normalisation (strings NFC, line endings LF, no BOM, integers only).
 * The object file holds exactly the canonical bytes, so `sha256sum` of the file is the digest.
 */
import { createHash } from "node:crypto"
import canonicalize from "canonicalize"
import { AlloyError } from "./errors.js"

const LONE_SURROGATE = /\p{Cs}/u

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Text normalisation applied to every string Alloy hashes: no BOM, LF line endings, NFC. */
export function normalizeText(s: string): string {
  let t = s.charCodeAt(0) === 0xfeff ? s.slice(1) : s
  if (t.includes("\r")) t = t.replace(/\r\n?/g, "\n")
  return t.normalize("NFC")
}

/**
 * Deep-normalise a JSON-like value for hashing. Drops `undefined` object members, refuses
 * floats, non-safe integers, lone surrogates and keys that collide after NFC.
 */
export function normalizeJson(value: unknown, path = "$"): Json {
  if (value === null || typeof value === "boolean") return value
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new AlloyError("malformed", `${path}: ${value} is not an integer; Alloy objects hold no floating-point numbers`)
    }
    return Object.is(value, -0) ? 0 : value
  }
  if (typeof value === "string") {
    if (LONE_SURROGATE.test(value)) throw new AlloyError("malformed", `${path}: string holds a lone UTF-16 surrogate`)
    return normalizeText(value)
  }
  if (Array.isArray(value)) return value.map((v, i) => normalizeJson(v === undefined ? null : v, `${path}[${i}]`))
  if (typeof value === "object") {
    const out: { [key: string]: Json } = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue
      const nk = normalizeText(k)
      if (Object.hasOwn(out, nk)) {
        throw new AlloyError("malformed", `${path}: two keys normalise to ${JSON.stringify(nk)}`)
      }
      out[nk] = normalizeJson(v, `${path}.${nk}`)
    }
    return out
  }
  throw new AlloyError("malformed", `${path}: ${typeof value} cannot be stored in an Alloy object`)
}

/** RFC 8785 canonical UTF-8 bytes of an already-normalised value. */
export function canonicalBytes(value: Json): Buffer {
  const text = canonicalize(value)
  if (text === undefined) throw new AlloyError("malformed", "value has no JSON form")
  return Buffer.from(text, "utf8")
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex")
}

export function digestOf(bytes: Uint8Array | string): string {
  return `sha256:${sha256Hex(bytes)}`
}

/** Normalise, canonicalise and hash in one step. */
export function encodeCanonical(value: unknown): { bytes: Buffer; digest: string; value: Json } {
  const normal = normalizeJson(value)
  const bytes = canonicalBytes(normal)
  return { bytes, digest: digestOf(bytes), value: normal }
}

/** Digest of an authored source file: its text, normalised (so CRLF and LF checkouts agree). */
export function sourceDigest(text: string): string {
  return digestOf(Buffer.from(normalizeText(text), "utf8"))
}

/** Runs of characters from U+0300 up: below it every character is NFC as it stands and no character composes with one before it. */
const FROM_U0300 = /[^\u0000-\u02ff]+/g

/**
 * Is `text` NFC? Characters below U+0300 have combining class 0 and NFC quick check Yes, so the
 * text may be cut before each of them and normalised piece by piece: only each run of characters
 * from U+0300 up, with the one character before it (which a combining mark may compose with),
 * needs `normalize`. Text in Latin script with a dash or two stays cheap however long it is.
 */
function isNfcText(text: string): boolean {
  FROM_U0300.lastIndex = 0
  for (let m = FROM_U0300.exec(text); m !== null; m = FROM_U0300.exec(text)) {
    const piece = text.slice(Math.max(0, m.index - 1), m.index + m[0].length)
    // a lone surrogate cannot come from decoding UTF-8, but text handed in may hold one
    if (piece.normalize("NFC") !== piece || LONE_SURROGATE.test(piece)) return false
  }
  return true
}

/** Is `c` one of `0-9a-f` (JSON.stringify writes `\u00xx` escapes in lowercase)? */
const isLowerHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)

/**
 * Is `text`, which `JSON.parse` accepted, written exactly as RFC 8785 writes its own value? One pass
 * over the text, no re-encoding: no whitespace between tokens; strings use only the escapes
 * `JSON.stringify` writes (`\"` `\\` `\b` `\f` `\n` `\t`, and `\u00xx` in lowercase for the other
 * control characters; `\r` and `\udxxx` are refused because normalisation removes CR and lone
 * surrogates); numbers are safe integers in their shortest form (no `-0`, fraction or exponent);
 * each object lists its keys strictly ascending by UTF-16 code units, compared as written (so a
 * duplicate key, or integer-like keys that `JSON.parse` would reorder, cannot slip through), and
 * none is `__proto__` (normalisation cannot hold such a member). `false` means "cannot tell cheaply".
 */
function isCanonicalText(text: string): boolean {
  const n = text.length
  /** per open container: the last key of an object (null before its first), or undefined for an array */
  const prevKeys: Array<string | null | undefined> = []
  let expectKey = false
  let nextEscape = text.indexOf("\\")
  if (nextEscape === -1) nextEscape = n
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      const start = i + 1
      let j = start
      let escaped = false
      // the next quote character: looked for again only once the scan has passed it (a string with
      // many escapes before its closing quote is scanned once, not once per escape)
      let q = -1
      for (;;) {
        if (q < j) {
          q = text.indexOf('"', j)
          if (q === -1) return false
        }
        if (nextEscape > q) {
          j = q
          break
        }
        // an escape before the closing quote
        escaped = true
        const b = nextEscape
        const e = text.charCodeAt(b + 1)
        if (e === 0x22 || e === 0x5c || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x74) j = b + 2
        else if (e === 0x75) {
          // \u00xx for a control character JSON.stringify has no short escape for
          if (text.charCodeAt(b + 2) !== 0x30 || text.charCodeAt(b + 3) !== 0x30) return false
          const h = text.charCodeAt(b + 4)
          const l = text.charCodeAt(b + 5)
          if ((h !== 0x30 && h !== 0x31) || !isLowerHex(l)) return false
          const code = (h - 0x30) * 16 + (l <= 0x39 ? l - 0x30 : l - 0x57)
          if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) return false
          j = b + 6
        } else return false
        nextEscape = text.indexOf("\\", j)
        if (nextEscape === -1) nextEscape = n
      }
      if (expectKey) {
        // an escaped key (rare) is compared as JSON.parse reads it
        const key = escaped ? (JSON.parse(text.slice(start - 1, j + 1)) as string) : text.slice(start, j)
        const prev = prevKeys[prevKeys.length - 1]
        if ((prev !== null && !(prev! < key)) || key === "__proto__") return false
        prevKeys[prevKeys.length - 1] = key
        expectKey = false
      }
      i = j + 1
      continue
    }
    if (c === 0x7b) {
      prevKeys.push(null)
      expectKey = true
    } else if (c === 0x5b) prevKeys.push(undefined)
    else if (c === 0x7d || c === 0x5d) {
      prevKeys.pop()
      expectKey = false
    } else if (c === 0x2c) expectKey = prevKeys[prevKeys.length - 1] !== undefined
    else if (c === 0x3a) {
      // between a key and its value
    } else if (c === 0x74 || c === 0x6e) {
      i += 4 // true, null (JSON.parse accepted the text, so the word is whole)
      continue
    } else if (c === 0x66) {
      i += 5 // false
      continue
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1
      while (j < n) {
        const d = text.charCodeAt(j)
        if (d < 0x30 || d > 0x39) break
        j++
      }
      const d = text.charCodeAt(j)
      if (d === 0x2e || d === 0x65 || d === 0x45) return false // fraction or exponent
      const digits = c === 0x2d ? i + 1 : i
      if (text.charCodeAt(digits) === 0x30 && j - digits > 1) return false // leading zero
      if (c === 0x2d && text.charCodeAt(digits) === 0x30) return false // -0
      if (j - digits > 15 && !Number.isSafeInteger(Number(text.slice(i, j)))) return false
      i = j
      continue
    } else return false // whitespace between tokens
    i++
  }
  return true
}

/**
 * Are `bytes` (decoded: `text`) the canonical encoding of `parsed` (their `JSON.parse`), decided
 * without the canonicaliser and without encoding the value again? RFC 8785 writes strings and
 * numbers exactly as `JSON.stringify` does and sorts object keys by UTF-16 code units, so the text
 * is the canonical encoding of its own value exactly when it is written that way (isCanonicalText)
 * and its strings are normal:
 * - NFC: checked on the whole text at once. The JSON punctuation around and inside strings (`"`,
 *   `\`, `:`, `,`, brackets) never composes with a neighbour, so the text is NFC exactly when every
 *   string in it is;
 * - no CR, no lone surrogate: `JSON.stringify` writes them as the escapes `\r` and `\udxxx`, which
 *   isCanonicalText refuses; a BOM character anywhere is left to the full check too;
 * - the bytes are the text: see the U+FFFD check below.
 * Anything else (floats, a duplicate key...) answers `false`: the caller then runs the full
 * `normalizeJson` + `canonicalBytes` comparison, which decides and names the fault. `parsed` is
 * not read: the text decides (it stays in the signature for callers that pass it).
 */
export function isCanonicalEncoding(bytes: Uint8Array, _parsed: unknown, text: string = Buffer.from(bytes).toString("utf8")): boolean {
  if (text.includes("\uFEFF")) return false
  // the text stands for the bytes only when decoding lost nothing: invalid UTF-8 decodes to U+FFFD
  // (a real U+FFFD in the text is left to the full check too), and valid UTF-8 round-trips exactly
  if (text.includes("\uFFFD")) return false
  if (!isNfcText(text)) return false
  return isCanonicalText(text)
}

/** Do these bytes hash to the pinned digest? Constant work, no parsing. */
export function bytesMatchDigest(bytes: Uint8Array, digest: string): boolean {
  return digestOf(bytes) === digest
}
