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

/** Do these bytes hash to the pinned digest? Constant work, no parsing. */
export function bytesMatchDigest(bytes: Uint8Array, digest: string): boolean {
  return digestOf(bytes) === digest
}
