/**
 * What `opencode-alloy verify` decides with, apart from the report's schema (./verify-report.ts):
 * the report's type, its finding codes, a pin's states, the exit rule and what counts as a merge
 * conflict. No zod here: the pin scan, `status` and the store read these on every run, and
 * building the report's schemas took about 3 ms of every `verify` that never parses a report.
 */

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

export const PIN_STATES = ["current", "behind", "unbuilt", "broken"] as const
export type PinState = (typeof PIN_STATES)[number]

/**
 * Does text hold git merge conflict markers: a line starting `<<<<<<<` and one starting
 * `>>>>>>>`? (`=======` alone is also a Markdown heading underline, so it is not enough.)
 */
export function hasConflictMarkers(text: string): boolean {
  return /^<{7}(?: |$)/m.test(text) && /^>{7}(?: |$)/m.test(text)
}

/** The exit rule, written once: errors always fail; warnings fail with strict. */
export function verifyPasses(findings: ReadonlyArray<{ readonly severity: "error" | "warning" }>, strict: boolean): boolean {
  return findings.every((f) => f.severity === "warning" && !strict)
}
