/**
 * Run records on disk: `.alloy/runs/records/<idempotency-key>.json`, one JSON file per stage run,
 * created once (a second write of the same key changes nothing). Reading is bounded (count, size) and
 * tolerant: a file that is not a valid `alloy.run/v1` record is reported, never fatal.
 */
import type { RunRecord } from "../core/run-record.js"
import type { AlloyContext } from "../service/context.js"
import { compareRecords } from "./observations.js"
import {
  ensureRecordsDir as ensureRunsRecordsDir,
  MAX_RECORD_BYTES,
  readRecordFiles,
  runPaths,
  writeRecordOnce as writeRunRecordOnce,
  type RecordProblem,
} from "../service/runs.js"
import { withPulledRecords } from "../service/pulled.js"

export { MAX_RECORD_BYTES, type RecordProblem } from "../service/runs.js"

export function recordsDir(ctx: AlloyContext): string {
  return runPaths(ctx.root).records
}

/** Read every record in a records folder (ours or another outbox). Sorted by end time, then run id. */
export function readRecordsFrom(dir: string, read: (file: string) => Buffer | undefined, rel: (p: string) => string): { records: RunRecord[]; problems: RecordProblem[] } {
  const r = readRecordFiles(dir, read, rel)
  r.records.sort(compareRecords)
  return r
}

/** This project's records and those pulled from team stores (docs/oci-store.md), one per identity. */
export function readRecords(ctx: AlloyContext): { records: RunRecord[]; problems: RecordProblem[] } {
  if (!ctx.store.exists()) return { records: [], problems: [] }
  const read = (f: string) => ctx.store.readBytes(f, MAX_RECORD_BYTES)
  const rel = (p: string) => ctx.store.rel(p)
  const r = withPulledRecords(ctx.root, readRecordFiles(recordsDir(ctx), read, rel), read, rel)
  r.records.sort(compareRecords)
  return r
}

/** Make sure `.alloy/runs/records/` exists (in an initialised project) as a real folder inside `.alloy/`. */
export function ensureRecordsDir(ctx: AlloyContext): string {
  ctx.store.requireInit()
  return ensureRunsRecordsDir(ctx.root)
}

/** Write a record under its idempotency key, once. Returns false when it was already there. */
export function writeRecordOnce(ctx: AlloyContext, record: RunRecord, dir: string = ensureRecordsDir(ctx)): boolean {
  return writeRunRecordOnce(ctx.root, record, dir)
}

/** Write many records once each (the folder is checked once). */
export function writeRecordsOnce(ctx: AlloyContext, records: readonly RunRecord[]): { created: number; existing: number } {
  let created = 0
  let existing = 0
  if (!records.length) return { created, existing }
  const dir = ensureRecordsDir(ctx)
  for (const r of records) (writeRecordOnce(ctx, r, dir) ? created++ : existing++)
  return { created, existing }
}
