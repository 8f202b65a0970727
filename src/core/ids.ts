/**
 * Identifiers: slugs for intents and briefs, acceptance-criterion ids, criterion
 * references, digests and Foundry stage names. An id is never a path.
 */
import { AlloyError } from "./errors.js"
import { suggest } from "./nearest.js"

export const SLUG_RE = /^[a-z0-9]+(-[a-z0-9]+)*$/
export const SLUG_MAX = 64
export const AC_ID_RE = /^AC-[1-9][0-9]{0,3}$/
export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/
export const STAGE_BASES = ["assay", "forge", "quench", "appraise", "human-appraise"] as const
export type StageBase = (typeof STAGE_BASES)[number]

export function isSlug(s: unknown): s is string {
  return typeof s === "string" && s.length <= SLUG_MAX && SLUG_RE.test(s)
}

function show(s: unknown): string {
  const text = typeof s === "string" ? s : (JSON.stringify(s) ?? String(s))
  const clipped = text.length > 80 ? `${text.slice(0, 77)}...` : text
  return JSON.stringify(clipped)
}

/** Validate an intent or brief id; `what` names it in the message ("brief id", "intent id"). */
export function assertSlug(s: unknown, what = "id"): string {
  if (isSlug(s)) return s
  const why =
    typeof s !== "string"
      ? "it is not a string"
      : s.length === 0
        ? "it is empty"
        : s.length > SLUG_MAX
          ? `it is ${s.length} characters long (at most ${SLUG_MAX})`
          : /[/\\]|\.\./.test(s) || s.includes("\0")
            ? "ids are names, never paths"
            : "it must be lowercase letters and digits in dash-separated words"
  throw new AlloyError("invalid_id", `${what} ${show(s)} is not valid: ${why}`, {
    fix: `use a kebab-case slug such as "checkout-redesign" (pattern ${SLUG_RE.source}, at most ${SLUG_MAX} characters)`,
  })
}

/**
 * A Foundry cycle or flow id. Foundry accepts any non-empty string that equals the definition's
 * file name (`foundry/cycles/<id>.md`): `Release_Notes`, `release.notes`, `releaseNotes` and
 * look-alikes in other scripts are all valid there. Alloy accepts the same ids, but only as one
 * file name: never a path separator, `..`, a leading dot, white space at either end, a control
 * character, or a name too long for a file (255 bytes with `.md`). An id is never a path.
 */
export const FOUNDRY_ID_MAX_BYTES = 255 - ".md".length
// eslint-disable-next-line no-control-regex
const FOUNDRY_ID_BAD_RE = /[/\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

// a UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4): a short id needs no count
export function isFoundryId(s: unknown): s is string {
  return (
    typeof s === "string" &&
    s.length > 0 &&
    !s.startsWith(".") &&
    s.trim() === s &&
    !FOUNDRY_ID_BAD_RE.test(s) &&
    (s.length * 3 <= FOUNDRY_ID_MAX_BYTES || Buffer.byteLength(s, "utf8") <= FOUNDRY_ID_MAX_BYTES)
  )
}

/** Validate a Foundry cycle or flow id (see `isFoundryId`). */
export function assertFoundryId(s: unknown, what = "cycle id"): string {
  if (isFoundryId(s)) return s
  const why =
    typeof s !== "string"
      ? "it is not a string"
      : s.length === 0
        ? "it is empty"
        : /[/\\]/.test(s) || s.startsWith(".")
          ? "ids are file names, never paths (no `/`, `\\` or leading `.`)"
          : Buffer.byteLength(s, "utf8") > FOUNDRY_ID_MAX_BYTES
            ? `it is longer than ${FOUNDRY_ID_MAX_BYTES} bytes`
            : "it has white space at an end or a control character"
  throw new AlloyError("invalid_id", `${what} ${show(s)} is not valid: ${why}`, {
    fix: `use the id Foundry uses: the definition's file name without \`.md\` (e.g. "draft-release-note")`,
  })
}

export function isDigest(s: unknown): s is string {
  return typeof s === "string" && DIGEST_RE.test(s)
}

export function assertDigest(s: unknown, what = "digest"): string {
  if (isDigest(s)) return s
  throw new AlloyError("invalid_digest", `${what} ${show(s)} is not a digest: expected "sha256:" followed by 64 lowercase hex characters`, {
    fix: "copy the digest printed by `opencode-alloy brief build`, or run `opencode-alloy pin <cycle> <brief-id>` to write it",
  })
}

/** Bare lowercase hex of a digest (what Foundry itself uses for its own hashes). */
export function digestHex(digest: string): string {
  return digest.slice("sha256:".length)
}

/** A reference to one acceptance criterion: `<intent-id>#AC-n`. */
export interface CriterionRef {
  readonly intent: string
  readonly ac: string
}

export function criterionRef(intent: string, ac: string): string {
  return `${intent}#${ac}`
}

export function parseCriterionRef(s: string): CriterionRef | undefined {
  const i = s.indexOf("#")
  if (i < 0) return undefined
  const intent = s.slice(0, i)
  const ac = s.slice(i + 1)
  return isSlug(intent) && AC_ID_RE.test(ac) ? { intent, ac } : undefined
}

/**
 * The law id Alloy uses for a gate in Foundry's appraisal output. Foundry posts an
 * appraiser issue as feedback tagged `law:<id>`, so the id must survive a YAML plain
 * scalar and read back to the criterion: `alloy--<intent>--ac-<n>`. Intent slugs never
 * contain `--`, so the split is unambiguous.
 */
export function gateLawId(intent: string, ac: string): string {
  return `alloy--${intent}--${ac.toLowerCase()}`
}

/**
 * The criterion a cited law id stands for: Alloy's gate id, or the criterion ref itself
 * (`<intent>#AC-<n>`), which appraisers cite too (the gate text names the criterion).
 */
export function parseGateLawId(lawId: string): CriterionRef | undefined {
  const m = /^alloy--([a-z0-9]+(?:-[a-z0-9]+)*)--ac-([1-9][0-9]{0,3})$/.exec(lawId) ?? /^([a-z0-9]+(?:-[a-z0-9]+)*)#AC-([1-9][0-9]{0,3})$/.exec(lawId)
  if (!m || !isSlug(m[1])) return undefined
  return { intent: m[1]!, ac: `AC-${m[2]}` }
}

export interface StageName {
  readonly base: StageBase
  readonly alias: string | undefined
  /** `base` or `base:alias`, exactly as given */
  readonly raw: string
}

/** Is `s` a stage name: a base, or `<base>:<alias>` with a slug alias? */
export function isStage(s: unknown): s is string {
  if (typeof s !== "string") return false
  const i = s.indexOf(":")
  const base = i < 0 ? s : s.slice(0, i)
  return (STAGE_BASES as readonly string[]).includes(base) && (i < 0 || isSlug(s.slice(i + 1)))
}

/** Parse `forge` or Foundry's `forge:<alias>` form. */
export function parseStage(s: unknown): StageName {
  if (isStage(s)) {
    const i = s.indexOf(":")
    return { base: (i < 0 ? s : s.slice(0, i)) as StageBase, alias: i < 0 ? undefined : s.slice(i + 1), raw: s }
  }
  // a slip of a stage's name (`forg`, `apprasie:draft`) is named, with the alias it carried when
  // that alias is itself well formed (a slug, so short and safe to repeat)
  const raw = typeof s === "string" ? s : ""
  const colon = raw.indexOf(":")
  const alias = colon < 0 ? "" : raw.slice(colon + 1)
  const near = raw && (colon < 0 || isSlug(alias)) ? suggest(colon < 0 ? raw : raw.slice(0, colon), STAGE_BASES) : undefined
  throw new AlloyError("invalid_stage", `stage ${show(s)} is not a Foundry stage`, {
    fix: `${near ? `did you mean ${near}${colon < 0 ? "" : `:${alias}`}? ` : ""}use one of ${STAGE_BASES.join(", ")}, optionally as "<base>:<cycle-or-alias>" (e.g. "forge:draft-release-note")`,
  })
}
