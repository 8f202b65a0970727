/**
 * The stage-run exporter (ALLOY.md §1, §6): what one Foundry stage did, recorded once into the run
 * outbox (`store/outbox.ts` owns the folder, its limits and its readers). The feedback summary is
 * Foundry's own (`foundry/work-files.ts`), the same one `import` writes.
 *
 * Exactly once: the record's file name is the idempotency key of the stage run, created once, so a
 * second export of the same run, from this process or another, finds the file and changes nothing.
 * The `stage_ended` event is appended only by the export that created the record.
 */
import { createHash } from "node:crypto"
import path from "node:path"
import { AlloyError } from "../core/errors.js"
import type { Pin } from "../core/pin.js"
import { RUN_RECORD_TYPE, RunRecordSchema, runIdFor, stageRunKey, type FeedbackSummary, type RunRecord } from "../core/run-record.js"
import { feedbackSummary, readWorkText } from "../foundry/work-files.js"
import { parseFeedback } from "../foundry/work-files.js"
import { existsSync, readFileSync } from "node:fs"
import { recordedCapabilitiesDigest } from "./capabilities.js"
import { contextFor } from "./context.js"
import { appendEvent, RECORDS_SUBDIR, RUNS_DIR, runPaths, writeRecord } from "../store/outbox.js"
import { ALLOY_VERSION } from "../version.js"

/**
 * The idempotency key of a stage run: sha256 hex of `cycle|stage|marker|baseSha`, where the
 * marker is the stage token's hash (else its start time) — the same stage run always gives the
 * same key, a new run of the same stage gets a new token and so a new key.
 */
export function idempotencyKey(run: { cycle: string; stage: string; marker: string; baseSha?: string | undefined }): string {
  return createHash("sha256")
    .update(`${run.cycle}|${run.stage}|${run.marker}|${run.baseSha ?? ""}`, "utf8")
    .digest("hex")
}

/** Summarise `WORK.feedback.yaml` at the project root; undefined when there is none. Throws AlloyError when it cannot be read. */
export function summarizeFeedbackFile(root: string, warn?: (s: string) => void): FeedbackSummary | undefined {
  const rel = "WORK.feedback.yaml"
  const text = readWorkText(path.join(path.resolve(root), rel), rel)
  if (text === undefined) return undefined
  return feedbackSummary(parseFeedback(text, rel, warn))
}

// ---- records ---------------------------------------------------------------------------

export interface StageRun {
  readonly cycle: string
  readonly stage: string
  readonly pin: Pin | null
  readonly pinError?: { code: string; message: string } | undefined
  /** token hash, else start time, else another stable mark of this run (see idempotencyKey) */
  readonly marker: string
  /** Foundry's history seq of this stage run, when known */
  readonly seq?: number | undefined
  readonly artefactVersion?: string | undefined
  readonly flow?: string | undefined
  readonly summary?: string | undefined
  readonly baseSha?: string | undefined
  readonly tokenHash?: string | undefined
  readonly startedAt?: string | undefined
  readonly endedAt?: string | undefined
  readonly foundryVersion?: string | undefined
  /** the cycle run this stage belongs to (`<cycle>@<first WORK.history.yaml timestamp>`) */
  readonly session?: string | undefined
  readonly outcome?: "ok" | "error"
  readonly error?: string | undefined
  readonly source?: "hook" | "import"
  /** the feedback summary; `undefined` reads WORK.feedback.yaml at the root, `null` leaves it out */
  readonly feedback?: FeedbackSummary | null | undefined
}

export interface ExportResult {
  /** false when this stage run had been exported already (nothing was written) */
  readonly created: boolean
  readonly key: string
  /** project-relative path of the record */
  readonly file: string
  readonly record: RunRecord | undefined
  /** a problem that left something out of the record (e.g. an unreadable WORK.feedback.yaml) */
  readonly warning?: string
}

/** Write the run record of one stage run, exactly once, and its `stage_ended` event. */
export function exportStageRun(root: string, run: StageRun): ExportResult {
  const abs = path.resolve(root)
  // one identity per stage run: named by its base commit when Foundry said it (as an import names it), else by the marker
  const markerKey = idempotencyKey({ cycle: run.cycle, stage: run.stage, marker: run.marker, baseSha: run.baseSha })
  let key = run.baseSha && /^[0-9a-f]{7,64}$/.test(run.baseSha) && run.outcome !== "error" ? stageRunKey(run.cycle, run.stage, run.baseSha) : markerKey
  // a second run of the same stage from the same commit (a retry with a new token) is a run of its own
  if (key !== markerKey && run.tokenHash && otherToken(path.join(runPaths(abs).records, `${key}.json`), run.tokenHash)) key = markerKey
  const existing = path.join(runPaths(abs).records, `${key}.json`)
  if (existsSync(existing)) return { created: false, key, file: `${RUNS_DIR}/${RECORDS_SUBDIR}/${key}.json`, record: undefined }
  let feedback: FeedbackSummary | undefined
  const warnings: string[] = []
  if (run.feedback === undefined) {
    try {
      feedback = summarizeFeedbackFile(abs, (s) => warnings.push(s))
    } catch (e) {
      if (!(e instanceof AlloyError)) throw e
      warnings.push(`feedback summary left out: ${e.message}`)
    }
  } else if (run.feedback !== null) feedback = run.feedback

  const endedAt = run.endedAt ?? new Date().toISOString()
  const record = RunRecordSchema.parse(
    stripUndefined({
      $type: RUN_RECORD_TYPE,
      run_id: runIdFor(key, Date.parse(endedAt)),
      idempotency_key: key,
      pin: run.pin ? { brief_id: run.pin.brief_id, digest: run.pin.digest } : null,
      cycle: run.cycle,
      stage: run.stage,
      flow: run.flow,
      summary: run.summary,
      base_sha: run.baseSha,
      token_hash: run.tokenHash,
      started_at: run.startedAt,
      ended_at: endedAt,
      foundry_version: run.foundryVersion,
      session: run.session,
      seq: run.seq,
      artefact_version: run.artefactVersion,
      alloy_version: ALLOY_VERSION,
      source: run.source ?? "hook",
      provenance: [{ source: run.source ?? "hook" }],
      feedback,
      outcome: run.outcome ?? "ok",
      error: run.error,
      pin_error: run.pinError,
      capabilities: recordedCapabilitiesDigest(contextFor(abs)),
    }),
  )
  const w = writeRecord(abs, record)
  if (w.warning) warnings.push(w.warning)
  const created = w.created
  if (created) {
    appendEvent(abs, {
      kind: "stage_ended",
      at: record.ended_at,
      cycle: record.cycle,
      stage: record.stage,
      pin: record.pin,
      run_id: record.run_id,
      ...(record.outcome === "error" ? { reason: `stage_end failed: ${record.error ?? "unknown error"}` } : {}),
    })
  }
  return { created, key, file: w.file, record: created ? w.record : undefined, ...(warnings.length ? { warning: warnings.join("; ") } : {}) }
}

/** Does the record file exist with a token hash other than `tokenHash`? */
function otherToken(file: string, tokenHash: string): boolean {
  if (!existsSync(file)) return false
  try {
    const t = (JSON.parse(readFileSync(file, "utf8")) as { token_hash?: unknown }).token_hash
    return typeof t === "string" && t !== tokenHash
  } catch {
    return false
  }
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as T
}
