/**
 * The run outbox `.alloy/runs/` — the one owner of its layout, its writes and its reads
 * (ALLOY.md §1, §6). Git-ignored, so Foundry's unexpected-files check never sees it.
 *
 *   .alloy/runs/.gitignore                        `*` — created before anything else is written
 *   .alloy/runs/records/<idempotency-key>.json    one record per stage run, created once (link), never rewritten
 *   .alloy/runs/events.jsonl                      append-only event stream, one JSON object per line
 *
 * Writer and readers share one size limit: a record that is written can always be read. A record
 * that would be larger is first summarised (the per-item copies of the feedback are left out, and
 * the record says so); one still too large is refused with `record_too_large`, and the caller tells
 * the user. Readers read every record in the folder (no count limit) and report every file they
 * could not read; nothing is skipped in silence.
 *
 * Symlinks, folder creation and bounded reads are the store's (`AlloyStore`); this module adds only
 * what is particular to the outbox.
 */
import { appendFileSync, closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from "node:fs"
import path from "node:path"
import { AlloyError } from "../core/errors.js"
import { safeParseJson } from "../core/schema-errors.js"
import { RUN_EVENT_TYPE, RunEventSchema, RunRecordSchema, compareRecords, isBridgedStage, type RunEvent, type RunRecord } from "../core/run-record.js"
import { sweepStaleTemps, writeFileAtomic, writeFileOnce } from "./atomic.js"
import { readCheckedJson, readFileBounded } from "./read-file.js"
import { ALLOY_DIR, AlloyStore, RUNS_GITIGNORE_TEXT } from "./store.js"

export const RUNS_DIR = `${ALLOY_DIR}/runs`
export const RECORDS_SUBDIR = "records"
export const EVENTS_FILE = "events.jsonl"
/** Largest record file: the writer never writes a larger one, the readers never read one. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024
/** at most this much of the event stream is read per call (a large backlog is consumed over several calls) */
export const MAX_EVENT_CHUNK = 4 * 1024 * 1024
/** a single event line longer than this is skipped (and counted) */
export const MAX_EVENT_LINE = 1024 * 1024

const RECORD_NAME_RE = /^[0-9a-f]{64}\.json$/
const swept = new Set<string>()

export interface RunPaths {
  readonly dir: string
  readonly records: string
  readonly events: string
}

export function runPaths(root: string): RunPaths {
  const dir = path.join(path.resolve(root), RUNS_DIR)
  return { dir, records: path.join(dir, RECORDS_SUBDIR), events: path.join(dir, EVENTS_FILE) }
}

const stores = new Map<string, AlloyStore>()
function storeOf(root: string): AlloyStore {
  const abs = path.resolve(root)
  let s = stores.get(abs)
  if (!s) {
    if (stores.size > 32) stores.clear()
    s = new AlloyStore(abs)
    stores.set(abs, s)
  }
  return s
}

/**
 * Make sure `.alloy/runs/` (with its `.gitignore` of `*`, written first) and `records/` exist as
 * real folders inside `.alloy/`. Stale temp files of killed writers are swept once per process.
 */
export function ensureOutbox(root: string): RunPaths {
  const p = ensureRunsDir(root)
  storeOf(root).ensureDirInside(p.records)
  if (!swept.has(p.records)) {
    swept.add(p.records)
    sweepStaleTemps(p.records)
  }
  return p
}

/** `.alloy/runs/` with its `.gitignore` only (for what lives beside the records, e.g. pulled team records). */
export function ensureRunsDir(root: string): RunPaths {
  const store = storeOf(root)
  const p = runPaths(root)
  const gi = path.join(p.dir, ".gitignore")
  let size = -1
  try {
    size = statSync(gi).size
  } catch {
    size = -1
  }
  store.ensureDirInside(p.dir)
  if (size <= 0) {
    // create-once; an empty file (a crash between create and write) is replaced
    const shown = `${RUNS_DIR}/.gitignore`
    if (!writeFileOnce(gi, RUNS_GITIGNORE_TEXT, 0o644, shown) && size === 0) writeFileAtomic(gi, RUNS_GITIGNORE_TEXT, 0o644, shown)
  }
  return p
}

// ---- records: write ----------------------------------------------------------------------------

export interface RecordWrite {
  /** false when a record of this stage run was there already (nothing was written) */
  readonly created: boolean
  /** project-relative path of the record */
  readonly file: string
  /** the record as written (possibly summarised to fit), or as it would have been when it existed already */
  readonly record: RunRecord
  /** set when the record had to be summarised to fit MAX_RECORD_BYTES: what was left out */
  readonly warning?: string
}

function serialise(r: RunRecord): string {
  return `${JSON.stringify(r)}\n`
}

/**
 * The record in a form no larger than MAX_RECORD_BYTES, and what was left out; throws
 * `record_too_large` when even the summary does not fit. Leaves out, in order: the per-item copies
 * of the feedback (`feedback.items`), then the Alloy-gate items, then the quench issues' texts.
 */
export function fitRecord(record: RunRecord): { record: RunRecord; text: string; warning?: string } {
  let text = serialise(record)
  if (Buffer.byteLength(text) <= MAX_RECORD_BYTES) return { record, text }
  const size = Buffer.byteLength(text)
  let r: RunRecord = record
  const left: string[] = []
  if (r.feedback?.items) {
    left.push(`${r.feedback.items.length} feedback item copies`)
    r = { ...r, feedback: { ...r.feedback, items: undefined, omitted: { items: r.feedback.items.length, reason: `record over ${MAX_RECORD_BYTES} bytes` } } }
    delete (r.feedback as { items?: unknown }).items
    text = serialise(r)
  }
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES && r.feedback && r.feedback.alloy_items.length) {
    left.push(`${r.feedback.alloy_items.length} Alloy-gate items`)
    r = { ...r, feedback: { ...r.feedback, alloy_items: [], omitted: { items: r.feedback.omitted?.items ?? r.feedback.total, reason: `record over ${MAX_RECORD_BYTES} bytes` } } }
    text = serialise(r)
  }
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES && r.quench) {
    left.push("quench issue texts")
    r = { ...r, quench: { issues: r.quench.issues.map(({ text: _t, ...i }) => i) } }
    text = serialise(r)
  }
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES) {
    throw new AlloyError(
      "malformed",
      `the record of ${r.cycle} / ${r.stage} would be ${Buffer.byteLength(text)} bytes even without its feedback items, over the ${MAX_RECORD_BYTES}-byte limit; it was not written`,
      {
        fix: "shorten WORK.feedback.yaml (close or remove stale items), then import again",
      },
    )
  }
  return { record: r, text, warning: `record of ${r.cycle} / ${r.stage} would have been ${size} bytes (limit ${MAX_RECORD_BYTES}); left out: ${left.join(", ")}` }
}

/**
 * Write a record under its idempotency key, once (temp file + link). The record is checked against
 * the schema and made to fit the size limit first; throws when it cannot be.
 */
export function writeRecord(root: string, record: RunRecord, paths: RunPaths = ensureOutbox(root)): RecordWrite {
  if (!RECORD_NAME_RE.test(`${record.idempotency_key}.json`)) throw new AlloyError("malformed", `record ${record.run_id} has no valid idempotency key`)
  const file = path.join(paths.records, `${record.idempotency_key}.json`)
  const rel = `${RUNS_DIR}/${RECORDS_SUBDIR}/${record.idempotency_key}.json`
  if (existsSync(file)) {
    // the same stage run seen again: a stage opened with stage_begin may be known to the live hook and to an import; merge what was learnt
    if (isBridgedStage(record.stage)) mergeInto(file, rel, record)
    return { created: false, file: rel, record } // the common case of a re-import: no temp file, no fsync
  }
  const checked = RunRecordSchema.parse(record)
  const fit = fitRecord(checked)
  const created = writeFileOnce(file, fit.text, 0o644, rel)
  return { created, file: rel, record: fit.record, ...(fit.warning ? { warning: fit.warning } : {}) }
}

/** Fields an import may add to a live record of the same stage run (what the hook could not know yet). */
const MERGED_FIELDS = ["session", "seq", "commit", "artefact_version", "started_at", "base_sha", "token_hash", "flow", "summary", "foundry_version"] as const

/**
 * Add to an existing record what another source of the same stage run knew and it did not, and that
 * source to its provenance. Never changes a field already set (the first observation stands); rewrites
 * the file (atomically) only when something was added.
 */
function mergeInto(file: string, rel: string, incoming: RunRecord): void {
  let existing: RunRecord
  try {
    const r = readCheckedJson(file, MAX_RECORD_BYTES, RunRecordSchema)
    if (r.kind !== "ok") return
    existing = r.data
  } catch {
    return
  }
  const merged: Record<string, unknown> = { ...existing }
  let changed = false
  for (const k of MERGED_FIELDS) {
    if (merged[k] === undefined && incoming[k] !== undefined) {
      merged[k] = incoming[k]
      changed = true
    }
  }
  const seen = existing.provenance ?? [{ source: existing.source, ...(existing.origin ? { origin: existing.origin } : {}) }]
  const add = incoming.provenance ?? [{ source: incoming.source, ...(incoming.origin ? { origin: incoming.origin } : {}) }]
  const prov = [...seen]
  for (const p of add) if (!prov.some((q) => JSON.stringify(q) === JSON.stringify(p))) prov.push(p)
  if (prov.length !== seen.length || !existing.provenance) {
    merged["provenance"] = prov
    changed = true
  }
  if (!changed) return
  const fit = fitRecord(RunRecordSchema.parse(merged))
  writeFileAtomic(file, fit.text, 0o644, rel)
}

/** Write many records once each (the folder is checked once). Records that cannot be written are reported, never dropped in silence. */
export function writeRecords(root: string, records: readonly RunRecord[]): { created: number; existing: number; warnings: string[] } {
  let created = 0
  let existing = 0
  const warnings: string[] = []
  if (!records.length) return { created, existing, warnings }
  const paths = ensureOutbox(root)
  for (const r of records) {
    try {
      const w = writeRecord(root, r, paths)
      if (w.created) created++
      else existing++
      if (w.warning) warnings.push(w.warning)
    } catch (e) {
      if (!(e instanceof AlloyError)) throw e
      warnings.push(`not recorded: ${e.message}`)
    }
  }
  return { created, existing, warnings }
}

// ---- records: read -----------------------------------------------------------------------------

export interface RecordProblem {
  readonly file: string
  readonly error: string
}

export interface RecordRead {
  /** every valid record, sorted by end time, history seq, run id */
  readonly records: RunRecord[]
  /** every file that is not a readable `alloy.run/v1` record */
  readonly problems: RecordProblem[]
}

/**
 * Read every run record of this project's outbox, or (with `from`) of another records folder
 * (another work tree's outbox, for import). Bounded per file by MAX_RECORD_BYTES, complete in
 * count: every `*.json` file is either a record or a problem. Symlinks follow the store's rule in
 * our own outbox; in another folder they are not followed.
 */
export function readRecords(root: string, from?: string, onBytes?: (file: string, bytes: Buffer) => void): RecordRead {
  const abs = path.resolve(root)
  const own = from === undefined
  const dir = own ? runPaths(abs).records : from
  const store = storeOf(abs)
  const rel = (p: string) => (own ? store.rel(p) : path.relative(abs, p).split(path.sep).join("/"))
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT") return { records: [], problems: [] }
    return { records: [], problems: [{ file: rel(dir), error: `cannot list the folder (${code ?? "error"})` }] }
  }
  const records: RunRecord[] = []
  const problems: RecordProblem[] = []
  for (const n of names) {
    if (!n.endsWith(".json") || n.startsWith(".")) continue
    const file = path.join(dir, n)
    let bytes: Buffer | undefined
    try {
      bytes = own ? store.readBytes(file, MAX_RECORD_BYTES) : readForeign(file)
    } catch (e) {
      problems.push({ file: rel(file), error: (e as Error).message })
      continue
    }
    if (!bytes) continue // removed while listing
    onBytes?.(file, bytes)
    const r = safeParseJson(RunRecordSchema, bytes.toString("utf8"))
    if (!r) {
      problems.push({ file: rel(file), error: "not valid JSON" })
      continue
    }
    if (!r.success) {
      const i = r.error.issues[0]!
      problems.push({ file: rel(file), error: `not an alloy.run/v1 record: ${i.path.join(".") || "(top level)"}: ${i.message}` })
      continue
    }
    records.push(r.data)
  }
  records.sort(compareRecords)
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  return { records, problems }
}

function readForeign(file: string): Buffer | undefined {
  return readFileBounded(file, MAX_RECORD_BYTES, path.basename(file), { what: "a record" })
}

// ---- events -------------------------------------------------------------------------------------

export type EventInput = Omit<RunEvent, "$type" | "at"> & { at?: string }

/** Append one event line (one `write`, O_APPEND: concurrent writers never interleave within a line). */
export function appendEvent(root: string, input: EventInput): RunEvent {
  const event = RunEventSchema.parse({ $type: RUN_EVENT_TYPE, at: input.at ?? new Date().toISOString(), ...stripUndefined(input) })
  const p = ensureOutbox(root)
  appendFileSync(p.events, `${JSON.stringify(event)}\n`, { encoding: "utf8", mode: 0o644 })
  return event
}

export interface EventRead {
  readonly events: RunEvent[]
  /** for each event, the byte offset just past its line (a resumable position, e.g. a server-sent event id) */
  readonly ends: number[]
  /** byte offset to read from next time */
  readonly next: number
  /** lines that were not valid events (torn, foreign, over-long) */
  readonly skipped: number
  /** the file was shorter than `offset`: reading restarted at 0 */
  readonly restarted: boolean
}

/**
 * Read complete event lines of a stream file from `offset` (at most `maxBytes`): a line being
 * written is picked up next time; a file that shrank is read again from the start. Missing file ->
 * nothing, offset unchanged.
 */
export function readEventsFrom(file: string, offset = 0, maxBytes = MAX_EVENT_CHUNK): EventRead {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch {
    return { events: [], ends: [], next: offset, skipped: 0, restarted: false }
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) return { events: [], ends: [], next: offset, skipped: 0, restarted: false }
    const size = st.size
    let start = offset
    let restarted = false
    if (size < offset) {
      start = 0
      restarted = true
    }
    const len = Math.min(size - start, maxBytes)
    if (len <= 0) return { events: [], ends: [], next: start, skipped: 0, restarted }
    const buf = Buffer.alloc(len)
    let got = 0
    while (got < len) {
      const n = readSync(fd, buf, got, len - got, start + got)
      if (n === 0) break
      got += n
    }
    const lastNl = buf.subarray(0, got).lastIndexOf(0x0a)
    if (lastNl < 0) {
      // no complete line yet; a single over-long line is skipped so the reader cannot stall
      if (got >= MAX_EVENT_LINE || got === maxBytes) return { events: [], ends: [], next: start + got, skipped: 1, restarted }
      return { events: [], ends: [], next: start, skipped: 0, restarted }
    }
    const events: RunEvent[] = []
    const ends: number[] = []
    let skipped = 0
    let at = start
    for (const line of buf.subarray(0, lastNl).toString("utf8").split("\n")) {
      at += Buffer.byteLength(line) + 1
      if (!line.trim()) continue
      if (line.length > MAX_EVENT_LINE) {
        skipped++
        continue
      }
      const r = safeParseJson(RunEventSchema, line)
      if (r?.success) {
        events.push(r.data)
        ends.push(at)
      } else skipped++
    }
    return { events, ends, next: start + lastNl + 1, skipped, restarted }
  } finally {
    closeSync(fd)
  }
}

/** The whole event stream of a project (in bounded chunks); torn or foreign lines are counted, never fatal. */
export function readEvents(root: string): { events: RunEvent[]; skipped: number } {
  const file = runPaths(root).events
  const events: RunEvent[] = []
  let skipped = 0
  let offset = 0
  for (let i = 0; i < 1_000_000; i++) {
    const r = readEventsFrom(file, offset)
    for (const e of r.events) events.push(e)
    skipped += r.skipped
    if (r.next === offset) break
    offset = r.next
  }
  return { events, skipped }
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as T
}
