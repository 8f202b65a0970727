/**
 * Minimal git for the demo: run `git` in a folder with a fixed identity and no signing, bounded
 * by a timeout. The demo works without git (it skips the branch steps), so nothing here throws
 * for a missing binary.
 */
import { spawnSync } from "node:child_process"

const IDENTITY = ["-c", "user.name=Alloy Demo", "-c", "user.email=demo@example.invalid", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.hooksPath=/dev/null"]

export interface GitResult {
  readonly ok: boolean
  readonly stdout: string
  readonly stderr: string
}

export function git(cwd: string, args: readonly string[], timeoutMs = 20_000): GitResult {
  const r = spawnSync("git", [...IDENTITY, ...args], {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  })
  return { ok: r.status === 0 && !r.error, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error ? String(r.error.message) : "") }
}

/** Is a working `git` on PATH? */
export function hasGit(): boolean {
  const r = spawnSync("git", ["--version"], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] })
  return r.status === 0 && !r.error
}

/** `git init` on branch `main` (works with git versions that lack `init -b`). */
export function gitInit(cwd: string): GitResult {
  const r = git(cwd, ["init", "-q"])
  if (!r.ok) return r
  return git(cwd, ["symbolic-ref", "HEAD", "refs/heads/main"])
}

export function gitCommitAll(cwd: string, message: string): GitResult {
  const add = git(cwd, ["add", "-A"])
  if (!add.ok) return add
  return git(cwd, ["commit", "-q", "--no-verify", "-m", message])
}
