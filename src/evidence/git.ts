/**
 * Git access for evidence: every call has a timeout and an output limit and never prompts. Reads
 * (show, log, for-each-ref, cat-file, rev-parse, worktree list) never change the repository; the one
 * write is `commitPaths`, which commits exactly the files Alloy just wrote (intent lifecycle changes, ledger sign-offs).
 */
import { execFileSync } from "node:child_process"
import { realpathSync } from "node:fs"
import { AlloyError } from "../core/errors.js"
import type { LedgerCommit, SignatureStatus } from "../core/signoff.js"
import { LEDGER_DIR, SIGNOFFS_SUBDIR } from "../store/ledger.js"

export const GIT_TIMEOUT_MS = 15_000
const MAX_OUTPUT = 64 * 1024 * 1024

function env(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" }
}

/** Run git; returns stdout, or undefined when git exits non-zero (a missing ref, not a repository). `onError` hears git's own message then. */
export function tryGit(cwd: string, args: readonly string[], input?: string | Buffer, onError?: (stderr: string) => void): Buffer | undefined {
  try {
    return execFileSync("git", ["-c", "core.quotepath=off", ...args], {
      cwd,
      env: env(),
      timeout: GIT_TIMEOUT_MS,
      maxBuffer: MAX_OUTPUT,
      stdio: ["pipe", "pipe", "pipe"],
      ...(input !== undefined ? { input } : {}),
    })
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number | null; signal?: string | null; stderr?: Buffer | string }
    if (err.code === "ENOENT")
      throw new AlloyError("io_error", "git is not installed or not on PATH; it is needed to import from branches", { fix: "install git, or import a snapshot folder instead" })
    if (err.code === "ETIMEDOUT" || err.signal === "SIGTERM") {
      throw new AlloyError("io_error", `git ${args[0]} took longer than ${GIT_TIMEOUT_MS / 1000}s; nothing was imported from it`)
    }
    if (err.code === "ENOBUFS") throw new AlloyError("io_error", `git ${args[0]} printed more than ${MAX_OUTPUT} bytes; nothing was imported from it`)
    onError?.(String(err.stderr ?? "").trim())
    return undefined
  }
}

export function gitText(cwd: string, args: readonly string[]): string | undefined {
  return tryGit(cwd, args)?.toString("utf8")
}

/** Is `cwd` the top of a git work tree? (A project nested in another repository is not: its branches are not the project's.) */
export function isGitRepo(cwd: string): boolean {
  let top: string | undefined
  try {
    top = gitText(cwd, ["rev-parse", "--show-toplevel"])?.trim()
  } catch {
    return false // git is not installed: there are no branches to look at
  }
  if (!top) return false
  try {
    return realpathSync(top) === realpathSync(cwd)
  } catch {
    return false
  }
}

/** A branch name Alloy will hand to git: no option look-alikes, no revision syntax. */
export function isSafeRefName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._/-]{0,250}$/.test(name) && !name.includes("..") && !name.endsWith(".lock") && !name.endsWith("/")
}

export function resolveCommit(cwd: string, ref: string): string | undefined {
  if (!isSafeRefName(ref) && !/^[0-9a-f]{7,64}$/.test(ref)) return undefined
  return gitText(cwd, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])?.trim() || undefined
}

/**
 * Read many blobs in one process: specs like `<commit>:<path>`. Missing ones map to undefined.
 */
export function catFiles(cwd: string, specs: readonly string[]): Map<string, Buffer | undefined> {
  const out = new Map<string, Buffer | undefined>()
  if (!specs.length) return out
  const buf = tryGit(cwd, ["cat-file", "--batch"], specs.join("\n") + "\n")
  if (!buf) {
    for (const s of specs) out.set(s, undefined)
    return out
  }
  let off = 0
  for (const spec of specs) {
    const nl = buf.indexOf(0x0a, off)
    if (nl < 0) break
    const header = buf.subarray(off, nl).toString("utf8")
    off = nl + 1
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header)
    if (!m) {
      out.set(spec, undefined) // "<spec> missing" or "ambiguous"
      continue
    }
    const size = Number(m[2])
    out.set(spec, m[1] === "blob" ? buf.subarray(off, off + size) : undefined)
    off += size + 1
  }
  return out
}

/**
 * `git log` with `-z` and a `%x01%H` format, each commit with the NUL-separated items git printed
 * after it (`--name-only`: paths; `--raw`: a status line, then its path). One reader for every
 * such listing, so no path is ever split on a newline or left quoted by git.
 */
export function logListing(cwd: string, args: readonly string[]): Array<{ sha: string; items: string[] }> {
  const out: Array<{ sha: string; items: string[] }> = []
  for (const chunk of (gitText(cwd, ["log", "--format=%x01%H", "-z", ...args]) ?? "").split("\x01")) {
    const [sha, ...rest] = chunk.split("\0")
    if (!sha || !/^[0-9a-f]{40,64}$/.test(sha)) continue
    out.push({ sha, items: rest.map((t) => t.replace(/^\n/, "")).filter(Boolean) })
  }
  return out
}

/** The paths git printed, NUL-separated (`-z`). */
export const nulSeparated = (out: string | undefined): string[] => (out ?? "").split("\0").filter(Boolean)

export interface CommitInfo {
  readonly sha: string
  readonly time: number
  readonly subject: string
  /** first parent, when there is one */
  readonly parent?: string
}

/** The newest `max` commits reachable from `tip` (every one with `max` 0), oldest first; only those touching `paths` when given. */
export function logCommits(cwd: string, tip: string, max = 2000, paths: readonly string[] = []): CommitInfo[] {
  const text = gitText(cwd, ["log", ...(max > 0 ? [`--max-count=${max}`] : []), "--format=%H%x09%P%x09%ct%x09%s", tip, "--", ...paths])
  if (!text) return []
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [sha, parents, ct, ...rest] = l.split("\t")
      const parent = parents?.split(" ")[0]
      return { sha: sha!, time: Number(ct) * 1000, subject: rest.join("\t"), ...(parent ? { parent } : {}) }
    })
    .reverse()
}

/** Local branches under the given prefixes (e.g. `work/`, `archive/`). */
export function listBranches(cwd: string, prefixes: readonly string[]): string[] {
  const text = gitText(cwd, ["for-each-ref", "--format=%(refname:short)", ...prefixes.map((p) => `refs/heads/${p}`)])
  return (text ?? "")
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s && isSafeRefName(s))
    .sort()
}

/** Other work trees of the repository (absolute paths), for their `.alloy/runs/` outboxes. */
export function listWorktrees(cwd: string): string[] {
  const text = gitText(cwd, ["worktree", "list", "--porcelain"])
  return (text ?? "")
    .split("\n")
    .filter((l) => l.startsWith("worktree "))
    .map((l) => l.slice("worktree ".length).trim())
}

export interface CommitOptions {
  /** sign the commit with the user's configured git signing (`git commit -S`: GPG, or SSH with `gpg.format ssh`) */
  readonly sign?: boolean
  /** the commit's author, `Name <email>` (default: git's own identity) */
  readonly author?: string
  /** hears git's message when it refuses (a signing key that cannot sign, a hook...) */
  readonly onError?: (message: string) => void
}

/** Commit exactly these paths (and nothing else that is staged); returns the new commit, or undefined when git refused. */
export function commitPaths(cwd: string, paths: readonly string[], message: string, opts: CommitOptions = {}): string | undefined {
  if (tryGit(cwd, ["add", "--", ...paths], undefined, opts.onError) === undefined) return undefined
  const extra = [...(opts.sign ? ["-S"] : []), ...(opts.author ? [`--author=${opts.author}`] : [])]
  if (tryGit(cwd, ["commit", "-q", "--no-verify", ...extra, "-m", message, "--only", "--", ...paths], undefined, opts.onError) === undefined) return undefined
  return gitText(cwd, ["rev-parse", "HEAD"])?.trim()
}

// ---- the evidence ledger's commits (docs/ledger.md) ----------------------------------------

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
    const head =
      buf
        .subarray(off, off + size)
        .toString("utf8")
        .split("\n\n")[0] ?? ""
    if (m[1] === "commit" && /^gpgsig(-sha256)? /m.test(head)) out.add(sha)
    off += size + 1
  }
  return out
}
