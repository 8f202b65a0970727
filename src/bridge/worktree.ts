/**
 * One `git worktree` per request, so concurrent runs never share Foundry's WORK files or
 * `.foundry/` state: `.alloy/runs/worktrees/<key>` (inside the git-ignored outbox), detached at
 * the request's base commit. Making it twice for the same key reuses it.
 */
import { execFileSync } from "node:child_process"
import { cpSync, existsSync, symlinkSync } from "node:fs"
import path from "node:path"
import { AlloyError } from "../core/errors.js"
import { makeDirs } from "../store/atomic.js"

function git(cwd: string, args: string[]): string {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } }).trim()
  } catch (e) {
    const err = e as { stderr?: string; code?: string }
    if (err.code === "ENOENT") throw new AlloyError("bridge_error", "git is not installed or not on PATH", { fix: "install git" })
    throw new AlloyError(
      "bridge_error",
      `git ${args[0]} failed: ${String(err.stderr ?? "")
        .trim()
        .split("\n")
        .slice(-2)
        .join(" ")
        .replace(/\/[^\s'"]+/g, "<path>")}`,
    )
  }
}

/** The commit the run starts from: HEAD of the checkout. */
export function headCommit(root: string): string {
  try {
    return git(root, ["rev-parse", "--verify", "HEAD^{commit}"])
  } catch {
    throw new AlloyError("bridge_error", "the project has no commit yet, so there is nothing to run a flow on", { fix: "commit the project (with its .alloy/ and foundry/ files) first" })
  }
}

/** Files the checkout has that git does not carry but OpenCode needs, linked so it does not reinstall per run. */
const CARRIED = [".opencode/node_modules", ".opencode/package-lock.json", ".opencode/package.json", ".opencode/bun.lock"]

export function worktreeFor(root: string, key: string, base: string): string {
  const dir = path.join(root, ".alloy", "runs", "worktrees", key)
  if (!existsSync(path.join(dir, ".git"))) {
    makeDirs(path.dirname(dir))
    git(root, ["worktree", "add", "--detach", "--force", dir, base])
  }
  for (const rel of CARRIED) {
    const from = path.join(root, rel)
    const to = path.join(dir, rel)
    if (!existsSync(from) || existsSync(to)) continue
    makeDirs(path.dirname(to))
    if (rel.endsWith("node_modules")) symlinkSync(from, to, "dir")
    else cpSync(from, to)
  }
  return dir
}
