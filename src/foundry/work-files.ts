/**
 * Foundry's WORK files — the one home of their shapes, limits and meaning (CONTRACTS.md §1.5, §3, §6.3):
 * `WORK.md`, `WORK.history.yaml`, `WORK.feedback.yaml`, `ATTEST.md`, a dry run's `README.md`,
 * `diff.patch` and `trace.jsonl`; one notion of a feedback item, one feedback summary and one session
 * identity, used alike by the live hooks, `import` and the evidence derivation.
 *
 * Parsing is tolerant of keys Foundry may add and strict about the ones Alloy reads. A file that is not
 * what it claims to be is a `malformed` AlloyError naming the file; a single feedback item that is not
 * in Foundry's shape (no `history`, a number for an id) is left out and reported, never counted as
 * some state it does not have.
 */
import path from "node:path"
import { z } from "zod"
import { AlloyError } from "../core/errors.js"
import { parseMarkdown, splitFrontmatter } from "../core/frontmatter.js"
import { sha256Hex } from "../core/digest.js"
import { safeParseBounded } from "../core/schema-errors.js"
import { criterionRef, parseGateLawId } from "../core/ids.js"
import type { FeedbackItemSummary, FeedbackSummary } from "../core/run-record.js"
import { readFileBounded } from "../store/read-file.js"
import { parseWorkYaml } from "./work-yaml.js"
import { pushTo } from "../core/maps.js"

/** Largest WORK file (or ATTEST.md, README.md) read, by the hooks and by import alike. */
export const MAX_WORK_BYTES = 16 * 1024 * 1024
/** Feedback texts and reasons copied into a record are clipped to this many characters. */
export const MAX_ITEM_TEXT = 2000
export const WORK_FILES = ["WORK.md", "WORK.history.yaml", "WORK.feedback.yaml"] as const

const Hex64 = /^[0-9a-f]{64}$/

export const HistoryEntrySchema = z.looseObject({
  cycle: z.string(),
  stage: z.string(),
  iteration: z.number().int().optional(),
  comment: z.string().optional(),
  timestamp: z.string(),
  seq: z.number().int().optional(),
  open_feedback: z.number().int().optional(),
  route: z.string().optional(),
  changed_files: z.array(z.string()).optional(),
  artefact_version: z.string().optional(),
  contract_passed: z.boolean().optional(),
})
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>

export const FeedbackTransitionSchema = z.looseObject({
  state: z.string(),
  stage: z.string().optional(),
  cycle: z.string().optional(),
  timestamp: z.string().optional(),
  reason: z.string().optional(),
})

export const FeedbackItemSchema = z.looseObject({
  id: z.string(),
  file: z.string().default(""),
  tag: z.string(),
  text: z.string().default(""),
  source: z.string().optional(),
  /** newest first */
  history: z.array(FeedbackTransitionSchema).min(1),
  artefact_version: z.string().optional(),
})
export type FeedbackItem = z.infer<typeof FeedbackItemSchema>

/** A session's WORK files, as read from a snapshot, a branch or the work tree. */
export interface WorkFiles {
  readonly work?: { flow?: string; cycle?: string; status?: string; stages?: string[]; goal?: string } | undefined
  readonly history: HistoryEntry[]
  readonly feedback: FeedbackItem[]
  /** there was no WORK.feedback.yaml to read: no data, which is not the same as no items */
  readonly feedbackMissing?: boolean
}

function fail(file: string, what: string, fix?: string): never {
  throw new AlloyError("malformed", `${file}: ${what}`, { file, ...(fix ? { fix } : {}) })
}

/** The first fault zod found, with where (under `at`, the place of the part that was parsed). */
function issueText(e: z.ZodError, at: ReadonlyArray<PropertyKey> = []): string {
  const i = e.issues[0]!
  return `${[...at, ...i.path].join(".") || "(top level)"}: ${i.message}`
}

/** Entries of a history, items of a feedback file: more is not a file Foundry wrote. */
const MAX_ENTRIES = 100_000

// built once: a zod schema built per call costs more than the parse (import reads thousands of files)
const HistoryListSchema = z.array(z.unknown()).max(MAX_ENTRIES)
const FeedbackFileSchema = z.looseObject({ items: z.array(z.unknown()).max(MAX_ENTRIES).default([]) })

/** One entry (at `at` in its file) through zod, or its first fault: `items.3.history: …`. */
function parseEntry<T>(schema: z.ZodType<T>, value: unknown, at: ReadonlyArray<string | number>): { ok: true; data: T } | { ok: false; issue: string } {
  // a WORK file is read inside the hook's process: an entry of millions of bad values is not parsed
  const r = safeParseBounded(schema, value)
  return r.success ? { ok: true, data: r.data } : { ok: false, issue: issueText(r.error, at) }
}

export function parseHistory(text: string, file = "WORK.history.yaml"): HistoryEntry[] {
  if (text.trim() === "") return []
  const data = parseWorkYaml(text, file)
  if (data === null || data === undefined) return []
  const list = HistoryListSchema.safeParse(data)
  if (!list.success) fail(file, `is not a Foundry history list (${issueText(list.error)})`)
  // entry by entry, so the first fault ends the reading (one parse of the list worded every fault)
  const out: HistoryEntry[] = []
  for (let i = 0; i < list.data.length; i++) {
    const r = parseEntry(HistoryEntrySchema, list.data[i], [i])
    if (!r.ok) fail(file, `is not a Foundry history list (${r.issue})`)
    out.push(r.data)
  }
  return out
}

/**
 * The items of a feedback file. The file must be Foundry's shape (`items:` a list); an item that is
 * not (no history, wrong types) is left out and passed to `warn`, so hook and import agree on what
 * an item is.
 */
export function parseFeedback(text: string, file = "WORK.feedback.yaml", warn?: (s: string) => void): FeedbackItem[] {
  if (text.trim() === "") return []
  const data = parseWorkYaml(text, file)
  if (data === null || data === undefined) return []
  const r = FeedbackFileSchema.safeParse(data)
  if (!r.success) fail(file, `is not a Foundry feedback file (${issueText(r.error)})`)
  const out: FeedbackItem[] = []
  let bad = 0
  let first: string | undefined
  r.data.items.forEach((raw, i) => {
    const it = parseEntry(FeedbackItemSchema, raw, ["items", i])
    if (it.ok) out.push(it.data)
    else {
      bad++
      first ??= it.issue
    }
  })
  if (bad) warn?.(`${file}: ${bad} item${bad === 1 ? "" : "s"} not in Foundry's shape left out (first: ${first})`)
  return out
}

export function parseWorkMd(text: string, file = "WORK.md"): WorkFiles["work"] {
  const { data, body } = parseMarkdown(text, file, false)
  const s = (v: unknown) => (typeof v === "string" ? v : undefined)
  const stages = Array.isArray(data["stages"]) ? (data["stages"] as unknown[]).filter((x): x is string => typeof x === "string") : undefined
  const goal = /#\s*Goal\s*\n+([\s\S]*)$/.exec(body)?.[1]?.trim()
  return {
    ...(s(data["flow"]) ? { flow: s(data["flow"]) } : {}),
    ...(s(data["cycle"]) ? { cycle: s(data["cycle"]) } : {}),
    ...(s(data["status"]) ? { status: s(data["status"]) } : {}),
    ...(stages ? { stages } : {}),
    ...(goal ? { goal } : {}),
  }
}

/**
 * The item as it stood at `at` (ISO time): its transitions up to and including that moment, newest
 * first; undefined when the item did not exist yet. Transitions without a timestamp always count.
 */
export function itemAsOf(item: FeedbackItem, at: string): FeedbackItem | undefined {
  const t = Date.parse(at)
  if (Number.isNaN(t)) return item
  const kept = item.history.filter((h) => !h.timestamp || Number.isNaN(Date.parse(h.timestamp)) || Date.parse(h.timestamp) <= t)
  return kept.length ? { ...item, history: kept } : undefined
}

// ---- the feedback summary a record carries ------------------------------------------------------

const clip = (s: string) => (s.length > MAX_ITEM_TEXT ? `${s.slice(0, MAX_ITEM_TEXT - 3)}...` : s)

function criterionOfTag(tag: string): string | undefined {
  const m = /^law:([^:]+)$/.exec(tag)
  const c = m ? parseGateLawId(m[1]!) : undefined
  return c ? criterionRef(c.intent, c.ac) : undefined
}

/** One item as a record carries it: current state, the criterion its tag cites, its transitions (newest first), texts clipped. */
export function summariseItem(i: FeedbackItem): FeedbackItemSummary {
  const top = i.history[0]!
  const criterion = criterionOfTag(i.tag)
  return {
    id: i.id,
    file: i.file,
    tag: i.tag,
    state: top.state,
    ...(i.source ? { source: i.source } : {}),
    ...(top.reason ? { reason: clip(top.reason) } : {}),
    ...(i.artefact_version ? { artefact_version: i.artefact_version } : {}),
    ...(criterion ? { criterion } : {}),
    ...(i.text ? { text: clip(i.text) } : {}),
    history: i.history.map((h) => ({
      state: h.state,
      ...(h.stage ? { stage: h.stage } : {}),
      ...(h.timestamp ? { timestamp: h.timestamp } : {}),
      ...(h.reason ? { reason: clip(h.reason) } : {}),
    })),
  }
}

/** Counts by current state and by tag, the items citing Alloy gates, and every item. */
export function feedbackSummary(items: readonly FeedbackItem[]): FeedbackSummary {
  const by_state: Record<string, number> = {}
  const by_tag: Record<string, number> = {}
  const all = items.map(summariseItem)
  for (const i of all) {
    by_state[i.state] = (by_state[i.state] ?? 0) + 1
    by_tag[i.tag] = (by_tag[i.tag] ?? 0) + 1
  }
  return { total: all.length, by_state, by_tag, alloy_items: all.filter((i) => i.criterion), items: all }
}

// ---- reading the WORK files of a folder ----------------------------------------------------------

/** A file of a folder (symlinks followed: a work tree or snapshot is the user's own), bounded; undefined when absent. */
export function readWorkText(file: string, shown: string, limit = MAX_WORK_BYTES): string | undefined {
  return readFileBounded(file, limit, shown, { followSymlink: true, what: "Foundry's files" })?.toString("utf8")
}

export interface WorkTexts {
  readonly md?: string | undefined
  readonly history?: string | undefined
  readonly feedback?: string | undefined
}

/** Parse the three WORK texts (prefix `where` names them in messages). Item problems go to `warn`. */
export function workFromTexts(texts: WorkTexts, where = "", warn?: (s: string) => void): WorkFiles {
  return {
    work: texts.md !== undefined ? parseWorkMd(texts.md, `${where}WORK.md`) : undefined,
    history: texts.history !== undefined ? parseHistory(texts.history, `${where}WORK.history.yaml`) : [],
    feedback: texts.feedback !== undefined ? parseFeedback(texts.feedback, `${where}WORK.feedback.yaml`, warn) : [],
    ...(texts.feedback === undefined ? { feedbackMissing: true } : {}),
  }
}

/** The WORK files of a folder (a project root, a snapshot's `work/`), read and parsed. */
export function readWorkFolder(dir: string, where = "", warn?: (s: string) => void): { texts: WorkTexts; work: WorkFiles } {
  const texts = {
    md: readWorkText(path.join(dir, "WORK.md"), `${where}WORK.md`),
    history: readWorkText(path.join(dir, "WORK.history.yaml"), `${where}WORK.history.yaml`),
    feedback: readWorkText(path.join(dir, "WORK.feedback.yaml"), `${where}WORK.feedback.yaml`),
  }
  return { texts, work: workFromTexts(texts, where, warn) }
}

/**
 * What the live hooks read from the work tree at a stage's end: the cycle run (session), the
 * history so far and the feedback summary — by the same parser and summary `import` uses. A file
 * that cannot be read leaves its part out with a warning; nothing throws.
 */
export function observeWorkTree(root: string): { work: WorkFiles; session?: string; feedback?: FeedbackSummary; warnings: string[] } {
  const warnings: string[] = []
  const part = <T>(what: string, f: () => T): T | undefined => {
    try {
      return f()
    } catch (e) {
      if (!(e instanceof AlloyError)) throw e
      warnings.push(`${what} left out: ${e.message}`)
      return undefined
    }
  }
  const md = part("WORK.md", () => {
    const t = readWorkText(path.join(root, "WORK.md"), "WORK.md")
    return t === undefined ? undefined : parseWorkMd(t)
  })
  const history = part("history", () => parseHistory(readWorkText(path.join(root, "WORK.history.yaml"), "WORK.history.yaml") ?? "")) ?? []
  let present = false
  const items = part("feedback summary", () => {
    const t = readWorkText(path.join(root, "WORK.feedback.yaml"), "WORK.feedback.yaml")
    present = t !== undefined
    return parseFeedback(t ?? "", "WORK.feedback.yaml", (w) => warnings.push(w))
  })
  const work: WorkFiles = { work: md, history, feedback: items ?? [] }
  const session = sessionOf(work)
  return { work, ...(session ? { session } : {}), ...(items && present ? { feedback: feedbackSummary(items) } : {}), warnings }
}

// ---- sessions --------------------------------------------------------------------------------

/**
 * One life of the WORK files = one run of one cycle. Foundry deletes and re-creates the files between
 * cycles, so a history file never spans two cycles; its first entry's time names the session wherever
 * the files were read (snapshot, branch, work tree). Exported so the live hook can use the same ids.
 */
export function sessionId(cycle: string, firstTimestamp: string): string {
  return `${cycle}@${firstTimestamp}`
}

export function sessionOf(w: WorkFiles): string | undefined {
  const first = w.history[0]
  const cycle = w.work?.cycle ?? first?.cycle
  if (!cycle) return undefined
  if (first) return sessionId(cycle, first.timestamp)
  // no history yet: the earliest feedback transition, else nothing to name it by
  const ts = w.feedback
    .flatMap((i) => i.history.map((h) => h.timestamp ?? ""))
    .filter(Boolean)
    .sort()[0]
  return ts ? sessionId(cycle, ts) : undefined
}

// ---- ATTEST.md ---------------------------------------------------------------------------------

export interface Attestation {
  readonly message: string
  readonly diffSha256?: string
  readonly payload: {
    schema?: string
    contract?: { entry_cycle?: string; flow_id?: string; required_stages?: string[]; required_human_gates?: unknown }
    outputs: Array<{ path: string; state: string }>
    process: { stages: Array<{ stage: string; cycle?: string; iteration?: number }> }
    request?: { goal_text?: string }
    work_branch_archive?: { name?: string; tip_sha?: string }
  }
}

const AttestPayloadSchema = z.looseObject({
  schema: z.string().optional(),
  contract: z.looseObject({ entry_cycle: z.string().optional(), flow_id: z.string().optional(), required_stages: z.array(z.string()).optional() }).optional(),
  outputs: z.array(z.looseObject({ path: z.string(), state: z.string() })).default([]),
  process: z.looseObject({ stages: z.array(z.looseObject({ stage: z.string(), cycle: z.string().optional(), iteration: z.number().optional() })).default([]) }).default({ stages: [] }),
  request: z.looseObject({ goal_text: z.string().optional() }).optional(),
  work_branch_archive: z.looseObject({ name: z.string().optional(), tip_sha: z.string().optional() }).optional(),
})

export function parseAttest(text: string, file = "ATTEST.md"): Attestation {
  const begin = text.indexOf("-----BEGIN FOUNDRY ATTESTATION-----")
  const end = text.indexOf("-----END FOUNDRY ATTESTATION-----")
  if (begin < 0 || end < begin) fail(file, "has no FOUNDRY ATTESTATION block", "ATTEST.md is written by `foundry_attest({confirm:true})`; do not edit it")
  const json = text.slice(begin + "-----BEGIN FOUNDRY ATTESTATION-----".length, end).trim()
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch (e) {
    fail(file, `attestation payload is not JSON (${(e as Error).message})`)
  }
  const r = AttestPayloadSchema.safeParse(raw)
  if (!r.success) fail(file, `attestation payload is not foundry-attestation/v1 (${issueText(r.error)})`)
  const head = text.slice(0, begin)
  const diff = /^diff-sha256:\s*([0-9a-f]{64})\s*$/m.exec(head)?.[1]
  const message = head.replace(/^diff-sha256:.*$/m, "").trim()
  return { message, ...(diff ? { diffSha256: diff } : {}), payload: r.data as Attestation["payload"] }
}

// ---- diff.patch -----------------------------------------------------------------------------------

export interface DiffFile {
  readonly path: string
  readonly state: "new" | "modified" | "deleted"
  /** sha256 hex of the whole new content, for files the patch adds in full */
  readonly sha256?: string
}

function unquote(p: string): string {
  if (p.startsWith('"') && p.endsWith('"')) {
    try {
      return JSON.parse(p) as string
    } catch {
      return p.slice(1, -1)
    }
  }
  return p
}

/**
 * Files in a `git diff` patch, with their state. For files added whole (one hunk `-0,0`) the new content is
 * rebuilt from the `+` lines and hashed, so an in-toto subject can name it; other files carry no hash.
 */
export function parseDiffPatch(text: string): DiffFile[] {
  const out: DiffFile[] = []
  const lines = text.split("\n")
  let i = 0
  while (i < lines.length) {
    const m = /^diff --git (?:"?a\/)(.+?)"? (?:"?b\/)(.+?)"?$/.exec(lines[i]!)
    if (!m) {
      i++
      continue
    }
    let p = unquote(m[2]!)
    let state: DiffFile["state"] = "modified"
    let j = i + 1
    const body: string[] = []
    let hunks = 0
    let addOnly = true
    let noEol = false
    for (; j < lines.length && !lines[j]!.startsWith("diff --git "); j++) {
      const l = lines[j]!
      if (l.startsWith("new file mode")) state = "new"
      else if (l.startsWith("deleted file mode")) state = "deleted"
      else if (l.startsWith("rename to ")) p = unquote(l.slice("rename to ".length))
      else if (l.startsWith("+++ ") && l !== "+++ /dev/null") p = unquote(l.slice(4)).replace(/^b\//, "")
      else if (l.startsWith("@@")) {
        hunks++
        if (!/^@@ -0,0 \+/.test(l)) addOnly = false
      } else if (hunks > 0) {
        if (l.startsWith("+")) body.push(l.slice(1))
        else if (l.startsWith("\\")) noEol = true
        else if (l.startsWith("-") || l.startsWith(" ")) addOnly = false
      }
    }
    let sha256: string | undefined
    if (state === "new" && hunks === 1 && addOnly) sha256 = sha256Hex(body.join("\n") + (noEol || body.length === 0 ? "" : "\n"))
    else if (state === "new" && hunks === 0) sha256 = sha256Hex("")
    out.push({ path: p, state, ...(sha256 ? { sha256 } : {}) })
    i = j
  }
  return out
}

// ---- dry-run snapshot README and trace ------------------------------------------------------------

export interface SnapshotReadme {
  readonly branch?: string
  readonly parent?: string
  readonly flow?: string
  readonly goal?: string
  readonly startedAt?: string
  readonly finishedAt?: string
  readonly exitReason?: string
  readonly message: string
}

export function parseSnapshotReadme(text: string, file = "README.md"): SnapshotReadme {
  if (!splitFrontmatter(text)) fail(file, "has no frontmatter; expected a Foundry dry-run snapshot README")
  const { data, body } = parseMarkdown(text, file)
  const s = (k: string): string | undefined => {
    const v = data[k]
    if (v === null || v === undefined || v === "null") return undefined
    return v instanceof Date ? v.toISOString() : String(v)
  }
  const message = body.replace(/^\s*#\s*Dry-run snapshot\s*/, "").trim()
  const r: Record<string, string> = {}
  for (const k of ["branch", "parent", "flow", "goal", "startedAt", "finishedAt", "exitReason"]) {
    const v = s(k)
    if (v !== undefined) r[k] = v
  }
  return { ...r, message }
}

export interface TraceRecord {
  readonly ts: string
  readonly tool: string
  readonly args: Record<string, unknown>
  readonly result?: unknown
  readonly error?: string
}

/** Parse `trace.jsonl`; unreadable lines are skipped (the trace is forensic, never authoritative). */
export function parseTrace(text: string, maxLines = 200_000): TraceRecord[] {
  const out: TraceRecord[] = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length && i < maxLines; i++) {
    const line = lines[i]!.trim()
    if (!line) continue
    try {
      const o = JSON.parse(line) as Record<string, unknown>
      if (typeof o["tool"] !== "string" || typeof o["ts"] !== "string") continue
      const args = o["args"] && typeof o["args"] === "object" && !Array.isArray(o["args"]) ? (o["args"] as Record<string, unknown>) : {}
      out.push({ ts: o["ts"], tool: o["tool"], args, ...("result" in o ? { result: o["result"] } : {}), ...(typeof o["error"] === "string" ? { error: o["error"] } : {}) })
    } catch {
      /* skip */
    }
  }
  return out
}

/** `alloy` blocks the forge saw through `foundry_config_cycle` during a dry run: cycle -> [{ts, block}] in trace order. */
export function pinsFromTrace(trace: readonly TraceRecord[]): Map<string, Array<{ ts: string; block: Record<string, unknown> }>> {
  const out = new Map<string, Array<{ ts: string; block: Record<string, unknown> }>>()
  for (const r of trace) {
    if (r.tool !== "foundry_config_cycle") continue
    const cycle = r.args["cycleId"]
    let res = r.result
    if (typeof res === "string") {
      try {
        res = JSON.parse(res)
      } catch {
        continue
      }
    }
    const fm = res && typeof res === "object" ? (res as Record<string, unknown>)["frontmatter"] : undefined
    if (typeof cycle !== "string" || !fm || typeof fm !== "object") continue
    pushTo(out, cycle, { ts: r.ts, block: fm as Record<string, unknown> })
  }
  return out
}

/** When each stage began, and from which commit, from `foundry_stage_begin` calls in a trace: `<cycle> <stage>` -> begins in order. */
export function stageBeginsFromTrace(trace: readonly TraceRecord[]): Map<string, Array<{ at: string; baseSha?: string }>> {
  const out = new Map<string, Array<{ at: string; baseSha?: string }>>()
  for (const r of trace) {
    if (r.tool !== "foundry_stage_begin" || r.error) continue
    const { stage, cycle } = r.args
    if (typeof stage !== "string" || typeof cycle !== "string") continue
    let res = r.result
    if (typeof res === "string") {
      try {
        res = JSON.parse(res)
      } catch {
        res = undefined
      }
    }
    const active = res && typeof res === "object" ? (res as { active?: { baseSha?: unknown } }).active : undefined
    const baseSha = typeof active?.baseSha === "string" && /^[0-9a-f]{7,64}$/.test(active.baseSha) ? active.baseSha : undefined
    const k = `${cycle} ${stage}`
    pushTo(out, k, { at: r.ts, ...(baseSha ? { baseSha } : {}) })
  }
  return out
}

export function isHex64(s: unknown): s is string {
  return typeof s === "string" && Hex64.test(s)
}
