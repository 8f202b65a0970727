/**
 * Run results and events (ALLOY.md §1, §6): what one Foundry stage did under a pinned bundle,
 * exported into `.alloy/runs/`. `RunRecordSchema` is the format's single source of truth.
 *
 *   .alloy/runs/records/<idempotency-key>.json   one record per stage run (create-once)
 *   .alloy/runs/events.jsonl                      append-only event stream (one JSON per line)
 */
import { z } from "zod"
import { DIGEST_RE } from "./ids.js"

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
})
export type FeedbackItemSummary = z.infer<typeof FeedbackItemSummarySchema>

export const FeedbackSummarySchema = z.object({
  total: z.number().int(),
  by_state: z.record(z.string(), z.number().int()),
  by_tag: z.record(z.string(), z.number().int()),
  /** the items whose tag cites an Alloy gate, in full */
  alloy_items: z.array(FeedbackItemSummarySchema),
})
export type FeedbackSummary = z.infer<typeof FeedbackSummarySchema>

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
  source: z.enum(["hook", "import"]).default("hook"),
  feedback: FeedbackSummarySchema.optional(),
  /** `ok` normally; `error` when Foundry's stage_end returned an error envelope */
  outcome: z.enum(["ok", "error"]).default("ok"),
  error: z.string().optional(),
})
export type RunRecord = z.infer<typeof RunRecordSchema>

export const RUN_EVENT_KINDS = ["stage_begun", "stage_ended", "stage_blocked", "dispatch", "heartbeat"] as const

export const RunEventSchema = z.object({
  $type: z.literal(RUN_EVENT_TYPE),
  kind: z.enum(RUN_EVENT_KINDS),
  at: z.string(),
  cycle: z.string().optional(),
  stage: z.string().optional(),
  pin: z.object({ brief_id: z.string(), digest: z.string() }).nullable().optional(),
  run_id: z.string().optional(),
  reason: z.string().optional(),
})
export type RunEvent = z.infer<typeof RunEventSchema>
