/**
 * What `pull` (src/team) brought from team stores, kept apart from this repository's own outbox and ledger
 * (inside the git-ignored `.alloy/runs/`, so nothing pulled is ever committed by accident):
 *
 *   .alloy/runs/pulled/<store>/store.json              {"store": "oci://<registry>/<repository>"}
 *   .alloy/runs/pulled/<store>/records/<key>.json      run records, the exact bytes from the store
 *   .alloy/runs/pulled/<store>/evidence/<path>         evidence ledger files of other repositories
 *   .alloy/runs/pulled/<store>/requests/<key>/…        bridge request and result files of others
 *   .alloy/runs/pulled/<store>/runners/<id>.json       runner registrations of others
 *   .alloy/runs/pulled/<store>/origins/<tag>.json      where each one came from (repository, machine, commit, manifest)
 *
 * Records are read through the one run-record reader (store/outbox `readRecords`); each one
 * read from here carries `pulled` (its store and origin) so evidence keeps its provenance.
 */
import { readdirSync } from "node:fs"
import { createHash } from "node:crypto"
import path from "node:path"
import { compareRecords, type RunRecord } from "../core/run-record.js"
import { readRecords, runPaths, RUNS_DIR, type RecordProblem } from "../store/outbox.js"
import { LEDGER_DIR, readSignoffDir, type LedgerSignoff } from "../store/ledger.js"
import type { LedgerCommit } from "../core/signoff.js"
import { readRegularFile } from "../store/read-file.js"

export const PULLED_SUBDIR = "pulled"

export interface PulledPaths {
  readonly dir: string
  readonly records: string
  readonly evidence: string
  readonly origins: string
  readonly storeFile: string
  /** bridge requests of others: `<key>/request.json`, `<key>/result.json` */
  readonly requests: string
  /** runner registrations of others: `<id>.json` */
  readonly runners: string
}

export function pulledPaths(root: string, slug: string): PulledPaths {
  const dir = path.join(runPaths(root).dir, PULLED_SUBDIR, slug)
  return {
    dir,
    records: path.join(dir, "records"),
    evidence: path.join(dir, "evidence"),
    origins: path.join(dir, "origins"),
    storeFile: path.join(dir, "store.json"),
    requests: path.join(dir, "requests"),
    runners: path.join(dir, "runners"),
  }
}

const SLUG_RE = /^[a-z0-9._+-]{1,300}$/
const STORE_RE = /^oci:\/\/[A-Za-z0-9.:[\]_-]+\/[a-z0-9._/-]{1,255}$/

/**
 * Every pulled run record, with `pulled` set from where it lies (a `pulled` key inside a file is
 * never trusted). Stores are read in name order; unsorted otherwise.
 */
export function readPulledRecords(root: string, read: (file: string) => Buffer | undefined): { records: RunRecord[]; problems: RecordProblem[] } {
  const base = path.join(runPaths(root).dir, PULLED_SUBDIR)
  let slugs: string[]
  try {
    slugs = readdirSync(base)
      .filter((s) => SLUG_RE.test(s))
      .sort()
  } catch {
    return { records: [], problems: [] }
  }
  const records: RunRecord[] = []
  const problems: RecordProblem[] = []
  for (const slug of slugs) {
    const p = pulledPaths(root, slug)
    let store = `oci://${slug}`
    const json = (file: string): Record<string, unknown> | undefined => {
      try {
        const b = read(file)
        const d = b ? (JSON.parse(b.toString("utf8")) as unknown) : undefined
        return d && typeof d === "object" && !Array.isArray(d) ? (d as Record<string, unknown>) : undefined
      } catch {
        return undefined
      }
    }
    const s = json(p.storeFile)?.["store"]
    if (typeof s === "string" && STORE_RE.test(s)) store = s
    const r = readRecords(root, p.records)
    problems.push(...r.problems)
    for (const rec of r.records) {
      const o = json(path.join(p.origins, `run-${rec.idempotency_key}.json`)) ?? {}
      const str = (k: string) => (typeof o[k] === "string" && (o[k] as string).length <= 300 ? (o[k] as string) : undefined)
      const repository = str("repository")
      const machine = str("machine")
      records.push({ ...rec, pulled: { store, ...(repository ? { repository } : {}), ...(machine ? { machine } : {}) } })
    }
  }
  return { records, problems }
}

/**
 * This project's own records (as read from its outbox) plus those pulled from team stores that it
 * does not hold itself: one record per identity (idempotency key), the project's own copy first.
 * Unsorted; the caller orders them.
 */
export function withPulledRecords(
  root: string,
  own: { records: RunRecord[]; problems: RecordProblem[] },
  read: (file: string) => Buffer | undefined,
): { records: RunRecord[]; problems: RecordProblem[] } {
  const pulled = readPulledRecords(root, read)
  const seen = new Set<string>()
  const records: RunRecord[] = []
  for (const r of own.records) {
    seen.add(r.idempotency_key)
    const { pulled: _claimed, ...local } = r // a `pulled` key in a local file is not an origin
    records.push(local)
  }
  for (const r of pulled.records) {
    if (seen.has(r.idempotency_key)) continue
    seen.add(r.idempotency_key)
    records.push(r)
  }
  return { records, problems: [...own.problems, ...pulled.problems] }
}

/** Every record the evidence reads: this project's outbox, then what was pulled from team stores (one per identity), sorted. */
export function readAllRecords(root: string, read: (file: string) => Buffer | undefined, onRecordRead?: () => void): { records: RunRecord[]; problems: RecordProblem[] } {
  const r = withPulledRecords(root, readRecords(root, undefined, onRecordRead ? () => onRecordRead() : undefined), read)
  r.records.sort(compareRecords)
  return r
}

// ---- the evidence ledger -----------------------------------------------------------------------

/** A sign-off as the evidence reads it: from this project's committed ledger, or pulled from a team store. */
export interface SignoffEntry extends LedgerSignoff {
  /** the team store it was pulled from (absent: this project's own ledger) */
  readonly pulled?: { store: string; repository?: string; machine?: string }
  /** the commit that added it to this project's ledger, with its signature as git verifies it here */
  readonly commit?: LedgerCommit
}

/**
 * THE reader of sign-offs: every verdict (status, verify, report, export, insights, the UI) reads the
 * ledger through this, so a fresh clone and CI compute the same verdicts as the machine that signed.
 * This project's `.alloy/evidence/` first, then ledgers pulled from team stores; one entry per
 * identity (the file's name is its identity), the project's own copy first. `commits` (what git says
 * about the commit that added each own entry: evidence/git.ts `ledgerCommits`) is joined in; verdicts
 * never depend on it.
 */
export function readAllSignoffs(root: string, commitsOf?: (root: string) => ReadonlyMap<string, LedgerCommit>): { signoffs: SignoffEntry[]; problems: RecordProblem[] } {
  const own = readSignoffDir(path.join(root, ...LEDGER_DIR.split("/")), LEDGER_DIR)
  const problems: RecordProblem[] = own.problems.map((p) => ({ file: p.file, error: p.error }))
  const commits = commitsOf && own.entries.length ? commitsOf(root) : undefined
  const seen = new Set<string>()
  const signoffs: SignoffEntry[] = []
  for (const e of own.entries) {
    seen.add(e.rel)
    const c = commits?.get(e.rel)
    signoffs.push({ ...e, ...(c ? { commit: c } : {}) })
  }
  const base = path.join(runPaths(root).dir, PULLED_SUBDIR)
  let slugs: string[] = []
  try {
    slugs = readdirSync(base)
      .filter((s) => SLUG_RE.test(s))
      .sort()
  } catch {
    slugs = []
  }
  for (const slug of slugs) {
    const p = pulledPaths(root, slug)
    const shown = `${RUNS_DIR}/${PULLED_SUBDIR}/${slug}/evidence`
    const r = readSignoffDir(p.evidence, shown)
    problems.push(...r.problems.map((x) => ({ file: x.file, error: x.error })))
    if (!r.entries.length) continue
    const store = storeOf(p.storeFile, slug)
    for (const e of r.entries) {
      if (seen.has(e.rel)) continue
      seen.add(e.rel)
      const o = readJsonObject(path.join(p.origins, `${hashedTag("evidence", e.rel)}.json`)) ?? {}
      const str = (k: string) => (typeof o[k] === "string" && (o[k] as string).length <= 300 ? (o[k] as string) : undefined)
      const repository = str("repository")
      const machine = str("machine")
      signoffs.push({ ...e, pulled: { store, ...(repository ? { repository } : {}), ...(machine ? { machine } : {}) } })
    }
  }
  return { signoffs, problems }
}

function readJsonObject(file: string): Record<string, unknown> | undefined {
  const r = readRegularFile(file, 64 * 1024)
  if (r.kind !== "ok") return undefined
  try {
    const d = JSON.parse(r.bytes.toString("utf8")) as unknown
    return d && typeof d === "object" && !Array.isArray(d) ? (d as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function storeOf(storeFile: string, slug: string): string {
  const s = readJsonObject(storeFile)?.["store"]
  return typeof s === "string" && STORE_RE.test(s) ? s : `oci://${slug}`
}

/**
 * The store's tag of a record named by a hash of its identity (a ledger file's path, a bridge
 * request file, a runner id): `<kind>-<sha256 of id>`. The one tag rule for these kinds: the team
 * store's layout (team/layout `tagOf`) names artifacts by it, and readers of pulled records find
 * each one's origin file (`origins/<tag>.json`) by it.
 */
export function hashedTag(kind: "evidence" | "request" | "runner", id: string): string {
  return `${kind}-${createHash("sha256").update(id, "utf8").digest("hex")}`
}

/** Where a pulled record came from: its store, and the repository and machine that pushed it (when known). */
export interface PulledOrigin {
  readonly store: string
  readonly repository?: string
  readonly machine?: string
}

/** The stores pulled into this project, in name order: each one's address and folders. */
export function pulledStoreDirs(root: string): Array<{ store: string; paths: PulledPaths }> {
  let slugs: string[] = []
  try {
    slugs = readdirSync(path.join(runPaths(root).dir, PULLED_SUBDIR))
      .filter((s) => SLUG_RE.test(s))
      .sort()
  } catch {
    slugs = []
  }
  return slugs.map((slug) => {
    const paths = pulledPaths(root, slug)
    return { store: storeOf(paths.storeFile, slug), paths }
  })
}

/** The origin of the pulled record tagged `tag` in a store's folder (what `pull` wrote beside it). */
export function pulledOrigin(paths: PulledPaths, store: string, tag: string): PulledOrigin {
  const o = readJsonObject(path.join(paths.origins, `${tag}.json`)) ?? {}
  const str = (k: string) => (typeof o[k] === "string" && (o[k] as string).length <= 300 ? (o[k] as string) : undefined)
  const repository = str("repository")
  const machine = str("machine")
  return { store, ...(repository ? { repository } : {}), ...(machine ? { machine } : {}) }
}
