/**
 * The capability manifest (`alloy.capabilities/v1`): what an installation offers that Alloy relies
 * on — OpenCode's version, `foundry/VERSION`, the protocol generation, Foundry's tools with a digest
 * of each tool's JSON Schema, its agents, stage kinds and the features Alloy needs. Canonical JSON,
 * content-addressed like bundles, so a run record can name the exact capabilities it ran under.
 * Pure: no I/O.
 */
import { z } from "zod"
import { DIGEST_RE } from "./ids.js"
import { safeParseJson } from "./schema-errors.js"
import { canonicalBytes, digestOf, encodeCanonical, normalizeJson } from "./digest.js"

export const CAPABILITIES_TYPE = "alloy.capabilities/v1"
/** Foundry protocol generations (the shapes of each live in src/foundry/generations.ts). */
export const PROTOCOL_GENERATIONS = ["orchestrate-3.6", "shapes-3.7", "run", "unknown"] as const

const Digest = z.string().regex(DIGEST_RE)

export const ToolCapabilitySchema = z.strictObject({
  id: z.string().min(1),
  /** sha256 of the canonical JSON of the tool's parameter JSON Schema */
  schema_digest: Digest,
  /** top-level argument names, sorted; optional ones end in `?` (names a schema difference) */
  fields: z.array(z.string()),
})
export type ToolCapability = z.infer<typeof ToolCapabilitySchema>

export const CapabilitiesSchema = z.strictObject({
  $type: z.literal(CAPABILITIES_TYPE),
  /** where the facts came from: project files only, or a running OpenCode server too */
  source: z.enum(["files", "server"]),
  opencode: z.strictObject({ version: z.string().nullable() }),
  foundry: z.strictObject({ version: z.string().nullable(), generation: z.enum(PROTOCOL_GENERATIONS) }),
  /** Foundry's tools (`foundry_*`), sorted by id; empty when only files were read */
  tools: z.array(ToolCapabilitySchema),
  /** Foundry's agents (`foundry-*`), sorted */
  agents: z.array(z.string()),
  stage_kinds: z.array(z.string()),
  /** features Alloy relies on in this generation */
  features: z.array(z.string()),
})
export type Capabilities = z.infer<typeof CapabilitiesSchema>

/** Digest of a tool's parameter schema: canonical JSON, so key order does not matter. */
export function toolSchemaDigest(schema: unknown): string {
  return digestOf(canonicalBytes(normalizeJson(schema ?? {})))
}

/** Top-level argument names of a JSON Schema object, optional ones marked `name?`. */
export function schemaFields(schema: unknown): string[] {
  if (!schema || typeof schema !== "object") return []
  const s = schema as { properties?: Record<string, unknown>; required?: unknown }
  const required = new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === "string") : [])
  return Object.keys(s.properties ?? {})
    .map((k) => (required.has(k) ? k : `${k}?`))
    .sort()
}

export function toolCapability(id: string, schema: unknown): ToolCapability {
  return { id, schema_digest: toolSchemaDigest(schema), fields: schemaFields(schema) }
}

/** Validate, sort and encode a manifest: canonical bytes and their digest. */
export function encodeCapabilities(input: Capabilities): { manifest: Capabilities; bytes: Buffer; digest: string } {
  const parsed = CapabilitiesSchema.parse(input)
  const manifest: Capabilities = {
    ...parsed,
    tools: [...parsed.tools].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    agents: [...new Set(parsed.agents)].sort(),
    stage_kinds: [...new Set(parsed.stage_kinds)].sort(),
    features: [...new Set(parsed.features)].sort(),
  }
  const { bytes, digest } = encodeCanonical(manifest)
  return { manifest, bytes, digest }
}

/** The manifest digest a run record carries (`sha256:<hex>` of its canonical JSON). */
export function capabilitiesDigest(manifest: Capabilities): string {
  return encodeCapabilities(manifest).digest
}

/**
 * Bind stored or pulled bytes to the manifest they claim to be: they must hash to `digest`, parse
 * as `alloy.capabilities/v1`, and be that manifest's canonical bytes (so one manifest has exactly
 * one file and one digest). The manifest, or the reason it is not one.
 */
export function decodeCapabilities(bytes: Uint8Array, digest: string): Capabilities | string {
  if (digestOf(bytes) !== digest) return `its bytes do not hash to ${digest}`
  const r = safeParseJson(CapabilitiesSchema, Buffer.from(bytes).toString("utf8"))
  if (!r) return "not JSON"
  if (!r.success) return `not an ${CAPABILITIES_TYPE} manifest`
  const encoded = encodeCapabilities(r.data)
  if (encoded.digest !== digest) return `not the canonical bytes of an ${CAPABILITIES_TYPE} manifest`
  return encoded.manifest
}
