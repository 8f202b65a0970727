/**
 * What a team store holds (docs/oci-store.md), as pure functions: one OCI artifact per Alloy record,
 * tagged by the record's identity, so a reader lists tags to discover records and every writer of
 * the same record writes the same manifest bytes.
 *
 *   object-<hex>        a bundle, `.alloy/objects/sha256/<hex>.json`; its blob digest is its name
 *   capabilities-<hex>  a capability manifest (`alloy.capabilities/v1`), `.alloy/runs/capabilities/sha256/<hex>.json`;
 *                       its blob digest is its name (the digest run records and runners name)
 *   run-<key>           a run record, `.alloy/runs/records/<key>.json` (key = idempotency key)
 *   evidence-<sha256 of path>
 *                       a file of the committed evidence ledger, `.alloy/evidence/<path>`
 *   request-<sha256 of id>
 *                       a bridge request's create-once file, `.alloy/runs/requests/<key>/request.json`
 *                       or `…/result.json` (id = `<key>/request.json`); its mutable status is not shared
 *   runner-<sha256 of id>
 *                       a runner's registration (`alloy.runner/v1` without its lease, which only
 *                       says the runner was alive a moment ago), `.alloy/runs/runners/<id>.json`
 *
 * Tags are hints: a pulled record is bound to its identity by its content (an object's bytes hash
 * to its name; a run record carries its key; a ledger file's manifest names its path) and every
 * byte is checked against its digest before anything is stored.
 */
import { createHash } from "node:crypto"
import { hashedTag } from "../service/pulled.js"

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json"
/** the two bytes `{}` every Alloy artifact uses as its config */
export const EMPTY_BYTES = Buffer.from("{}", "utf8")
export const EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

/** in push order: bundles and capability manifests before the records that name them */
export const RECORD_KINDS = ["object", "capabilities", "run", "evidence", "request", "runner"] as const
export type RecordKind = (typeof RECORD_KINDS)[number]

export const MEDIA_TYPES: Record<RecordKind, string> = {
  object: "application/vnd.opencode-alloy.bundle.v1+json",
  capabilities: "application/vnd.opencode-alloy.capabilities.v1+json",
  run: "application/vnd.opencode-alloy.run.v1+json",
  evidence: "application/vnd.opencode-alloy.evidence.v1",
  request: "application/vnd.opencode-alloy.request.v1+json",
  runner: "application/vnd.opencode-alloy.runner.v1+json",
}
/** the config media type of the ORAS 1.0 shape (registries that refuse `artifactType`) */
export const CONFIG_TYPES: Record<RecordKind, string> = {
  object: "application/vnd.opencode-alloy.bundle.config.v1+json",
  capabilities: "application/vnd.opencode-alloy.capabilities.config.v1+json",
  run: "application/vnd.opencode-alloy.run.config.v1+json",
  evidence: "application/vnd.opencode-alloy.evidence.config.v1+json",
  request: "application/vnd.opencode-alloy.request.config.v1+json",
  runner: "application/vnd.opencode-alloy.runner.config.v1+json",
}

export const ANN = {
  title: "org.opencontainers.image.title",
  kind: "dev.opencode-alloy.kind",
  id: "dev.opencode-alloy.id",
  briefId: "dev.opencode-alloy.brief-id",
  bundleDigest: "dev.opencode-alloy.bundle-digest",
  sourceCommit: "dev.opencode-alloy.source-commit",
  repository: "dev.opencode-alloy.repository",
  machine: "dev.opencode-alloy.machine",
} as const

const HEX64 = /^[0-9a-f]{64}$/
/** a ledger path: relative, `/`-separated, plain names (no dot files, no `..`), at most 8 levels */
const LEDGER_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/

export function isLedgerPath(p: string): boolean {
  if (p.length > 400) return false
  const parts = p.split("/")
  return parts.length <= 8 && parts.every((s) => LEDGER_SEGMENT.test(s) && s !== "." && s !== ".." && !s.endsWith(".tmp"))
}

/** The identity of a record: what its file is named by, and so what two copies of it share. */
export interface RecordId {
  readonly kind: RecordKind
  /**
   * object and capabilities: 64 hex of its digest; run: its idempotency key; evidence: its path under `.alloy/evidence/`;
   * request: `<request key>/request.json` or `<request key>/result.json`; runner: the runner id
   */
  readonly id: string
}

/** Kinds whose tag carries a hash of the id (the id itself is no tag-safe 64 hex). */
const HASHED: ReadonlySet<RecordKind> = new Set(["evidence", "request", "runner"])

export function tagOf(r: RecordId): string {
  if (HASHED.has(r.kind)) return hashedTag(r.kind as "evidence" | "request" | "runner", r.id)
  return `${r.kind}-${r.id}`
}

/** The kind (and, for objects, capability manifests and runs, the identity) a tag names; undefined for any other tag. */
export function parseTag(tag: string): { kind: RecordKind; id?: string; pathHash?: string } | undefined {
  const m = /^(object|capabilities|run|evidence|request|runner)-([0-9a-f]{64})$/.exec(tag)
  if (!m) return undefined
  const kind = m[1] as RecordKind
  return HASHED.has(kind) ? { kind, pathHash: m[2]! } : { kind, id: m[2]! }
}

/** a bridge request key (content key or one given with --idempotency-key) and which create-once file */
export const REQUEST_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/(request|result)\.json$/
/** a runner id (a ULID today; any plain name) */
export const RUNNER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function validId(r: RecordId): boolean {
  switch (r.kind) {
    case "evidence":
      return isLedgerPath(r.id)
    case "request":
      return REQUEST_ID_RE.test(r.id) && !r.id.includes("..")
    case "runner":
      return RUNNER_ID_RE.test(r.id) && !r.id.includes("..")
    default:
      return HEX64.test(r.id)
  }
}

export interface Descriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly annotations?: Record<string, string>
}

export interface ManifestInput extends RecordId {
  readonly blob: Descriptor
  /** extra facts: brief id, bundle digest, source commit, repository, machine (strings only; empty ones are left out) */
  readonly annotations: Partial<Record<keyof typeof ANN, string | undefined>>
}

/** The file name a record's layer carries (`org.opencontainers.image.title`). */
export function titleOf(r: RecordId): string {
  return r.kind === "evidence" || r.kind === "request" ? r.id : `${r.id}.json`
}

/**
 * The manifest of one record, as bytes. Deterministic: the same record with the same facts gives the
 * same bytes (no clock, keys in a fixed order), so concurrent pushers of one record write one manifest.
 * `shape: "oci-1.1"` is an image manifest with `artifactType` and the empty config; `"oras-1.0"`
 * puts the artifact type in the config media type for registries that refuse `artifactType`.
 */
export function manifestBytes(m: ManifestInput, shape: "oci-1.1" | "oras-1.0" = "oci-1.1"): Buffer {
  const ann: Record<string, string> = { [ANN.kind]: m.kind, [ANN.id]: m.id }
  for (const k of ["briefId", "bundleDigest", "sourceCommit", "repository", "machine"] as const) {
    const v = m.annotations[k]
    if (typeof v === "string" && v) ann[ANN[k]] = v
  }
  const layer = { mediaType: MEDIA_TYPES[m.kind], digest: m.blob.digest, size: m.blob.size, annotations: { [ANN.title]: titleOf(m) } }
  const doc =
    shape === "oci-1.1"
      ? { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: MEDIA_TYPES[m.kind], config: { mediaType: OCI_EMPTY, digest: EMPTY_DIGEST, size: 2 }, layers: [layer], annotations: ann }
      : { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: CONFIG_TYPES[m.kind], digest: EMPTY_DIGEST, size: 2 }, layers: [layer], annotations: ann }
  return Buffer.from(JSON.stringify(doc), "utf8")
}

export interface ParsedManifest extends RecordId {
  readonly layer: Descriptor
  readonly annotations: Record<string, string>
}

/**
 * Read an Alloy record manifest (either shape). Returns a reason string when it is not one: a
 * manifest of another tool, a second layer, an identity that does not match the tag.
 */
export function parseManifest(bytes: Uint8Array, expect: { kind: RecordKind; id?: string; pathHash?: string }): ParsedManifest | string {
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"))
  } catch {
    return "the manifest is not JSON"
  }
  if (!doc || typeof doc !== "object") return "the manifest is not an object"
  const d = doc as Record<string, unknown>
  if (d["schemaVersion"] !== 2) return "the manifest is not schema version 2"
  const type = typeof d["artifactType"] === "string" ? d["artifactType"] : (d["config"] as { mediaType?: unknown } | undefined)?.mediaType
  if (type !== MEDIA_TYPES[expect.kind] && type !== CONFIG_TYPES[expect.kind]) return `the manifest's artifact type is not ${MEDIA_TYPES[expect.kind]}`
  const layers = d["layers"]
  if (!Array.isArray(layers) || layers.length !== 1) return "an Alloy record manifest has exactly one layer"
  const l = layers[0] as Record<string, unknown>
  if (typeof l["digest"] !== "string" || !/^sha256:[0-9a-f]{64}$/.test(l["digest"])) return "the layer has no sha256 digest"
  if (typeof l["size"] !== "number" || !Number.isSafeInteger(l["size"]) || l["size"] < 0) return "the layer has no size"
  if (l["mediaType"] !== MEDIA_TYPES[expect.kind]) return "the layer's media type does not match its kind"
  const rawAnn = d["annotations"] && typeof d["annotations"] === "object" ? (d["annotations"] as Record<string, unknown>) : {}
  const annotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(rawAnn)) if (typeof v === "string" && k.length <= 200) annotations[k] = v.slice(0, 1000)
  const id = annotations[ANN.id]
  if (annotations[ANN.kind] !== expect.kind || typeof id !== "string") return "the manifest does not name its record"
  if (!validId({ kind: expect.kind, id })) return `the manifest names an invalid record id`
  if (expect.id !== undefined && id !== expect.id) return "the manifest names another record than its tag"
  if (expect.pathHash !== undefined && createHash("sha256").update(id, "utf8").digest("hex") !== expect.pathHash)
    return `the manifest names another ${expect.kind === "evidence" ? "ledger file" : `${expect.kind} record`} than its tag`
  if ((expect.kind === "object" || expect.kind === "capabilities") && l["digest"] !== `sha256:${id}`)
    return `${expect.kind === "object" ? "an object's" : "a capability manifest's"} layer digest is not its name`
  return { kind: expect.kind, id, layer: { mediaType: l["mediaType"] as string, digest: l["digest"], size: l["size"] }, annotations }
}
