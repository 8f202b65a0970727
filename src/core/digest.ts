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

/** Characters below U+0300 are all NFC as they stand (Unicode's NFC quick check), so only longer scripts need \`normalize\`. */
const MAYBE_NOT_NFC = /[^\u0000-\u02ff]/

/** Is the string already what \`normalizeText\` makes of it, and free of lone surrogates? */
function isNormalText(s: string): boolean {
  if (s.charCodeAt(0) === 0xfeff || s.includes("\r")) return false
  if (!MAYBE_NOT_NFC.test(s)) return true
  return !LONE_SURROGATE.test(s) && s.normalize("NFC") === s
}

/**
 * Is every string normal, every number a safe integer (not -0), and every object's key order
 * strictly ascending by UTF-16 code units (RFC 8785's order, which also rules out duplicates)?
 * Walks the parsed value without copying it; `false` means "cannot tell cheaply", not "invalid".
 */
function isNormalSorted(value: unknown): boolean {
  if (value === null || typeof value === "boolean") return true
  if (typeof value === "number") return Number.isSafeInteger(value) && !Object.is(value, -0)
  if (typeof value === "string") return isNormalText(value)
  if (Array.isArray(value)) {
    for (const v of value) if (!isNormalSorted(v)) return false
    return true
  }
  if (typeof value !== "object") return false
  let prev: string | undefined
  for (const k in value as Record<string, unknown>) {
    if (prev !== undefined && !(prev < k)) return false
    if (!isNormalText(k) || !isNormalSorted((value as Record<string, unknown>)[k])) return false
    prev = k
  }
  return true
}

/**
 * Are \`bytes\` the canonical encoding of \`parsed\` (their \`JSON.parse\`), decided without the
 * canonicaliser? RFC 8785 writes strings and numbers exactly as \`JSON.stringify\` does and sorts
 * object keys by UTF-16 code units. When the parsed value is already normal (see \`normalizeJson\`)
 * and every object lists its keys in that order, \`JSON.stringify\` (which keeps the parsed order)
 * IS the canonical text, so the bytes are canonical exactly when they equal it. Anything else
 * (floats, integer-like keys, NFD text, a duplicate key...) answers \`false\`: the caller then
 * runs the full \`normalizeJson\` + \`canonicalBytes\` comparison, which decides and names the fault.
 */
export function isCanonicalEncoding(bytes: Uint8Array, parsed: unknown): boolean {
  if (!isNormalSorted(parsed)) return false
  const text = JSON.stringify(parsed)
  // byte for byte, not text for text: a lossy UTF-8 decoding of \`bytes\` must not compare equal
  return Buffer.byteLength(text, "utf8") === bytes.byteLength && Buffer.from(text, "utf8").equals(bytes)
}

/** Do these bytes hash to the pinned digest? Constant work, no parsing. */
export function bytesMatchDigest(bytes: Uint8Array, digest: string): boolean {
  return digestOf(bytes) === digest
}
