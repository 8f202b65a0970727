// Shared set-up of the bridge e2e tests: a pinned Alloy project, committed, served by the real
// OpenCode binary with the Foundry stand-in and the scripted model, and `opencode-alloy` run as a
// child process (so Ctrl-C and kill -9 are real). Every child is started by PID and killed by it.
import { spawn, type ChildProcess } from "node:child_process"
import { readdirSync, readFileSync, existsSync, writeFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { ALLOY_PLUGIN_URL, createSandbox, pluginList, startServe, REPO_ROOT, KEEP, type Sandbox, type Serve } from "./harness.js"
import { startMockLlm, type MockLlm, type ScriptStep } from "./mock-llm.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { git } from "../helpers/git.js"

export const CLI = path.join(REPO_ROOT, "dist", "cli", "opencode-alloy.cjs")
export const CYCLE = "draft-release-note"
export const STAGE = "forge:draft-release-note"

/** One forge stage, then Foundry says done: the whole happy path as the stand-in plays it. */
export const HAPPY: ScriptStep[] = [
  { tool: "foundry_orchestrate", args: {} },
  { tool: "foundry_stage_begin", args: { stage: STAGE, cycle: CYCLE, token: "t" } },
  { tool: "foundry_stage_end", args: { summary: "Moved the benefit into the first sentence." } },
  { tool: "foundry_orchestrate", args: { lastResult: { ok: true } } },
]

export interface BridgeEnv {
  proj: PinnedProject
  mock: MockLlm
  sb: Sandbox
  srv: Serve
  cleanup(): Promise<void>
}

export function commitAll(dir: string, message = "project"): void {
  git(dir, ["add", "-A"])
  git(dir, ["commit", "-q", "-m", message])
}

/** The stand-in asks the person a question first (the built-in question tool), then runs the happy path. */
export const QUESTION: ScriptStep[] = [
  {
    tool: "question",
    args: {
      questions: [
        {
          question: "Which tone should the release note take?",
          header: "Tone",
          options: [
            { label: "friendly", description: "warm, second person" },
            { label: "formal", description: "plain, third person" },
          ],
        },
      ],
    },
  },
  ...HAPPY,
]

/** The later Foundry generation's stand-in (foundry_run / foundry_continue, agent foundry-guide). */
export const RUN_ERA_STANDIN_URL = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), "foundry-standin", "run-era.mjs")).href

export async function setupBridge(opts: { script?: ScriptStep[]; scripts?: Record<string, ScriptStep[]>; serve?: boolean; generation?: "orchestrate" | "run" } = {}): Promise<BridgeEnv> {
  const proj = await makePinnedProject()
  const mock = await startMockLlm({ script: opts.script ?? HAPPY, scripts: opts.scripts ?? { question: QUESTION } })
  const sb = createSandbox({
    project: proj.dir,
    plugins: opts.generation === "run" ? [RUN_ERA_STANDIN_URL, [ALLOY_PLUGIN_URL, { hooks: true }]] : pluginList({ hooks: true }),
    mockUrl: mock.url,
    // the stand-in has no agents of its own; Foundry 3.6 registers `foundry`
    // no per-step snapshots of the work tree: they cost seconds per model step on a loaded machine
    config: {
      snapshot: false,
      agent: opts.generation === "run" ? { "foundry-guide": { description: "Foundry guide (stand-in)", mode: "primary" } } : { foundry: { description: "Foundry driver (stand-in)", mode: "primary" } },
    },
  })
  sb.env.OPENCODE_ENABLE_QUESTION_TOOL = "1"
  // OpenCode's installed config-dir deps stay out of git, as in a real project
  writeFileSync(path.join(proj.dir, ".gitignore"), ".opencode/node_modules/\n.opencode/package-lock.json\n")
  commitAll(proj.dir)
  const srv = opts.serve === false ? (undefined as unknown as Serve) : await startServe(sb)
  return {
    proj,
    mock,
    sb,
    srv,
    async cleanup() {
      await srv?.close()
      await mock.close()
      // worktrees live inside the project: removing the sandbox removes them
      sb.cleanup()
      if (!KEEP) proj.cleanup()
    },
  }
}

export interface CliRun {
  child: ChildProcess
  stdout(): string
  stderr(): string
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>
}

const live = new Set<ChildProcess>()
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL")
})

/** `node dist/cli/opencode-alloy.cjs <args>` in the project, bounded by a hard timeout. */
export function cli(env: BridgeEnv, args: string[], opts: { timeoutMs?: number; extraEnv?: Record<string, string>; cwd?: string } = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? env.proj.dir,
    env: { ...env.sb.env, ALLOY_BRIDGE_POLL_MS: "150", ...opts.extraEnv },
    stdio: ["pipe", "pipe", "pipe"],
  })
  live.add(child)
  let out = ""
  let err = ""
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()))
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 170_000)
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      resolve({ code, signal, stdout: out, stderr: err })
    }),
  )
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    async waitFor(re, timeoutMs = 120_000) {
      const until = Date.now() + timeoutMs
      while (!re.test(out + err)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${re}\n--- stdout\n${out}\n--- stderr\n${err}`)
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${re}\n--- stdout\n${out}\n--- stderr\n${err}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
  }
}

/** JSON lines of a `--json` run. */
export function jsonLines(s: string): Array<Record<string, unknown>> {
  return s
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>]
      } catch {
        return []
      }
    })
}

export function ledgerKeys(dir: string): string[] {
  const d = path.join(dir, ".alloy", "runs", "requests")
  return existsSync(d) ? readdirSync(d).filter((n) => !n.startsWith(".")) : []
}

export function readLedger(dir: string, key: string, file: "request" | "status" | "result"): Record<string, unknown> | undefined {
  const f = path.join(dir, ".alloy", "runs", "requests", key, `${file}.json`)
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown>) : undefined
}

/** Sessions the server holds for a directory, with their metadata. */
export async function sessionsIn(srv: Serve, directory: string): Promise<Array<{ id: string; metadata?: Record<string, unknown>; parentID?: string }>> {
  return srv.get(`/session?directory=${encodeURIComponent(directory)}`)
}
