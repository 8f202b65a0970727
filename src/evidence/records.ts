/**
 * Run records on disk: `.alloy/runs/records/<idempotency-key>.json`, one JSON file per stage run,
 * created once (a second write of the same key changes nothing). Reading is bounded (count, size) and
 * tolerant: a file that is not a valid `alloy.run/v1` record is reported, never fatal.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync } from "node:fs"
import path from "node:path"
import { AlloyError } from "../core/errors.js"
import { RunRecordSchema, type RunRecord } from "../core/run-record.js"
import { writeFileOnce } from "../store/atomic.js"
import type { AlloyContext } from "../service/context.js"
import { compareRecords } from "./observations.js"
import { ensureRunsDir } from "../service/runs.js"

export const RECORDS_SUBDIR = "records"
export const MAX_RECORDS = 50_000
export const MAX_RECORD_BYTES = 4 * 1024 * 1024
const KEY_RE = /^[0-9a-f]{64}$/

export function recordsDir(ctx: AlloyContext): string {
  return path.join(ctx.store.runsDir, RECORDS_SUBDIR)
}

export interface RecordProblem {
  readonly file: string
  readonly error: string
}

/** Read every record in a records folder (ours or another outbox). Sorted by end time, then run id. */
export function readRecordsFrom(dir: string, read: (file: string) => Buffer | undefined, rel: (p: string) => string): { records: RunRecord[]; problems: RecordProblem[] } {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return { records: [], problems: [] }
  }
  names = names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort()
  const problems: RecordProblem[] = []
  if (names.length > MAX_RECORDS) {
    problems.push({ file: rel(dir), error: `${names.length} records; only the first ${MAX_RECORDS} (by name) were read` })
    names = names.slice(0, MAX_RECORDS)
  }
  const records: RunRecord[] = []
  for (const n of names) {
    const file = path.join(dir, n)
    let bytes: Buffer | undefined
    try {
      bytes = read(file)
    } catch (e) {
      problems.push({ file: rel(file), error: (e as Error).message })
      continue
    }
    if (!bytes) continue
    let json: unknown
    try {
      json = JSON.parse(bytes.toString("utf8"))
    } catch (e) {
      problems.push({ file: rel(file), error: `not JSON (${(e as Error).message})` })
      continue
    }
    const r = RunRecordSchema.safeParse(json)
    if (!r.success) {
      const i = r.error.issues[0]!
      problems.push({ file: rel(file), error: `not an alloy.run/v1 record: ${i.path.join(".") || "(top level)"}: ${i.message}` })
      continue
    }
    records.push(r.data)
  }
  records.sort(compareRecords)
  return { records, problems }
}

export function readRecords(ctx: AlloyContext): { records: RunRecord[]; problems: RecordProblem[] } {
  if (!ctx.store.exists()) return { records: [], problems: [] }
  return readRecordsFrom(recordsDir(ctx), (f) => ctx.store.readBytes(f, MAX_RECORD_BYTES), (p) => ctx.store.rel(p))
}

/** Make sure `.alloy/runs/records/` exists and really lies inside `.alloy/` (no symlink leading out). */
export function ensureRecordsDir(ctx: AlloyContext): string {
  ctx.store.requireInit()
  ensureRunsDir(ctx.root)
  const dir = recordsDir(ctx)
  try {
    mkdirSync(dir, { recursive: true })
  } catch (e) {
    throw new AlloyError("io_error", `could not create ${ctx.store.rel(dir)}: ${(e as Error).message}`, { cause: e })
  }
  const real = realpathSync(dir)
  const base = realpathSync(ctx.store.dir)
  if (!real.startsWith(base + path.sep)) {
    throw new AlloyError("unsafe_path", `${ctx.store.rel(dir)} leads outside .alloy/ (a symlink); Alloy does not follow it`, {
      file: ctx.store.rel(dir),
      fix: "replace the symlink with a real folder",
    })
  }
  return dir
}

/** Write a record under its idempotency key, once. Returns false when it was already there. */
export function writeRecordOnce(ctx: AlloyContext, record: RunRecord, dir: string = ensureRecordsDir(ctx)): boolean {
  if (!KEY_RE.test(record.idempotency_key)) throw new AlloyError("malformed", `record ${record.run_id} has no valid idempotency key`)
  const file = path.join(dir, `${record.idempotency_key}.json`)
  if (existsSync(file)) return false // the common case of a re-import: no temp file, no fsync
  const checked = RunRecordSchema.parse(record)
  return writeFileOnce(file, JSON.stringify(checked, null, 2) + "\n", 0o644)
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
