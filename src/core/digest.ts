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

/** Characters below U+0300 are all NFC as they stand (Unicode's NFC quick check), so only longer scripts need `normalize`. */
const MAYBE_NOT_NFC = /[^\u0000-\u02ff]/

/**
 * Does every number hold a safe integer (not -0) and every object list its keys strictly
 * ascending by UTF-16 code units (RFC 8785's order, which also rules out duplicates)? Walks the
 * parsed value without copying it; `false` means "cannot tell cheaply", not "invalid".
 */
function isIntegralSorted(value: unknown): boolean {
  if (value === null || typeof value === "boolean" || typeof value === "string") return true
  if (typeof value === "number") return Number.isSafeInteger(value) && !Object.is(value, -0)
  if (Array.isArray(value)) {
    for (const v of value) if (!isIntegralSorted(v)) return false
    return true
  }
  if (typeof value !== "object") return false
  let prev: string | undefined
  for (const k in value as Record<string, unknown>) {
    // normalizeJson cannot hold a `__proto__` member (assigning it sets the prototype), so the full check decides
    if ((prev !== undefined && !(prev < k)) || k === "__proto__") return false
    if (!isIntegralSorted((value as Record<string, unknown>)[k])) return false
    prev = k
  }
  return true
}

/**
 * Are `bytes` (decoded: `text`) the canonical encoding of `parsed` (their `JSON.parse`), decided
 * without the canonicaliser? RFC 8785 writes strings and numbers exactly as `JSON.stringify` does
 * and sorts object keys by UTF-16 code units, so when every object of the parsed value already
 * lists its keys in that order, `JSON.stringify` (which keeps the parsed order) IS the canonical
 * text, and the bytes are canonical exactly when they equal it and their strings are normal:
 * - NFC: checked on the whole text at once. The JSON punctuation around and inside strings (`"`,
 *   `\`, `:`, `,`, brackets) never composes with a neighbour, so the text is NFC exactly when every
 *   string in it is;
 * - no CR, no lone surrogate: `JSON.stringify` writes them as the escapes `\r` and `\udxxx`, so
 *   text holding such an escape (or a BOM character anywhere) is left to the full check;
 * - the bytes are the text: see the U+FFFD check below.
 * Anything else (floats, integer-like keys, a duplicate key...) answers `false`: the caller then
 * runs the full `normalizeJson` + `canonicalBytes` comparison, which decides and names the fault.
 */
export function isCanonicalEncoding(bytes: Uint8Array, parsed: unknown, text: string = Buffer.from(bytes).toString("utf8")): boolean {
  if (text.includes("\\r") || text.includes("\\ud") || text.includes("\uFEFF")) return false
  if (MAYBE_NOT_NFC.test(text) && text.normalize("NFC") !== text) return false
  if (!isIntegralSorted(parsed)) return false
  // the text stands for the bytes only when decoding lost nothing: invalid UTF-8 decodes to U+FFFD
  // (a real U+FFFD in the text is left to the full check too), and valid UTF-8 round-trips exactly
  if (text.includes("\uFFFD")) return false
  return JSON.stringify(parsed) === text
}

/** Do these bytes hash to the pinned digest? Constant work, no parsing. */
export function bytesMatchDigest(bytes: Uint8Array, digest: string): boolean {
  return digestOf(bytes) === digest
}
