/** git for test projects: a fixed identity and dates, no signing, no prompts, no global config. */
import { execFileSync } from "node:child_process"

export const GIT_IDENTITY_ENV = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
} as const

export function git(dir: string, args: readonly string[], date?: string): string {
  return execFileSync("git", ["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", ...args], {
    cwd: dir,
    env: { ...process.env, ...GIT_IDENTITY_ENV, ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}) },
    timeout: 15_000,
    stdio: ["ignore", "pipe", "pipe"],
  }).toString("utf8")
}

/** Make `dir` a repository with everything committed on `main`. */
export function gitInitCommitAll(dir: string, message = "setup"): void {
  git(dir, ["init", "-q"])
  git(dir, ["add", "-A"])
  git(dir, ["commit", "-q", "-m", message])
}
