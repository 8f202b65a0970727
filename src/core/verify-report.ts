/**
 * What `opencode-alloy verify --json` prints (`alloy.verify/v1`), as the one schema the CLI,
 * the docs (docs/verify.md) and the tests share. A CI job reads `ok`; a person or a bot reads
 * `findings`, each named by a stable code with a severity: errors always fail, warnings fail
 * with `--strict`.
 */
import { z } from "zod"

export const VERIFY_REPORT_TYPE = "alloy.verify/v1"

/** Finding codes beyond the resolver's error codes (those name a pin that does not verify). */
export const FINDING_CODES = [
  // errors: a stage would run without its brief, or on something that does not verify
  "object_missing",
  "digest_mismatch",
  "brief_id_mismatch",
  "brief_not_found",
  "malformed",
  "invalid_id",
  "invalid_digest",
  "io_error",
  "unsafe_path",
  "cycle_not_found",
  "not_pinned",
  "ambiguous_pin",
  "merge_conflict",
  "ref_broken",
  // warnings: the gate passes without --strict
  "pin_behind",
  "source_drift",
  "formation_dangling",
  "pin_shadowed",
  "pin_outside_formation",
  "pin_other_brief",
  "foundry_version",
  "stray_temp",
] as const
export type FindingCode = (typeof FINDING_CODES)[number]

export const FindingSchema = z.strictObject({
  code: z.enum(FINDING_CODES),
  severity: z.enum(["error", "warning"]),
  message: z.string(),
  fix: z.string().optional(),
  /** the file to look at, relative to the project root */
  file: z.string().optional(),
  cycle: z.string().optional(),
  flow: z.string().optional(),
  brief: z.string().optional(),
})
export type Finding = z.infer<typeof FindingSchema>

export const PIN_STATES = ["current", "behind", "unbuilt", "broken"] as const
export type PinState = (typeof PIN_STATES)[number]

export const PinCheckSchema = z.strictObject({
  kind: z.enum(["cycle", "flow"]),
  id: z.string(),
  file: z.string(),
  brief_id: z.string().optional(),
  digest: z.string().optional(),
  /** ok: verifies and is the brief's current build (or the brief has no ref); stale: a newer build exists; error: does not verify */
  status: z.enum(["ok", "stale", "error"]),
  current: z.string().optional(),
  /** flow pins: the cycles without a pin of their own that this pin covers */
  covers: z.array(z.string()).optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  fix: z.string().optional(),
})
export type PinCheck = z.infer<typeof PinCheckSchema>

export const VerifyReportSchema = z.strictObject({
  $type: z.literal(VERIFY_REPORT_TYPE),
  /** false when there is an error, or (with strict) a warning */
  ok: z.boolean(),
  strict: z.boolean(),
  /** pins checked (cycle and flow files with an `alloy` block) */
  checked: z.number().int(),
  failed: z.number().int(),
  stale: z.number().int(),
  errors: z.number().int(),
  /** the number of warning findings */
  warning_count: z.number().int(),
  pins: z.array(PinCheckSchema),
  /** cycles without a pin of their own that a flow pin covers */
  covered: z.array(z.strictObject({ cycle: z.string(), flow: z.string() })),
  /** cycles with no pin at all (not an error unless a brief's formation names them) */
  unpinned: z.array(z.string()),
  findings: z.array(FindingSchema),
  /** every warning finding's message, one line each (kept for readers of the first report format) */
  warnings: z.array(z.string()),
})
export type VerifyReport = z.infer<typeof VerifyReportSchema>

/**
 * Does text hold git merge conflict markers: a line starting `<<<<<<<` and one starting
 * `>>>>>>>`? (`=======` alone is also a Markdown heading underline, so it is not enough.)
 */
export function hasConflictMarkers(text: string): boolean {
  return /^<{7}(?: |$)/m.test(text) && /^>{7}(?: |$)/m.test(text)
}

/** The exit rule, written once: errors always fail; warnings fail with strict. */
export function verifyPasses(findings: readonly Finding[], strict: boolean): boolean {
  return findings.every((f) => f.severity === "warning" && !strict)
}
