/**
 * One tree snapshot for "nothing was written" checks: every file, folder and symlink under a folder
 * with a hash of its content, and the differences between two snapshots in words.
 */
import { readdirSync, readFileSync, readlinkSync, statSync, type Dirent } from "node:fs"
import { createHash } from "node:crypto"
import path from "node:path"

const BIG = 1024 * 1024

/** `.git` is skipped unless `skip` says otherwise: git's own bookkeeping is not the project's bytes. */
const skipGit = (rel: string): boolean => rel === ".git" || rel.startsWith(".git/")

/** Every file, folder and symlink under `dir` with a hash of its content (symlinks by target). */
export function snapshotTree(dir: string, skip: (rel: string) => boolean = skipGit): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (abs: string, rel: string) => {
    for (const e of entries(abs)) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (skip(r)) continue
      const a = path.join(abs, e.name)
      if (e.isSymbolicLink()) out.set(r, `link:${readlinkSync(a)}`)
      else if (e.isDirectory()) {
        out.set(r, "dir")
        walk(a, r)
      } else if (e.isFile()) {
        // content hash; big files (the 50 MB corpus cases) by identity, size and change time instead
        const st = statSync(a, { bigint: true })
        out.set(r, st.size > BIG ? `big:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : `file:${createHash("sha256").update(readFileSync(a)).digest("hex")}`)
      } else out.set(r, "special")
    }
  }
  walk(dir, "")
  return out
}

/** What changed between two snapshots: `removed x`, `changed x`, `added x`. */
export function diffSnapshots(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = []
  for (const [k, v] of a)
    if (!b.has(k)) out.push(`removed ${k}`)
    else if (b.get(k) !== v) out.push(`changed ${k}`)
  for (const k of b.keys()) if (!a.has(k)) out.push(`added ${k}`)
  return out
}

/** Files under `dir` (`.git` skipped) whose bytes contain any of `needles`: a secret must be in none of them. */
export function filesContaining(dir: string, needles: readonly string[], skip: (rel: string) => boolean = skipGit): string[] {
  const out: string[] = []
  const walk = (abs: string, rel: string) => {
    for (const e of entries(abs)) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (skip(r)) continue
      const a = path.join(abs, e.name)
      if (e.isDirectory()) walk(a, r)
      else if (e.isFile() && statSync(a).size <= BIG) {
        const bytes = readFileSync(a)
        if (needles.some((n) => bytes.includes(n))) out.push(r)
      }
    }
  }
  walk(dir, "")
  return out
}

function entries(abs: string): Dirent[] {
  return readdirSync(abs, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
}
