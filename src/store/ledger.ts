/**
 * The committed evidence ledger (docs/ledger.md): `.alloy/evidence/`, committed on the base branch so
 * every clone and CI read the same sign-offs. This module owns its files: where they lie, how they
 * are read (bounded, validated, bound to their name), written (create-once, atomic) and taken back
 * when the commit that should carry them fails, and what git says about the commit that added each
 * one (who committed it, whether its signature verifies).
 *
 *   .alloy/evidence/signoffs/<intent>/<AC-n>/<key>.json    alloy.signoff/v1 (src/core/signoff.ts)
 */
import { lstatSync, readdirSync, unlinkSync } from "node:fs"
import path from "node:path"
import { isSignoffPath, signoffBytes, signoffPath, SignoffSchema, type Signoff } from "../core/signoff.js"
import { tryGit } from "../evidence/git.js"
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

/** Take back ledger files this call created when the commit that should carry them failed (no half-recorded sign-off). */
export function unwriteSignoffs(root: string, files: readonly string[]): void {
  if (!files.length) return
  tryGit(root, ["reset", "-q", "--", ...files])
  for (const rel of files) {
    try {
      if (lstatSync(path.join(root, rel)).isFile()) unlinkSync(path.join(root, rel))
    } catch {
      /* already gone */
    }
  }
}

// ---- what git says about the ledger ----------------------------------------------------------

export type SignatureStatus = "good" | "good-unknown-key" | "bad" | "expired" | "revoked" | "unverifiable" | "unsigned"

export interface LedgerCommit {
  readonly sha: string
  readonly author: { name: string; email: string }
  readonly signature: SignatureStatus
  /** who git says signed (the principal of an SSH key, the user id of a GPG key), when it could verify */
  readonly signed_by?: string
  /** the key's fingerprint, when git could read it */
  readonly key?: string
}

const SIG: Record<string, SignatureStatus> = { G: "good", U: "good-unknown-key", B: "bad", X: "expired", Y: "expired", R: "revoked", E: "unverifiable", N: "unsigned" }

/**
 * The commit that added each sign-off file of this project's ledger (path relative to the ledger
 * folder), with its signature as git verifies it here (`%G?`). A commit that carries a signature git
 * cannot check here (an SSH signature without `gpg.ssh.allowedSignersFile`, a GPG key not in the
 * keyring) is `unverifiable`, not `unsigned`. Empty when this is no git repository.
 */
export function ledgerCommits(root: string, max = 5000): Map<string, LedgerCommit> {
  const out = new Map<string, LedgerCommit>()
  const dir = `${LEDGER_DIR}/${SIGNOFFS_SUBDIR}`
  let buf: Buffer | undefined
  try {
    buf = tryGit(root, ["log", `--max-count=${max}`, "--diff-filter=A", "--no-renames", "--format=%x01%H%x09%G?%x09%an%x09%ae%x09%GS%x09%GK", "--name-only", "--", dir])
  } catch {
    return out
  }
  if (!buf) return out
  let cur: LedgerCommit | undefined
  const unknown = new Set<string>()
  const byFile: Array<[string, LedgerCommit]> = []
  for (const line of buf.toString("utf8").split("\n")) {
    if (line.startsWith("\u0001")) {
      const [sha, g, an, ae, gs, gk] = line.slice(1).split("\t")
      if (!sha || !/^[0-9a-f]{40,64}$/.test(sha)) {
        cur = undefined
        continue
      }
      const signature = SIG[g ?? "N"] ?? "unverifiable"
      cur = { sha, author: { name: an ?? "", email: ae ?? "" }, signature, ...(gs ? { signed_by: gs } : {}), ...(gk ? { key: gk } : {}) }
      if (signature === "unsigned") unknown.add(sha)
    } else if (cur && line.startsWith(`${dir}/`)) byFile.push([line.slice(LEDGER_DIR.length + 1).trim(), cur])
  }
  // `%G?` says N both for an unsigned commit and for one whose signature git has no means to check here
  const signed = signedCommits(root, [...unknown])
  for (const [rel, c] of byFile) if (!out.has(rel)) out.set(rel, signed.has(c.sha) ? { ...c, signature: "unverifiable" } : c)
  return out
}

/** Which of these commits carry a signature header (one `git cat-file --batch`). */
function signedCommits(root: string, shas: readonly string[]): Set<string> {
  const out = new Set<string>()
  if (!shas.length) return out
  const buf = tryGit(root, ["cat-file", "--batch"], `${shas.join("\n")}\n`)
  if (!buf) return out
  let off = 0
  for (const sha of shas) {
    const nl = buf.indexOf(0x0a, off)
    if (nl < 0) break
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(buf.subarray(off, nl).toString("utf8"))
    off = nl + 1
    if (!m) continue
    const size = Number(m[2])
    const head = buf.subarray(off, off + size).toString("utf8").split("\n\n")[0] ?? ""
    if (m[1] === "commit" && /^gpgsig(-sha256)? /m.test(head)) out.add(sha)
    off += size + 1
  }
  return out
}
