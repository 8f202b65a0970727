/**
 * The run-result exporter (ALLOY.md §1, §6): what one Foundry stage did, written into the
 * git-ignored outbox `.alloy/runs/` so that Foundry's unexpected-files check never sees it.
 *
 *   .alloy/runs/.gitignore                        `*` — created before anything else is written
 *   .alloy/runs/records/<idempotency-key>.json    one record per stage run, created once (link), never rewritten
 *   .alloy/runs/events.jsonl                      append-only event stream, one JSON object per line
 *
 * Exactly once: the record's file name is the idempotency key of the stage run, and it is
 * created with `writeFileOnce` (temp file + fsync + link), so a second export of the same run,
 * from this process or another, finds the file and changes nothing; a crash leaves either no
 * record or a whole one (plus, at worst, a stray `.<name>.<pid>.<rand>.tmp` that readers skip).
 * The `stage_ended` event is appended only by the export that created the record.
 */
import { appendFileSync, existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs"
import { createHash } from "node:crypto"
import path from "node:path"
import { monotonicFactory } from "ulid"
import { parseWorkYaml } from "../foundry/work-yaml.js"
import { readFileBounded } from "../store/read-file.js"
import { makeDirs, sweepStaleTemps } from "../store/atomic.js"

export { STALE_TEMP_MS, sweepStaleTemps } from "../store/atomic.js"
import { AlloyError, describeIoError } from "../core/errors.js"
import { parseGateLawId, criterionRef } from "../core/ids.js"
import type { Pin } from "../core/pin.js"
import {
  RUN_EVENT_TYPE,
  RUN_RECORD_TYPE,
  RunEventSchema,
  RunRecordSchema,
  type FeedbackItemSummary,
  type FeedbackSummary,
  type RunEvent,
  type RunRecord,
} from "../core/run-record.js"
import { writeFileAtomic, writeFileOnce } from "../store/atomic.js"
import { ALLOY_DIR, RUNS_GITIGNORE_TEXT } from "../store/store.js"
import { ALLOY_VERSION } from "../version.js"

export const RUNS_DIR = `${ALLOY_DIR}/runs`
export const RECORDS_SUBDIR = "records"
export const EVENTS_FILE = "events.jsonl"
/** Largest WORK.feedback.yaml that is summarised (8 MiB); a larger one is left out of the record. */
export const MAX_FEEDBACK_BYTES = 8 * 1024 * 1024
/** At most this many Alloy-gate items are copied into a record, each text clipped to MAX_ITEM_TEXT characters. */
export const MAX_ALLOY_ITEMS = 500
/** Most items copied (with their transitions) into a record's `feedback.items`. */
export const MAX_ITEMS = 2000
export const MAX_ITEM_TEXT = 2000

const RECORD_NAME_RE = /^[0-9a-f]{64}\.json$/
const nextUlid = monotonicFactory()
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

/**
 * The idempotency key of a stage run: sha256 hex of `cycle|stage|marker|baseSha`, where the
 * marker is the stage token's hash (else its start time) — the same stage run always gives the
 * same key, a new run of the same stage gets a new token and so a new key.
 */
export function idempotencyKey(run: { cycle: string; stage: string; marker: string; baseSha?: string | undefined }): string {
  return createHash("sha256").update(`${run.cycle}|${run.stage}|${run.marker}|${run.baseSha ?? ""}`, "utf8").digest("hex")
}

function refuseLink(p: string, root: string): void {
  let st
  try {
    st = lstatSync(p)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return
    throw e
  }
  const rel = path.relative(root, p).split(path.sep).join("/")
  if (st.isSymbolicLink()) {
    throw new AlloyError("unsafe_path", `${rel} is a symlink; Alloy writes run results only into a real ${RUNS_DIR}/ folder`, {
      file: rel,
      fix: `remove the symlink (\`rm ${rel}\`); Alloy recreates the folder`,
    })
  }
  if (!st.isDirectory()) {
    throw new AlloyError("io_error", `${rel} is not a folder, so run results cannot be written there`, { file: rel, fix: `move ${rel} out of the way` })
  }
}

/**
 * Make sure `.alloy/runs/` exists with its `.gitignore` (`*`) before anything else is written
 * there. Creates nothing else in the work tree. Returns the paths.
 */
export function ensureRunsDir(root: string): RunPaths {
  const abs = path.resolve(root)
  const p = runPaths(abs)
  refuseLink(path.join(abs, ALLOY_DIR), abs)
  refuseLink(p.dir, abs)
  const gi = path.join(p.dir, ".gitignore")
  let size = -1
  try {
    size = statSync(gi).size
  } catch {
    size = -1
  }
  if (size <= 0) {
    try {
      makeDirs(p.dir)
    } catch (e) {
      throw new AlloyError("io_error", `could not create .alloy/runs: ${describeIoError(e)}; nothing was written`, { file: ".alloy/runs", cause: e })
    }
    // create-once; an empty file (a crash between create and write elsewhere) is replaced
    const shown = ".alloy/runs/.gitignore"
    if (!writeFileOnce(gi, RUNS_GITIGNORE_TEXT, 0o644, shown) && size === 0) writeFileAtomic(gi, RUNS_GITIGNORE_TEXT, 0o644, shown)
  }
  return p
}

// ---- events ----------------------------------------------------------------------------

export type EventInput = Omit<RunEvent, "$type" | "at"> & { at?: string }

/** Append one event line (one `write`, O_APPEND: concurrent writers never interleave within a line). */
export function appendEvent(root: string, input: EventInput): RunEvent {
  const event = RunEventSchema.parse({ $type: RUN_EVENT_TYPE, at: input.at ?? new Date().toISOString(), ...stripUndefined(input) })
  const p = ensureRunsDir(root)
  appendFileSync(p.events, `${JSON.stringify(event)}\n`, { encoding: "utf8", mode: 0o644 })
  return event
}

/** Read the event stream; a torn or foreign line is skipped, never fatal. */
export function readEvents(root: string): RunEvent[] {
  let text: string
  try {
    text = readFileSync(runPaths(root).events, "utf8")
  } catch {
    return []
  }
  const out: RunEvent[] = []
  for (const line of text.split("\n")) {
    if (!line.trim()) continue
    try {
      const r = RunEventSchema.safeParse(JSON.parse(line))
      if (r.success) out.push(r.data)
    } catch {
      /* torn line */
    }
  }
  return out
}

// ---- feedback summary ------------------------------------------------------------------

const clip = (s: string) => (s.length > MAX_ITEM_TEXT ? `${s.slice(0, MAX_ITEM_TEXT - 3)}...` : s)
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)

/** Summarise Foundry's feedback (`{items: [...]}`): counts by current state and by tag, and the items that cite Alloy gates. */
export function summarizeFeedback(doc: unknown): FeedbackSummary {
  const items = doc && typeof doc === "object" && Array.isArray((doc as { items?: unknown }).items) ? ((doc as { items: unknown[] }).items) : []
  const by_state: Record<string, number> = {}
  const by_tag: Record<string, number> = {}
  const alloy_items: FeedbackItemSummary[] = []
  const all: FeedbackItemSummary[] = []
  let total = 0
  for (const raw of items) {
    if (!raw || typeof raw !== "object") continue
    total++
    const it = raw as Record<string, unknown>
    const history = Array.isArray(it["history"]) ? (it["history"] as unknown[]) : []
    const head = history[0] && typeof history[0] === "object" ? (history[0] as Record<string, unknown>) : {}
    const state = str(head["state"]) ?? "unknown"
    const tag = str(it["tag"]) ?? ""
    by_state[state] = (by_state[state] ?? 0) + 1
    by_tag[tag] = (by_tag[tag] ?? 0) + 1
    const ref = tag.startsWith("law:") ? parseGateLawId(tag.slice(4)) : undefined
    if (all.length >= MAX_ITEMS && !(ref && alloy_items.length < MAX_ALLOY_ITEMS)) continue
    const source = str(it["source"])
    const reason = str(head["reason"])
    const version = str(it["artefact_version"])
    const text = str(it["text"])
    const summary: FeedbackItemSummary = {
      id: str(it["id"]) ?? "",
      file: str(it["file"]) ?? "",
      tag,
      state,
      ...(source !== undefined ? { source } : {}),
      ...(reason !== undefined ? { reason: clip(reason) } : {}),
      ...(version !== undefined ? { artefact_version: version } : {}),
      ...(ref ? { criterion: criterionRef(ref.intent, ref.ac) } : {}),
      ...(text !== undefined ? { text: clip(text) } : {}),
    }
    if (ref && alloy_items.length < MAX_ALLOY_ITEMS) alloy_items.push(summary)
    if (all.length < MAX_ITEMS) all.push({ ...summary, history: transitions(history) })
  }
  return { total, by_state, by_tag, alloy_items, items: all }
}

/** An item's transitions (newest first), with only the keys the evidence derivation reads. */
function transitions(history: unknown[]): NonNullable<FeedbackItemSummary["history"]> {
  const out: NonNullable<FeedbackItemSummary["history"]> = []
  for (const h of history.slice(0, 50)) {
    if (!h || typeof h !== "object") continue
    const t = h as Record<string, unknown>
    const state = str(t["state"])
    if (state === undefined) continue
    const stage = str(t["stage"])
    const timestamp = str(t["timestamp"])
    const reason = str(t["reason"])
    out.push({ state, ...(stage !== undefined ? { stage } : {}), ...(timestamp !== undefined ? { timestamp } : {}), ...(reason !== undefined ? { reason: clip(reason) } : {}) })
  }
  return out
}

/** Summarise `WORK.feedback.yaml` at the project root; undefined when there is none. Throws AlloyError when it cannot be read. */
export function summarizeFeedbackFile(root: string): FeedbackSummary | undefined {
  const rel = "WORK.feedback.yaml"
  const bytes = readFileBounded(path.join(path.resolve(root), rel), MAX_FEEDBACK_BYTES, rel)
  if (!bytes) return undefined
  let doc: unknown
  try {
    doc = parseWorkYaml(bytes.toString("utf8"), rel)
  } catch (e) {
    throw e instanceof AlloyError ? e : new AlloyError("malformed", `${rel} is not valid YAML`, { file: rel })
  }
  return summarizeFeedback(doc)
}

// ---- records ---------------------------------------------------------------------------

export interface StageRun {
  readonly cycle: string
  readonly stage: string
  readonly pin: Pin | null
  readonly pinError?: { code: string; message: string } | undefined
  /** token hash, else start time, else another stable mark of this run (see idempotencyKey) */
  readonly marker: string
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
  const key = idempotencyKey({ cycle: run.cycle, stage: run.stage, marker: run.marker, baseSha: run.baseSha })
  const file = path.join(runPaths(abs).records, `${key}.json`)
  const rel = path.relative(abs, file).split(path.sep).join("/")
  try {
    statSync(file)
    return { created: false, key, file: rel, record: undefined }
  } catch {
    /* not exported yet */
  }
  let feedback: FeedbackSummary | undefined
  let warning: string | undefined
  if (run.feedback === undefined) {
    try {
      feedback = summarizeFeedbackFile(abs)
    } catch (e) {
      warning = `feedback summary left out: ${(e as Error).message}`
    }
  } else if (run.feedback !== null) feedback = run.feedback

  const record = RunRecordSchema.parse(
    stripUndefined({
      $type: RUN_RECORD_TYPE,
      run_id: nextUlid(),
      idempotency_key: key,
      pin: run.pin ? { brief_id: run.pin.brief_id, digest: run.pin.digest } : null,
      cycle: run.cycle,
      stage: run.stage,
      flow: run.flow,
      summary: run.summary,
      base_sha: run.baseSha,
      token_hash: run.tokenHash,
      started_at: run.startedAt,
      ended_at: run.endedAt ?? new Date().toISOString(),
      foundry_version: run.foundryVersion,
      session: run.session,
      alloy_version: ALLOY_VERSION,
      source: run.source ?? "hook",
      feedback,
      outcome: run.outcome ?? "ok",
      error: run.error,
      pin_error: run.pinError,
    }),
  )
  const created = writeRecordOnce(abs, record)
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
  return { created, key, file: rel, record: created ? record : undefined, ...(warning ? { warning } : {}) }
}


export interface RecordProblem {
  readonly file: string
  readonly error: string
}

/** Most record files read from one folder, and the largest one. */
export const MAX_RECORDS = 50_000
export const MAX_RECORD_BYTES = 4 * 1024 * 1024

/**
 * Read every run record in a records folder (this project's or another outbox), bounded and
 * tolerant: a file that is not a valid `alloy.run/v1` record is reported, never fatal. Unsorted.
 */
export function readRecordFiles(dir: string, read: (file: string) => Buffer | undefined, rel: (p: string) => string): { records: RunRecord[]; problems: RecordProblem[] } {
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
    } catch {
      problems.push({ file: rel(file), error: "not valid JSON" })
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
  return { records, problems }
}

/** Every complete record in the outbox, oldest run first (run ids are ULIDs). Unreadable files are skipped. */
export function readRunRecords(root: string): RunRecord[] {
  const abs = path.resolve(root)
  const { records } = readRecordFiles(runPaths(abs).records, (f) => readFileBounded(f, MAX_RECORD_BYTES, relTo(abs, f)), (f) => relTo(abs, f))
  return records.sort((a, b) => (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0))
}

/**
 * Make sure `.alloy/runs/records/` exists as a real folder (no symlinks on the way) before a
 * record is written; stale temp files of killed writers are swept once per process.
 */
export function ensureRecordsDir(root: string): string {
  const abs = path.resolve(root)
  const p = ensureRunsDir(abs)
  refuseLink(p.records, abs)
  try {
    makeDirs(p.records)
  } catch (e) {
    throw new AlloyError("io_error", `could not create .alloy/runs/records: ${describeIoError(e)}; nothing was written`, { file: ".alloy/runs/records", cause: e })
  }
  if (!swept.has(p.records)) {
    swept.add(p.records)
    sweepStaleTemps(p.records)
  }
  return p.records
}

/** Write a record under its idempotency key, once (temp file + link). False when it was already there. */
export function writeRecordOnce(root: string, record: RunRecord, dir: string = ensureRecordsDir(root)): boolean {
  if (!RECORD_NAME_RE.test(`${record.idempotency_key}.json`)) throw new AlloyError("malformed", `record ${record.run_id} has no valid idempotency key`)
  const file = path.join(dir, `${record.idempotency_key}.json`)
  if (existsSync(file)) return false // the common case of a re-import: no temp file, no fsync
  const checked = RunRecordSchema.parse(record)
  return writeFileOnce(file, `${JSON.stringify(checked, null, 2)}\n`, 0o644, relTo(path.resolve(root), file))
}

function relTo(root: string, p: string): string {
  return path.relative(root, p).split(path.sep).join("/")
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as T
}
