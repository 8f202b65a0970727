/**
 * Run results and events (ALLOY.md §1, §6): what one Foundry stage did under a pinned bundle,
 * exported into `.alloy/runs/`. `RunRecordSchema` is the format's single source of truth.
 *
 *   .alloy/runs/records/<idempotency-key>.json   one record per stage run (create-once)
 *   .alloy/runs/events.jsonl                      append-only event stream (one JSON per line)
 */
import { z } from "zod"
import { DIGEST_RE } from "./ids.js"
import { canonicalBytes, normalizeJson, sha256Hex } from "./digest.js"

export const RUN_RECORD_TYPE = "alloy.run/v1"
export const RUN_EVENT_TYPE = "alloy.event/v1"

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/)

export const FeedbackItemSummarySchema = z.object({
  id: z.string(),
  file: z.string(),
  tag: z.string(),
  state: z.string(),
  source: z.string().optional(),
  reason: z.string().optional(),
  artefact_version: z.string().optional(),
  /** `<intent>#AC-n` when the tag cites an Alloy gate (`law:alloy--<intent>--ac-<n>`) */
  criterion: z.string().optional(),
  text: z.string().optional(),
  /** the item's transitions, newest first as Foundry keeps them (imports fill this; optional for the hook) */
  history: z.array(z.object({ state: z.string(), stage: z.string().optional(), timestamp: z.string().optional(), reason: z.string().optional() })).optional(),
})
export type FeedbackItemSummary = z.infer<typeof FeedbackItemSummarySchema>

export const FeedbackSummarySchema = z.object({
  total: z.number().int(),
  by_state: z.record(z.string(), z.number().int()),
  by_tag: z.record(z.string(), z.number().int()),
  /** the items whose tag cites an Alloy gate, in full */
  alloy_items: z.array(FeedbackItemSummarySchema),
  /**
   * Every item of WORK.feedback.yaml as it stood at the record's time (imports fill this): the evidence
   * derivation also reads quench (`law:<law>:<validator>`), human (`human`) and declared-law items from it.
   */
  items: z.array(FeedbackItemSummarySchema).optional(),
  /** set when item copies were left out to keep the record within the size limit (the counts are complete) */
  omitted: z.object({ items: z.number().int(), reason: z.string() }).optional(),
})
export type FeedbackSummary = z.infer<typeof FeedbackSummarySchema>

/** Most bytes of a check's output a record keeps (its end); the digest covers all of it. */
export const CHECK_TAIL_BYTES = 2048

/** One command of a check gate as `opencode-alloy check` ran it. */
export const CheckCommandRunSchema = z.object({
  command: z.string(),
  /** the words it was run with (absent when it ran through a shell) */
  argv: z.array(z.string()).optional(),
  shell: z.boolean(),
  /** the process's exit code; null when it did not exit on its own (timeout, output limit, signal) or never started */
  exit_code: z.number().int().nullable(),
  signal: z.string().optional(),
  timed_out: z.boolean().optional(),
  /** stopped because its output passed the limit */
  output_over_limit: z.boolean().optional(),
  /** the command could not be started (e.g. not found) */
  error: z.string().optional(),
  duration_ms: z.number().int().nonnegative(),
  /** sha256 hex of what the process wrote to stdout, and to stderr (up to the output limit); the output itself is not kept */
  stdout_sha256: Hex64,
  stderr_sha256: Hex64,
  /** bytes read from stdout and stderr together */
  output_bytes: z.number().int().nonnegative(),
  /** the last bytes of the output (at most CHECK_TAIL_BYTES), for a person reading the record, secrets removed (core/redact.ts) */
  tail: z.string().max(CHECK_TAIL_BYTES * 4),
  /** how many secrets were removed from the tail */
  tail_redacted: z.number().int().positive().optional(),
})
export type CheckCommandRun = z.infer<typeof CheckCommandRunSchema>

export const CheckRunSchema = z.object({
  /** the gate id (`<intent>#AC-n/check`) and its criterion */
  gate: z.string(),
  criterion: z.string(),
  /** the gate's command as the bundle states it (several check entries are joined with ` && `) */
  command: z.string(),
  commands: z.array(CheckCommandRunSchema),
})
export type CheckRun = z.infer<typeof CheckRunSchema>

/** Did a check command run pass? Exit 0, on its own, within its limits. */
export function checkCommandPassed(c: CheckCommandRun): boolean {
  return c.exit_code === 0 && !c.timed_out && !c.output_over_limit && !c.error
}

/** A check gate passed: every one of its commands ran and passed (no command ran: not a pass). */
export function checkRunPassed(r: CheckRun): boolean {
  return r.commands.length > 0 && r.commands.every(checkCommandPassed)
}

export const RunRecordSchema = z.object({
  $type: z.literal(RUN_RECORD_TYPE),
  /** ULID */
  run_id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  /** sha256 hex of cycle, stage, token hash (or start time) and base sha: same stage run => same key */
  idempotency_key: Hex64,
  pin: z.object({ brief_id: z.string(), digest: z.string().regex(DIGEST_RE) }).nullable(),
  cycle: z.string(),
  stage: z.string(),
  flow: z.string().optional(),
  summary: z.string().optional(),
  base_sha: z.string().optional(),
  token_hash: z.string().optional(),
  started_at: z.string().optional(),
  ended_at: z.string(),
  foundry_version: z.string().optional(),
  alloy_version: z.string(),
  /** where the record came from: the live hook, or an import (snapshot, branch, outbox) */
  source: z.enum(["hook", "import", "cli"]).default("hook"),
  feedback: FeedbackSummarySchema.optional(),
  // ---- optional fields written by `import` and `evidence signoff` (docs/evidence.md) -----------------------
  /** where an imported record was read: a dry-run snapshot, a git branch, the work tree's WORK files, an outbox */
  origin: z.object({ kind: z.enum(["snapshot", "branch", "worktree", "outbox", "cli"]), ref: z.string() }).optional(),
  /** how `pin` was found: the hook, the trace of a dry run, the branch's cycle file, the work tree, an explicit argument */
  pin_source: z.enum(["hook", "trace", "branch", "worktree", "explicit"]).optional(),
  /** one run of one cycle (one life of the WORK files): `<cycle>@<timestamp of its first history entry>` */
  session: z.string().optional(),
  /** `seq` of the WORK.history.yaml entry the record was made from */
  seq: z.number().int().optional(),
  /** the commit that recorded the stage (`[<cycle>] <stage>: ...`), or the attest commit */
  commit: z
    .string()
    .regex(/^[0-9a-f]{7,64}$/)
    .optional(),
  /** Foundry's artefact version (64 hex) the stage produced (forge) or judged (quench, appraise) */
  artefact_version: Hex64.optional(),
  /** quench stages: the validator issues this run raised (tags `law:<law>:<validator>`) */
  quench: z.object({ issues: z.array(z.object({ tag: z.string(), file: z.string(), id: z.string().optional(), text: z.string().optional() })) }).optional(),
  /** files of the work: the final diff (finish, attest) or the files stages changed so far (observe) */
  artefacts: z.array(z.object({ path: z.string(), state: z.enum(["new", "modified", "deleted", "changed"]), sha256: Hex64.optional() })).optional(),
  /** set when the session reached `foundry_attest` (ATTEST.md found) */
  attestation: z.object({ diff_sha256: z.string().optional(), stages: z.array(z.string()), archive: z.string().optional() }).optional(),
  /** explicit human sign-offs (`opencode-alloy evidence signoff`) */
  signoffs: z.array(z.object({ criterion: z.string(), by: z.string(), note: z.string().optional() })).optional(),
  /** appraise stages: the Alloy gate law ids the appraisers were shown (recorded by the live hook from its own dispatch) */
  presented_gates: z.array(z.string()).optional(),
  /** every source that reported this stage run (the live hook, imports of a branch, a snapshot...), merged into one record */
  provenance: z.array(z.object({ source: z.enum(["hook", "import", "cli"]), origin: z.object({ kind: z.string(), ref: z.string() }).optional() })).optional(),
  /** Alloy's own run of a check gate (`opencode-alloy check --record`, stage `check`): what ran and how it ended */
  check: CheckRunSchema.optional(),
  /** the capability manifest (`alloy.capabilities/v1`) digest of the installation that wrote the record; absent in older records */
  capabilities: z.string().regex(DIGEST_RE).optional(),
  /** `ok` normally; `error` when Foundry's stage_end returned an error envelope */
  outcome: z.enum(["ok", "error"]).default("ok"),
  error: z.string().optional(),
  /** the cycle carries an `alloy` block that could not be read (pin is then null): its error code and message */
  pin_error: z.object({ code: z.string(), message: z.string() }).optional(),
  /**
   * Set by the reader, never written: the record was pulled from a team store (docs/oci-store.md),
   * pushed there from `repository` on `machine`. A `pulled` key inside a record file is ignored.
   */
  pulled: z.object({ store: z.string(), repository: z.string().optional(), machine: z.string().optional() }).optional(),
})
export type RunRecord = z.infer<typeof RunRecordSchema>

export const RUN_EVENT_KINDS = ["stage_begun", "stage_ended", "stage_blocked", "dispatch", "heartbeat", "cycle_done", "cycle_blocked", "violation", "request_state"] as const

export const RunEventSchema = z.object({
  $type: z.literal(RUN_EVENT_TYPE),
  kind: z.enum(RUN_EVENT_KINDS),
  at: z.string(),
  cycle: z.string().optional(),
  stage: z.string().optional(),
  pin: z.object({ brief_id: z.string(), digest: z.string() }).nullable().optional(),
  run_id: z.string().optional(),
  reason: z.string().optional(),
  /** stable Alloy error code, for `stage_blocked` (and warnings) caused by a pin that did not verify */
  code: z.string().optional(),
  /** `dispatch` of appraisers: the Alloy gates each appraiser task was shown (by task index) */
  gates: z.array(z.array(z.string())).optional(),
  /** bridge events: the request's idempotency key, its state, the runner and the lease it holds until */
  request: z.string().optional(),
  state: z.string().optional(),
  runner: z.string().optional(),
  lease_until: z.string().optional(),
})
export type RunEvent = z.infer<typeof RunEventSchema>

/** Order of records: end time, then Foundry's history seq, then run id and key (a total order, so every reader sorts alike). */
export function compareRecords(a: RunRecord, b: RunRecord): number {
  const t = cmpTime(a.ended_at, b.ended_at)
  if (t) return t
  const s = (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER)
  return s || a.run_id.localeCompare(b.run_id) || a.idempotency_key.localeCompare(b.idempotency_key)
}

/** An ISO time as the number `cmpTime` compares; an unparsable or missing one is 0. */
function timeValue(a: string | undefined): number {
  const x = a ? Date.parse(a) : NaN
  return Number.isNaN(x) ? 0 : x
}

/** Compare two ISO times; an unparsable time counts as 0. */
export function cmpTime(a: string | undefined, b: string | undefined): number {
  return timeValue(a) - timeValue(b)
}

/**
 * `list` newest first by `at` (a new array; of equal times, the order they came in), in the order
 * `sort((a, b) => cmpTime(at(b), at(a)))` gives, with each time parsed once instead of once per
 * comparison: the evidence of one criterion over 100,000 run records is 25,000 observations, whose
 * sort spent most of its time parsing the same times again (docs/performance.md).
 */
export function newestFirst<T>(list: readonly T[], at: (t: T) => string | undefined): T[] {
  const keyed = list.map((item) => ({ item, t: timeValue(at(item)) }))
  // Array.prototype.sort is stable: equal times stay in the order they came
  keyed.sort((a, b) => b.t - a.t)
  return keyed.map((k) => k.item)
}

// ---- identity ----------------------------------------------------------------------------------

/** A record key from what was observed (never from where or when it was read): sha256 hex of the canonical parts. */
export function recordKey(parts: readonly unknown[]): string {
  return sha256Hex(canonicalBytes(normalizeJson(["alloy.import/v1", ...parts])))
}

/** Stages that Foundry opens with `foundry_stage_begin` (a token, a base commit) and closes with `foundry_stage_end`. */
export const BRIDGED_STAGE_BASES = ["forge", "assay", "human-appraise"] as const

export function isBridgedStage(stage: string): boolean {
  return (BRIDGED_STAGE_BASES as readonly string[]).includes(stage.split(":")[0]!)
}

/**
 * The identity of one run of a stage Foundry opens with `stage_begin`: its cycle, stage and the commit
 * it started from (`baseSha`). The live hook knows the base from `.foundry/active-stage.json`; an import
 * knows it as the parent of the commit Foundry made for the stage (or from a dry run's trace), so both
 * name the same stage run with the same key.
 */
export function stageRunKey(cycle: string, stage: string, baseSha: string): string {
  return recordKey(["stage-run", cycle, stage, baseSha])
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

/**
 * A run id (ULID form) that is a function of the record's key and time: the same stage run gets the
 * same run id on every machine and in every export. Time part = `atMs`, the rest from the key.
 */
export function runIdFor(key: string, atMs: number): string {
  let t = Math.max(0, Math.min(Math.floor(Number.isFinite(atMs) ? atMs : 0), 2 ** 48 - 1))
  let time = ""
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time
    t = Math.floor(t / 32)
  }
  let rand = ""
  for (let i = 0; i < 16; i++) rand += CROCKFORD[parseInt(key.slice(i * 2, i * 2 + 2), 16) % 32]!
  return time + rand
}
