/**
 * What `pull` (src/team) brought from team stores, kept apart from this repository's own outbox and ledger
 * (inside the git-ignored `.alloy/runs/`, so nothing pulled is ever committed by accident):
 *
 *   .alloy/runs/pulled/<store>/store.json              {"store": "oci://<registry>/<repository>"}
 *   .alloy/runs/pulled/<store>/records/<key>.json      run records, the exact bytes from the store
 *   .alloy/runs/pulled/<store>/evidence/<path>         evidence ledger files of other repositories
 *   .alloy/runs/pulled/<store>/origins/<tag>.json      where each one came from (repository, machine, commit, manifest)
 *
 * Records are read through the one run-record reader (store/outbox `readRecords`); each one
 * read from here carries `pulled` (its store and origin) so evidence keeps its provenance.
 */
import { readdirSync } from "node:fs"
import path from "node:path"
import { compareRecords, type RunRecord } from "../core/run-record.js"
import { readRecords, runPaths, type RecordProblem } from "../store/outbox.js"

export const PULLED_SUBDIR = "pulled"

export interface PulledPaths {
  readonly dir: string
  readonly records: string
  readonly evidence: string
  readonly origins: string
  readonly storeFile: string
}

export function pulledPaths(root: string, slug: string): PulledPaths {
  const dir = path.join(runPaths(root).dir, PULLED_SUBDIR, slug)
  return { dir, records: path.join(dir, "records"), evidence: path.join(dir, "evidence"), origins: path.join(dir, "origins"), storeFile: path.join(dir, "store.json") }
}

const SLUG_RE = /^[a-z0-9._+-]{1,300}$/

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
    if (typeof s === "string" && /^oci:\/\/[A-Za-z0-9.:[\]_-]+\/[a-z0-9._/-]{1,255}$/.test(s)) store = s
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
