/**
 * The payload convention (ALLOY.md §4): a cycle or flow opts in with
 * `alloy: { brief_id: <slug>, digest: "sha256:<64 hex>" }` in its frontmatter.
 */
import { AlloyError } from "./errors.js"
import { DIGEST_RE, SLUG_MAX, SLUG_RE } from "./ids.js"

export const PIN_KEY = "alloy"

export interface Pin {
  readonly brief_id: string
  readonly digest: string
}

/** Where a pin was read from, so messages can name the file and the key. */
export interface PinSource {
  readonly kind: "cycle" | "flow" | "explicit"
  readonly id: string
  readonly file: string | undefined
}

export interface LocatedPin extends Pin {
  readonly source: PinSource
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return "nothing"
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v)
  if (Array.isArray(v)) return "a list"
  return typeof v === "object" ? "a mapping" : `${typeof v} ${String(v)}`
}

/**
 * Read the `alloy` block from parsed frontmatter. Returns `undefined` when there is none;
 * throws an AlloyError naming the file and key when it is there but wrong.
 */
export function readPinBlock(frontmatter: Record<string, unknown>, file: string, owner?: { kind: "cycle" | "flow"; id: string }): Pin | undefined {
  if (!Object.hasOwn(frontmatter, PIN_KEY)) return undefined
  const block = frontmatter[PIN_KEY]
  const target = owner ? `${owner.kind === "flow" ? "--flow " : ""}${owner.id}` : "<cycle>"
  const pinCmd = (brief: string) => `opencode-alloy pin ${target} ${brief}`
  const fix = `run \`${pinCmd("<brief-id>")}\` to write a correct block`
  const where = { file, source_file: file, ...(owner ? { [owner.kind]: owner.id } : {}) }
  if (block === null || typeof block !== "object" || Array.isArray(block)) {
    throw new AlloyError("malformed", `key \`alloy\` must be a mapping with \`brief_id\` and \`digest\`, found ${describe(block)}`, { ...where, field: "alloy", fix })
  }
  const b = block as Record<string, unknown>
  const briefId = b["brief_id"]
  const digest = b["digest"]
  if (briefId === undefined || briefId === null) {
    throw new AlloyError("malformed", `key \`alloy.brief_id\` is missing`, { ...where, field: "alloy.brief_id", fix })
  }
  if (typeof briefId !== "string" || briefId.length > SLUG_MAX || !SLUG_RE.test(briefId)) {
    throw new AlloyError("invalid_id", `key \`alloy.brief_id\` is ${describe(briefId)}, which is not a brief id (a kebab-case slug, never a path)`, {
      ...where,
      field: "alloy.brief_id",
      fix: `set \`alloy.brief_id\` to the id of a brief in .alloy/briefs/, or run \`${pinCmd("<brief-id>")}\``,
    })
  }
  if (digest === undefined || digest === null) {
    throw new AlloyError("malformed", `key \`alloy.digest\` is missing`, { ...where, field: "alloy.digest", fix: `run \`${pinCmd(briefId)}\`` })
  }
  if (typeof digest !== "string" || !DIGEST_RE.test(digest)) {
    throw new AlloyError("invalid_digest", `key \`alloy.digest\` is ${describe(digest)}, not "sha256:" + 64 lowercase hex characters`, {
      ...where,
      field: "alloy.digest",
      fix: `run \`${pinCmd(briefId)}\` to write the current digest`,
    })
  }
  return { brief_id: briefId, digest }
}
