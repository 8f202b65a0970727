/**
 * Trace import: what Foundry leaves behind -> run records in `.alloy/runs/records/`, idempotently.
 *
 *   snapshot  `.snapshots/<run-id>/` of a dry run: README.md, work/WORK*, diff.patch, trace.jsonl
 *   branch    a `work/*` or `archive/*` branch: every session's WORK files from git history, ATTEST.md at the tip
 *   worktree  the WORK files (and ATTEST.md) in the project's work tree
 *   outbox    another `.alloy/runs/` (e.g. of a git worktree): its records, copied as they are
 *
 * Records are written create-once under keys derived from what was observed (session, stage, seq,
 * time), so importing twice — or the same run from two places — adds nothing. Reads are bounded;
 * git runs read-only with timeouts. One bad source is reported and does not stop the others.
 */
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs"
import path from "node:path"
import { AlloyError, toAlloyError } from "../core/errors.js"
import { parseMarkdown } from "../core/frontmatter.js"
import { readPinBlock, type Pin } from "../core/pin.js"
import { isSlug } from "../core/ids.js"
import { sha256Hex } from "../core/digest.js"
import type { RunRecord } from "../core/run-record.js"
import type { AlloyContext } from "../service/context.js"
import { catFiles, isGitRepo, listBranches, listWorktrees, logCommits, resolveCommit, isSafeRefName, type CommitInfo } from "./git.js"
import { readRecords, runPaths, writeRecords } from "../store/outbox.js"
import { recordedCapabilitiesDigest } from "../service/capabilities.js"
import { sessionRecords, type PinSourceKind } from "./session-records.js"
import {
  MAX_WORK_BYTES,
  WORK_FILES,
  parseAttest,
  parseDiffPatch,
  parseHistory,
  parseSnapshotReadme,
  parseTrace,
  pinsFromTrace,
  readWorkFolder,
  readWorkText,
  sessionOf,
  stageBeginsFromTrace,
  workFromTexts,
  type Attestation,
  type HistoryEntry,
  type WorkFiles,
} from "../foundry/work-files.js"

export const IMPORT_SOURCE_KINDS = ["snapshot", "branch", "worktree", "outbox"] as const
export type ImportSourceKind = (typeof IMPORT_SOURCE_KINDS)[number]

export interface ImportSource {
  readonly kind: ImportSourceKind
  /** absolute folder (snapshot, outbox, worktree) or branch name */
  readonly ref: string
}

export interface SourceResult {
  readonly kind: ImportSourceKind
  /** what the user would type: a project-relative folder or a branch name */
  readonly ref: string
  readonly sessions: number
  readonly records: number
  readonly created: number
  readonly existing: number
  readonly warnings: string[]
  readonly error?: { code: string; message: string; fix?: string }
}

export interface ImportReport {
  readonly ok: boolean
  readonly sources: SourceResult[]
  readonly created: number
  readonly existing: number
}

const MAX_TRACE_BYTES = 64 * 1024 * 1024
/**
 * Stage runs are matched to the commits Foundry made for them among the newest COMMIT_WINDOW
 * commits of the branch (a branch carries the whole history of the repository under it). A stage
 * run older than that gets no commit, and the import says so (`commitWindowWarning`).
 */
export const COMMIT_WINDOW = 5000

/** Warnings of one import, each said once. */
function warningList(): { warnings: string[]; note: (s: string) => void } {
  const warnings: string[] = []
  const noted = new Set<string>()
  return {
    warnings,
    note: (s) => {
      if (noted.has(s)) return
      noted.add(s)
      warnings.push(s)
    },
  }
}

/** Read a text file of an import source with a size limit; undefined when it does not exist. */
function readLimited(file: string, limit: number, shown = path.basename(file)): string | undefined {
  return readWorkText(file, shown, limit)
}

function contentKey(...texts: Array<string | undefined>): string {
  return sha256Hex(texts.map((t) => t ?? "").join("\u0000"))
}

type PinResult = { pin: Pin; source: PinSourceKind } | undefined

/** Pin from a definition's frontmatter; invalid or missing -> undefined with a warning. */
function pinFromDefinition(text: string | undefined, file: string, owner: { kind: "cycle" | "flow"; id: string }, warn: (s: string) => void): Pin | undefined {
  if (text === undefined) return undefined
  return pinFromFrontmatter(() => parseMarkdown(text, file).data, file, owner, warn)
}

/** The pin of a definition's frontmatter (read from a file, or as a trace recorded it), or a warning. */
function pinFromFrontmatter(data: () => Record<string, unknown>, file: string, owner: { kind: "cycle" | "flow"; id: string }, warn: (s: string) => void): Pin | undefined {
  try {
    return readPinBlock(data(), file, owner)
  } catch (e) {
    warn(`${file}: ${toAlloyError(e).describe()}; its runs are imported without a pin`)
    return undefined
  }
}

function worktreePin(ctx: AlloyContext, cycle: string, warn: (s: string) => void): PinResult {
  if (!isSlug(cycle)) return undefined
  try {
    const p = ctx.project.pinForCycle(cycle)
    return p ? { pin: { brief_id: p.brief_id, digest: p.digest }, source: "worktree" } : undefined
  } catch (e) {
    const err = toAlloyError(e)
    if (err.code !== "cycle_not_found") warn(`${err.withContext({ cycle }).describe()}; its runs are imported without a pin`)
    return undefined
  }
}

/** Pin of a cycle as committed at `commit` (its own block, else the flow's). */
function branchPin(root: string, commit: string, cycle: string, flow: string | undefined, warn: (s: string) => void): PinResult {
  if (!isSlug(cycle)) return undefined
  const cycleFile = `foundry/cycles/${cycle}.md`
  const flowFile = flow && isSlug(flow) ? `foundry/flows/${flow}.md` : undefined
  const blobs = catFiles(root, [`${commit}:${cycleFile}`, ...(flowFile ? [`${commit}:${flowFile}`] : [])])
  const own = pinFromDefinition(blobs.get(`${commit}:${cycleFile}`)?.toString("utf8"), cycleFile, { kind: "cycle", id: cycle }, warn)
  if (own) return { pin: own, source: "branch" }
  if (flowFile) {
    const f = pinFromDefinition(blobs.get(`${commit}:${flowFile}`)?.toString("utf8"), flowFile, { kind: "flow", id: flow! }, warn)
    if (f) return { pin: f, source: "branch" }
  }
  return undefined
}

/**
 * Match history entries to the commits Foundry made for them (`[<cycle>] <stage>: ...`), in order:
 * `commits` (seq -> sha) and `bases` (seq -> the commit the stage started from, its parent).
 */
/** A warning when stage runs were left without a commit because the commit window was full (never silent). */
export function commitWindowWarning(where: string, history: readonly HistoryEntry[], commits: readonly CommitInfo[], mapped: ReadonlyMap<number, string>): string | undefined {
  if (commits.length < COMMIT_WINDOW) return undefined
  const unmatched = history.filter((e) => e.stage !== "sort" && e.seq !== undefined && !mapped.has(e.seq)).length
  if (!unmatched) return undefined
  return `${where}: ${unmatched} stage run${unmatched === 1 ? "" : "s"} matched no commit among the newest ${COMMIT_WINDOW} commits searched, so ${unmatched === 1 ? "its record carries" : "their records carry"} no commit; import an archive branch or snapshot of the cycle for them`
}

export function mapCommits(history: readonly HistoryEntry[], commits: readonly CommitInfo[]): { commits: Map<number, string>; bases: Map<number, string> } {
  const out = new Map<number, string>()
  const bases = new Map<number, string>()
  const used = new Set<string>()
  for (const e of history) {
    if (e.stage === "sort" || e.seq === undefined) continue
    const t = Date.parse(e.timestamp)
    const prefix = `[${e.cycle}] ${e.stage}:`
    const c = commits.find((c) => !used.has(c.sha) && c.subject.startsWith(prefix) && (Number.isNaN(t) || c.time >= Math.floor(t / 1000) * 1000 - 5000))
    if (c) {
      used.add(c.sha)
      out.set(e.seq, c.sha)
      if (c.parent) bases.set(e.seq, c.parent)
    }
  }
  return { commits: out, bases }
}

/**
 * Within one `importAll` (synchronous, one installation) the capability digest is built once, not
 * once per source: building it reads the tool and agent definitions (a quarter of a second per
 * thousand snapshots).
 */
let importRun: { digest?: string | undefined } | undefined
function capabilitiesOnce(ctx: AlloyContext): string | undefined {
  if (!importRun) return recordedCapabilitiesDigest(ctx)
  if (!("digest" in importRun)) importRun.digest = recordedCapabilitiesDigest(ctx)
  return importRun.digest
}

/**
 * Write what was read, each record stamped with the capability digest of the installation that
 * records it (`stamp`: false for another outbox's records, copied as they are).
 */
function write(ctx: AlloyContext, records: readonly RunRecord[], stamp = true): { created: number; existing: number; warnings: string[] } {
  const capabilities = stamp && records.length ? capabilitiesOnce(ctx) : undefined
  return writeRecords(ctx.root, capabilities ? records.map((r) => (r.capabilities ? r : { ...r, capabilities })) : records)
}

function result(kind: ImportSourceKind, ref: string, warnings: string[], sessions: number, records: readonly RunRecord[], w: { created: number; existing: number; warnings?: string[] }): SourceResult {
  return { kind, ref, sessions, records: records.length, created: w.created, existing: w.existing, warnings: [...warnings, ...(w.warnings ?? [])] }
}

// ---- snapshot ------------------------------------------------------------------------------------

export function importSnapshot(ctx: AlloyContext, dir: string): SourceResult {
  const abs = path.resolve(ctx.root, dir)
  const ref = displayPath(ctx, abs)
  const { warnings, note } = warningList()
  const readmeText = readLimited(path.join(abs, "README.md"), MAX_WORK_BYTES)
  if (readmeText === undefined) {
    throw new AlloyError("usage", `${ref} is not a dry-run snapshot (no README.md)`, { fix: "pass a folder under .snapshots/ (e.g. .snapshots/<run-id>), written by a dry-run finish" })
  }
  const readme = parseSnapshotReadme(readmeText, `${ref}/README.md`)
  const { work } = readWorkFolder(path.join(abs, "work"), `${ref}/work/`, note)
  const diff = readLimited(path.join(abs, "diff.patch"), MAX_TRACE_BYTES)
  const traceText = readLimited(path.join(abs, "trace.jsonl"), MAX_TRACE_BYTES)
  const trace = traceText ? parseTrace(traceText) : []
  if (traceText === undefined) warnings.push("no trace.jsonl: stage start times and the pins the run saw are unknown")
  if (diff === undefined) warnings.push("no diff.patch: the final diff is unknown (artefact gates cannot be judged)")
  const tracePins = pinsFromTrace(trace)
  // the parent branch is only looked up when the trace shows no pin (git is a subprocess per call)
  let parentLooked = false
  let parentCommit: string | undefined
  const parent = () => {
    if (!parentLooked) {
      parentLooked = true
      parentCommit = readme.parent && isSafeRefName(readme.parent) && isGitRepo(ctx.root) ? resolveCommit(ctx.root, readme.parent) : undefined
    }
    return parentCommit
  }
  const pinFor = (cycle: string, at: string): PinResult => {
    const seen = tracePins.get(cycle)
    if (seen?.length) {
      const before = seen.filter((s) => s.ts <= at)
      const block = (before.length ? before[before.length - 1]! : seen[0]!).block
      // the trace holds the frontmatter as Foundry parsed it: read its pin as it is, never through YAML again
      const file = `trace.jsonl (foundry_config_cycle ${cycle})`
      const p = pinFromFrontmatter(
        () => {
          if (Array.isArray(block)) throw new AlloyError("malformed", `${file}: frontmatter must be a YAML mapping of keys to values`, { file })
          return block
        },
        file,
        { kind: "cycle", id: cycle },
        note,
      )
      if (p) return { pin: p, source: "trace" }
    }
    const parentSha = parent()
    if (parentSha) {
      const p = branchPin(ctx.root, parentSha, cycle, work.work?.flow, note)
      if (p) {
        note(`cycle ${cycle}: pin read from the parent branch ${readme.parent} (the trace shows none)`)
        return p
      }
    }
    const p = worktreePin(ctx, cycle, note)
    if (p) note(`cycle ${cycle}: pin read from the work tree (neither the trace nor the parent branch shows one); it may be newer than the run`)
    return p
  }
  if (!work.history.length && !work.feedback.length) warnings.push("no WORK.history.yaml or WORK.feedback.yaml under work/: nothing to import")
  const records = sessionRecords({
    work,
    origin: { kind: "snapshot", ref: path.basename(abs) },
    pinFor,
    stageBegins: stageBeginsFromTrace(trace),
    close: {
      kind: "finish",
      ...(readme.finishedAt ? { at: readme.finishedAt } : {}),
      summary: `dry run ${!readme.exitReason || readme.exitReason === "unknown" ? "finished" : `ended (${readme.exitReason})`}${readme.branch ? ` on ${readme.branch}` : ""}${readme.message ? `: ${readme.message.split("\n")[0]!.slice(0, 300)}` : ""}`,
      failed: readme.exitReason === "failed" || work.work?.status === "failed",
      files: diff ? parseDiffPatch(diff) : [],
    },
    ...(ctx.project.version() ? { foundryVersion: ctx.project.version()! } : {}),
  })
  return result("snapshot", ref, warnings, sessionOf(work) ? 1 : 0, records, write(ctx, records))
}

// ---- branch --------------------------------------------------------------------------------------

export function importBranch(ctx: AlloyContext, branch: string): SourceResult {
  if (!isSafeRefName(branch))
    throw new AlloyError("usage", `${JSON.stringify(branch.slice(0, 80))} is not a branch name Alloy will pass to git`, {
      fix: "name a local branch such as work/release-notes-checkout or archive/work/...",
    })
  if (!isGitRepo(ctx.root))
    throw new AlloyError("usage", "this project is not a git repository, so there are no branches to import", { fix: "run the command in the repository, or import a snapshot folder" })
  const tip = resolveCommit(ctx.root, branch)
  if (!tip) throw new AlloyError("usage", `there is no branch ${branch}`, { fix: "list candidates with `git branch --list 'work/*' 'archive/*'`" })
  const { warnings, note } = warningList()
  // every session: the newest commit that holds its WORK.history.yaml
  // every commit that changed it (no count limit: a session older than a window would be left out silently)
  const touching = logCommits(ctx.root, tip, 0, ["WORK.history.yaml"]).map((c) => c.sha)
  const candidates = [...touching.filter((c) => c !== tip), tip]
  const hist = catFiles(
    ctx.root,
    candidates.map((c) => `${c}:WORK.history.yaml`),
  )
  const newestBySession = new Map<string, string>()
  for (const c of candidates) {
    const text = hist.get(`${c}:WORK.history.yaml`)?.toString("utf8")
    if (text === undefined) continue
    try {
      const h = parseHistory(text, `${branch}@${c.slice(0, 7)}:WORK.history.yaml`)
      const s = sessionOf({ history: h, feedback: [] })
      if (s) newestBySession.set(s, c)
    } catch (e) {
      note(toAlloyError(e).describe())
    }
  }
  const commits = logCommits(ctx.root, tip, COMMIT_WINDOW)
  const attestCommit = [...commits].reverse().find((c) => c.subject.includes("attest: cycle complete"))?.sha
  const version = catFiles(ctx.root, [`${tip}:foundry/VERSION`])
    .get(`${tip}:foundry/VERSION`)
    ?.toString("utf8")
    .trim()
  const all: RunRecord[] = []
  let sessions = 0
  const tipSession = [...newestBySession.entries()].find(([, c]) => c === tip)?.[0] ?? [...newestBySession.keys()].pop()
  for (const [session, c] of newestBySession) {
    const isTip = session === tipSession
    const at = isTip ? tip : c
    const blobs = catFiles(ctx.root, [...WORK_FILES.map((f) => `${at}:${f}`), ...(isTip ? [`${tip}:ATTEST.md`] : [])])
    const texts = {
      md: blobs.get(`${at}:WORK.md`)?.toString("utf8"),
      history: blobs.get(`${at}:WORK.history.yaml`)?.toString("utf8") ?? hist.get(`${c}:WORK.history.yaml`)?.toString("utf8"),
      feedback: blobs.get(`${at}:WORK.feedback.yaml`)?.toString("utf8"),
    }
    let work: WorkFiles
    try {
      work = workFromTexts(texts, `${branch}@${at.slice(0, 7)}:`, note)
    } catch (e) {
      note(toAlloyError(e).describe())
      continue
    }
    const attestText = isTip ? blobs.get(`${tip}:ATTEST.md`)?.toString("utf8") : undefined
    let attestation: Attestation | undefined
    if (attestText !== undefined) {
      try {
        attestation = parseAttest(attestText, `${branch}:ATTEST.md`)
      } catch (e) {
        note(toAlloyError(e).describe())
      }
    }
    const shaOf = (p: string) => {
      const b = catFiles(ctx.root, [`${tip}:${p}`]).get(`${tip}:${p}`)
      return b ? sha256Hex(b) : undefined
    }
    const mapped = mapCommits(work.history, commits)
    const cut = commitWindowWarning(`branch ${branch}, session ${session}`, work.history, commits, mapped.commits)
    if (cut) note(cut)
    const records = sessionRecords({
      work,
      origin: { kind: "branch", ref: branch },
      pinFor: (cycle) => branchPin(ctx.root, at, cycle, work.work?.flow, note),
      ...mapped,
      close: attestation
        ? { kind: "attest", ...(attestCommit ? { commit: attestCommit } : { commit: tip }), attestation, shaOf }
        : { kind: "observe", commit: at, contentKey: contentKey(texts.history, texts.feedback) },
      ...(version ? { foundryVersion: version } : {}),
    })
    if (records.length) sessions++
    all.push(...records)
  }
  if (!newestBySession.size) warnings.push(`branch ${branch} has no commit with a WORK.history.yaml: nothing to import`)
  return result("branch", branch, warnings, sessions, all, write(ctx, all))
}

// ---- work tree -----------------------------------------------------------------------------------

export interface WorktreeOptions {
  /** recorded by the live hook (after `foundry_orchestrate`), not by an import */
  readonly live?: boolean
  /** write the closing `observe` record (default true; the live hook writes it when the cycle ends) */
  readonly closing?: boolean
  /** only cycles with a pin (the live hook's rule unless unpinned runs are exported) */
  readonly pinnedOnly?: boolean
  /** the gates appraisers were shown (the live hook knows them from its own dispatch) */
  readonly presented?: (cycle: string, stage: string, at: string) => readonly string[] | undefined
}

export function importWorktree(ctx: AlloyContext, opts: WorktreeOptions = {}): SourceResult {
  const { warnings, note } = warningList()
  const { texts, work } = readWorkFolder(ctx.root, "", note)
  const attestText = readLimited(path.join(ctx.root, "ATTEST.md"), MAX_WORK_BYTES)
  let attestation: Attestation | undefined
  if (attestText !== undefined) {
    try {
      attestation = parseAttest(attestText)
    } catch (e) {
      note(toAlloyError(e).describe())
    }
  }
  const git = isGitRepo(ctx.root)
  const head = git ? resolveCommit(ctx.root, "HEAD") : undefined
  const commits = head ? logCommits(ctx.root, head, COMMIT_WINDOW) : []
  const mapped = mapCommits(work.history, commits)
  const cut = commitWindowWarning("the work tree", work.history, commits, mapped.commits)
  if (cut) note(cut)
  const shaOf = (p: string) => {
    const t = readLimited(path.join(ctx.root, p), MAX_TRACE_BYTES)
    return t === undefined ? undefined : sha256Hex(t)
  }
  let records = sessionRecords({
    work,
    origin: { kind: "worktree", ref: "." },
    ...(opts.live ? { source: "hook" as const } : {}),
    ...(opts.presented ? { presented: opts.presented } : {}),
    pinFor: (cycle) => worktreePin(ctx, cycle, note),
    ...mapped,
    close: attestation
      ? { kind: "attest", ...(head ? { commit: head } : {}), attestation, shaOf }
      : { kind: "observe", ...(head ? { commit: head } : {}), contentKey: contentKey(texts.history, texts.feedback) },
    ...(ctx.project.version() ? { foundryVersion: ctx.project.version()! } : {}),
  })
  if (opts.closing === false) records = records.slice(0, -1)
  if (opts.pinnedOnly) records = records.filter((r) => r.pin !== null)
  return result("worktree", ".", warnings, sessionOf(work) ? 1 : 0, records, write(ctx, records))
}

// ---- outbox ---------------------------------------------------------------------------------------

/** Copy the records of another `.alloy/runs/` (or its `records/` folder) into ours, as they are. */
export function importOutbox(ctx: AlloyContext, dir: string): SourceResult {
  const abs = path.resolve(ctx.root, dir)
  const ref = displayPath(ctx, abs)
  const from = existsSync(path.join(abs, "records")) ? path.join(abs, "records") : abs
  if (!existsSync(from) || !statSync(from).isDirectory()) {
    throw new AlloyError("usage", `${ref} is not a folder of run records`, { fix: "pass a `.alloy/runs` folder (or its records/ folder)" })
  }
  const own = existsSync(runPaths(ctx.root).records) && samePath(from, runPaths(ctx.root).records)
  const { records, problems } = own ? readRecords(ctx.root) : readRecords(ctx.root, from)
  const warnings = problems.map((p) => `${displayPath(ctx, path.resolve(ctx.root, p.file))}: ${p.error}`)
  if (own) return result("outbox", ref, warnings, 0, records, { created: 0, existing: records.length })
  return result("outbox", ref, warnings, 0, records, write(ctx, records, false))
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b)
  } catch {
    return path.resolve(a) === path.resolve(b)
  }
}

function displayPath(ctx: AlloyContext, abs: string): string {
  const rel = path.relative(ctx.root, abs).split(path.sep).join("/")
  return rel === "" ? "." : rel.startsWith("..") ? path.basename(abs) : rel
}

// ---- discovery and the whole import ----------------------------------------------------------------

/** Everything importable that can be found: branches, snapshots, the work tree's WORK files, other work trees' outboxes. */
export function discoverSources(ctx: AlloyContext): ImportSource[] {
  const out: ImportSource[] = []
  const git = isGitRepo(ctx.root)
  if (git) for (const b of listBranches(ctx.root, ["work/", "archive/"])) out.push({ kind: "branch", ref: b })
  const snaps = path.join(ctx.root, ".snapshots")
  let names: string[] = []
  try {
    names = readdirSync(snaps).sort()
  } catch {
    /* none */
  }
  // every snapshot: no cap, so an import never leaves sources out while it reports ok
  for (const n of names) if (existsSync(path.join(snaps, n, "README.md"))) out.push({ kind: "snapshot", ref: path.join(snaps, n) })
  if (existsSync(path.join(ctx.root, "WORK.history.yaml")) || existsSync(path.join(ctx.root, "WORK.feedback.yaml"))) out.push({ kind: "worktree", ref: ctx.root })
  if (git) {
    for (const wt of listWorktrees(ctx.root)) {
      if (samePath(wt, ctx.root)) continue
      const runs = path.join(wt, ".alloy", "runs")
      if (existsSync(runs)) out.push({ kind: "outbox", ref: runs })
    }
  }
  return out
}

export function importOne(ctx: AlloyContext, s: ImportSource): SourceResult {
  switch (s.kind) {
    case "snapshot":
      return importSnapshot(ctx, s.ref)
    case "branch":
      return importBranch(ctx, s.ref)
    case "worktree":
      return importWorktree(ctx)
    case "outbox":
      return importOutbox(ctx, s.ref)
  }
}

/** Import the given sources (default: all discovered). Needs an initialised `.alloy/`. */
/** `onProgress` is called before each source is imported (`done` of `total`), for a progress line. */
export function importAll(ctx: AlloyContext, sources?: readonly ImportSource[], onProgress?: (done: number, total: number, ref: string) => void): ImportReport {
  ctx.store.requireInit()
  const list = sources ?? discoverSources(ctx)
  const results: SourceResult[] = []
  importRun = {}
  try {
    importEach(ctx, list, results, onProgress)
  } finally {
    importRun = undefined
  }
  return {
    ok: results.every((r) => !r.error),
    sources: results,
    created: results.reduce((n, r) => n + r.created, 0),
    existing: results.reduce((n, r) => n + r.existing, 0),
  }
}

function importEach(ctx: AlloyContext, list: readonly ImportSource[], results: SourceResult[], onProgress?: (done: number, total: number, ref: string) => void): void {
  for (const s of list) {
    onProgress?.(results.length, list.length, s.kind === "branch" ? s.ref : displayPath(ctx, s.ref))
    try {
      results.push(importOne(ctx, s))
    } catch (e) {
      const err = toAlloyError(e)
      const ref = s.kind === "branch" ? s.ref : displayPath(ctx, s.ref)
      results.push({
        kind: s.kind,
        ref,
        sessions: 0,
        records: 0,
        created: 0,
        existing: 0,
        warnings: [],
        error: { code: err.code, message: err.describe(), ...(err.fix ? { fix: err.fix } : {}) },
      })
    }
  }
}
