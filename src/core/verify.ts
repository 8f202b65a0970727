/**
 * Verification (fail closed): bytes are handed on only when they hash to the pinned digest,
 * parse as a well-formed `alloy.bundle/v1` object, and belong to the pinned brief.
 */
import { AlloyError } from "./errors.js"
import { BundleSchema, type Bundle } from "./bundle.js"
import { canonicalBytes, digestOf, isCanonicalEncoding, normalizeJson } from "./digest.js"
import type { Pin } from "./pin.js"
import { compileSchemaCheck, holdsMoreValuesThan, MAX_PARSED_VALUES, mismatchPath, TOO_MANY_VALUES } from "./schema-check.js"

/** Parsed bundles by digest. Safe because an entry is only returned after the bytes just read hash to that digest. */
const parsedByDigest = new Map<string, Bundle>()
const MAX_CACHED = 512

/**
 * Bundles verified while a shared reading is open (withSharedBundles), by digest: `status` and the
 * reports read each current build twice, through the pin scan and the evidence model, and parsed it
 * twice. Same safety as the cache above: an entry is returned only for bytes just read and hashed.
 */
let shared: Map<string, Bundle> | undefined

/**
 * Run `fn`, which verifies the same objects through more than one reader, parsing each object once:
 * every bundle verified without `keep: false` is held until it returns (the evidence model holds
 * them anyway), and any reader finds it there, the pin scan too. So the reader that keeps its
 * bundles goes first: the scan's own, `keep: false`, are not held.
 */
export function withSharedBundles<T>(fn: () => T): T {
  if (shared) return fn()
  shared = new Map()
  try {
    return fn()
  } finally {
    shared = undefined
  }
}

/** The schema's cheap "valid as it stands" check, made on first use (null: the schema has none). */
let bundleAsIs: ((v: unknown) => boolean) | null | undefined

/**
 * `keep: false` verifies without adding the bundle to the cache: a scan over every pin of a
 * project reads each object once, and keeping hundreds of parsed bundles alive there only makes
 * the collector copy them.
 */
export function verifyObjectBytes(bytes: Uint8Array, pin: Pin, objectFile: string, opts: { keep?: boolean } = {}): Bundle {
  const actual = digestOf(bytes)
  if (actual !== pin.digest) {
    throw new AlloyError(
      "digest_mismatch",
      `object ${objectFile} does not hash to the pinned digest: expected ${pin.digest}, the bytes on disk hash to ${actual}. The object was changed after it was built`,
      { fix: `do not edit objects; rebuild with \`opencode-alloy brief build ${pin.brief_id}\` and re-pin, or restore the file from git` },
    )
  }
  let bundle = shared?.get(actual) ?? parsedByDigest.get(actual)
  if (!bundle) {
    bundle = parseBundle(bytes, objectFile)
    if (opts.keep !== false) {
      if (shared) shared.set(actual, bundle)
      else {
        if (parsedByDigest.size >= MAX_CACHED) parsedByDigest.delete(parsedByDigest.keys().next().value!)
        parsedByDigest.set(actual, bundle)
      }
    }
  }
  if (bundle.brief.id !== pin.brief_id) {
    throw new AlloyError("brief_id_mismatch", `digest ${pin.digest} is a build of brief "${bundle.brief.id}", not of "${pin.brief_id}"`, {
      fix: `pin the right pair: run \`opencode-alloy pin <cycle> ${pin.brief_id}\` (or set brief_id to ${bundle.brief.id})`,
    })
  }
  return bundle
}

/** Parse object bytes that already passed the digest check. They must be canonical, too. */
export function parseBundle(bytes: Uint8Array, objectFile: string): Bundle {
  let json: unknown
  // a view of the same memory, not a copy (Buffer.from of a Buffer copies it)
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")
  try {
    json = JSON.parse(text)
  } catch {
    throw new AlloyError("malformed", `object ${objectFile} is not valid JSON`, { fix: "rebuild the brief with `opencode-alloy brief build <brief-id>`" })
  }
  // a well-formed object passes the cheap check and is used as parsed; anything else goes through
  // zod, which decides it and names the first fault, unless it is too large to hand to zod: then the
  // cheap check's refusal decides, and names where it first differs
  if (bundleAsIs === undefined) bundleAsIs = compileSchemaCheck(BundleSchema) ?? null
  const asIs = bundleAsIs?.(json) === true
  const notABundle = (where: ReadonlyArray<PropertyKey>, why: string) =>
    new AlloyError("malformed", `object ${objectFile} is not an alloy.bundle/v1 object: ${where.join(".") || "(top level)"}: ${why}`, {
      fix: "rebuild the brief with `opencode-alloy brief build <brief-id>` and re-pin",
    })
  if (!asIs && bundleAsIs && holdsMoreValuesThan(json, MAX_PARSED_VALUES)) {
    throw notABundle(mismatchPath(bundleAsIs, json), `does not match the schema (the object ${TOO_MANY_VALUES}, so only where it first differs is named)`)
  }
  const r = asIs ? ({ success: true, data: json as Bundle } as const) : BundleSchema.safeParse(json)
  if (!r.success) {
    const i = r.error.issues[0]!
    throw notABundle(i.path, i.message)
  }
  // the cheap check decides almost every object; only when it cannot does the full re-encoding run
  if (!isCanonicalEncoding(bytes, json, text) && Buffer.compare(canonicalBytes(normalizeJson(json)), bytes) !== 0) {
    throw new AlloyError("malformed", `object ${objectFile} is not in canonical form (RFC 8785), so its digest is not reproducible`, {
      fix: "rebuild the brief with `opencode-alloy brief build <brief-id>` and re-pin",
    })
  }
  return r.data
}
