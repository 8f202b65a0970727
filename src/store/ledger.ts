/**
 * The committed evidence ledger (docs/ledger.md): `.alloy/evidence/`, committed on the base branch so
 * every clone and CI read the same sign-offs. This module owns its files: where they lie, how they
 * are read (bounded, validated, bound to their name), written (create-once, atomic) and taken back
 * when the commit that should carry them fails. What git says about the commit that added each one
 * (who committed it, whether its signature verifies) is `ledgerCommits` in evidence/git.ts.
 *
 *   .alloy/evidence/signoffs/<intent>/<AC-n>/<key>.json    alloy.signoff/v1 (src/core/signoff.ts)
 */
import { lstatSync, readdirSync, unlinkSync } from "node:fs"
import path from "node:path"
import { isSignoffPath, signoffBytes, signoffPath, SignoffSchema, type Signoff } from "../core/signoff.js"
import { makeDirs, writeFileOnce } from "./atomic.js"
import { readRegularFile } from "./read-file.js"

export const LEDGER_DIR = ".alloy/evidence"
export const SIGNOFFS_SUBDIR = "signoffs"
/** the largest sign-off file read, and the most read from one ledger folder */
export const MAX_SIGNOFF_BYTES = 64 * 1024
export const MAX_SIGNOFF_FILES = 50_000

export interface LedgerSignoff {
  readonly signoff: Signoff
  /** path relative to the ledger folder: `signoffs/<intent>/<AC-n>/<key>.json` */
  readonly rel: string
}

export interface LedgerRead {
  readonly entries: LedgerSignoff[]
  /** files that could not be read or do not hold the sign-off their name says (never silently dropped) */
  readonly problems: Array<{ file: string; error: string }>
}

/** Read the sign-offs of one ledger folder (this project's `.alloy/evidence/`, or a pulled copy). `shown` names it in problems. */
export function readSignoffDir(ledgerDir: string, shown: string): LedgerRead {
  const entries: LedgerSignoff[] = []
  const problems: LedgerRead["problems"] = []
  // folders at the first two levels, files at the third; anything else is reported, never skipped in silence
  const list = (dir: string, rel: string, want: "dir" | "file"): string[] => {
    let ents
    try {
      ents = readdirSync(dir, { withFileTypes: true })
    } catch {
      return []
    }
    const out: string[] = []
    for (const e of ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith(".") || e.name.endsWith(".tmp")) continue
      if (want === "dir" ? e.isDirectory() : e.isFile()) out.push(e.name)
      else problems.push({ file: `${shown}/${rel}/${e.name}`, error: `not a sign-off file (signoffs/<intent>/<AC-n>/<32 hex>.json); it is not read` })
    }
    return out
  }
  const base = path.join(ledgerDir, SIGNOFFS_SUBDIR)
  let n = 0
  for (const intent of list(base, SIGNOFFS_SUBDIR, "dir")) {
    for (const ac of list(path.join(base, intent), `${SIGNOFFS_SUBDIR}/${intent}`, "dir")) {
      for (const name of list(path.join(base, intent, ac), `${SIGNOFFS_SUBDIR}/${intent}/${ac}`, "file")) {
        const rel = `${SIGNOFFS_SUBDIR}/${intent}/${ac}/${name}`
        const file = `${shown}/${rel}`
        if (++n > MAX_SIGNOFF_FILES) {
          problems.push({ file: `${shown}/${SIGNOFFS_SUBDIR}`, error: `more than ${MAX_SIGNOFF_FILES} sign-off files; the rest were not read` })
          return { entries, problems }
        }
        if (!isSignoffPath(rel)) {
          problems.push({ file, error: "not a sign-off file name (signoffs/<intent>/<AC-n>/<32 hex>.json)" })
          continue
        }
        const r = readRegularFile(path.join(base, intent, ac, name), MAX_SIGNOFF_BYTES)
        if (r.kind !== "ok") {
          problems.push({ file, error: r.kind === "too_large" ? `over ${MAX_SIGNOFF_BYTES} bytes` : "not a readable regular file" })
          continue
        }
        let parsed: ReturnType<typeof SignoffSchema.safeParse>
        try {
          parsed = SignoffSchema.safeParse(JSON.parse(r.bytes.toString("utf8")))
        } catch {
          problems.push({ file, error: "not JSON" })
          continue
        }
        if (!parsed.success) {
          problems.push({ file, error: `not an alloy.signoff/v1 record (${parsed.error.issues.map((i) => `${i.path.join(".") || "$"}: ${i.message}`).join("; ")})` })
          continue
        }
        // the name is the identity of the content: a file edited after the fact (or copied under another name) does not count
        if (signoffPath(parsed.data) !== rel) {
          problems.push({ file, error: "its content is not the sign-off its name identifies (edited after it was written?); it is not counted" })
          continue
        }
        entries.push({ signoff: parsed.data, rel })
      }
    }
  }
  return { entries, problems }
}

/**
 * Write sign-offs into this project's ledger, create-once. Returns the project-relative files that
 * were created (a sign-off already there is left as it is and not returned).
 */
export function writeSignoffs(root: string, signoffs: readonly Signoff[]): { created: string[]; existing: string[] } {
  const created: string[] = []
  const existing: string[] = []
  for (const s of signoffs) {
    const rel = `${LEDGER_DIR}/${signoffPath(s)}`
    const abs = path.join(root, ...rel.split("/"))
    makeDirs(path.dirname(abs))
    if (writeFileOnce(abs, signoffBytes(s), 0o644, rel)) created.push(rel)
    else existing.push(rel)
  }
  return { created, existing }
}

/** Take back ledger files this call created when the commit that should carry them failed (the caller unstages them first). */
export function unwriteSignoffs(root: string, files: readonly string[]): void {
  for (const rel of files) {
    try {
      if (lstatSync(path.join(root, rel)).isFile()) unlinkSync(path.join(root, rel))
    } catch {
      /* already gone */
    }
  }
}
