/**
 * What `opencode-alloy verify --json` prints (`alloy.verify/v1`), as the one schema the CLI,
 * the docs (docs/verify.md) and the tests share. A CI job reads `ok`; a person or a bot reads
 * `findings`, each named by a stable code with a severity: errors always fail, warnings fail
 * with `--strict`. The codes and the rules that need no schema (the exit rule, conflict markers) are
 * in ./verify-rules.ts, so the scan that makes the report does not build these schemas to run.
 */
import { z } from "zod"
import { FINDING_CODES, VERIFY_REPORT_TYPE } from "./verify-rules.js"

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
