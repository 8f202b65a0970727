// Harness for end-to-end tests of the Alloy plugin against the REAL OpenCode runtime
// (the `opencode-ai` npm package), with a scripted mock LLM on 127.0.0.1.
// Adapted from the shared opencode-e2e kit (see its README "Pitfalls").
//
// Every test gets a throw-away sandbox: its own HOME/XDG/TMPDIR and a git-initialised project
// directory (a fresh empty one, or a prepared Alloy project passed in), so nothing on the machine
// is read or written outside os.tmpdir(). Every child process is started by PID, bounded by a
// timeout and killed by that PID.
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { git } from "../helpers/git.js"

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))

/** Root of the opencode-alloy repository (two levels above this file). */
export const REPO_ROOT = path.resolve(here, "..", "..")
/**
 * Root of the package under test (holds dist/ and skills/): the repository itself, unless
 * $ALLOY_E2E_PACKAGE_DIR points at another copy (e.g. an unpacked `npm pack` tarball).
 */
export const PACKAGE_ROOT = process.env.ALLOY_E2E_PACKAGE_DIR ? path.resolve(process.env.ALLOY_E2E_PACKAGE_DIR) : REPO_ROOT
/** The built plugin under test. */
export const ALLOY_DIST = path.join(PACKAGE_ROOT, "dist", "index.js")
export const ALLOY_PLUGIN_URL = pathToFileURL(ALLOY_DIST).href
/** The Foundry stand-in plugin (plain ESM; resolves @opencode-ai/plugin from the repo's node_modules). */
export const FOUNDRY_STANDIN_URL = pathToFileURL(path.join(here, "foundry-standin", "index.mjs")).href
export const FIXTURES_DIR = path.join(here, "foundry-standin", "fixtures")

/** Keep sandboxes for debugging (their paths are printed). */
export const KEEP = process.env.E2E_KEEP === "1"

export type PluginSpec = string | [string, Record<string, unknown>]

// ---------------------------------------------------------------------------------------------
// Binary detection

let cachedBin: string | undefined

/** Path of the real OpenCode binary installed by `opencode-ai` (override: $OPENCODE_BIN). Throws when absent. */
export function opencodeBin(): string {
  if (process.env.OPENCODE_BIN) return process.env.OPENCODE_BIN
  if (cachedBin) return cachedBin
  const pkgDir = path.dirname(require.resolve("opencode-ai/package.json"))
  const bin = path.join(pkgDir, "bin", "opencode.exe") // the postinstall hard-links the platform binary here
  if (!existsSync(bin)) throw new Error(`${bin} does not exist`)
  const head = Buffer.alloc(4)
  const fd = openSync(bin, "r")
  try {
    readSync(fd, head, 0, 4, 0)
  } finally {
    closeSync(fd)
  }
  const isElf = head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46
  if (!isElf) {
    // npm ran with --ignore-scripts (or a policy blocked postinstall): bin/opencode.exe is a stub.
    throw new Error(`${bin} is not the real binary (postinstall did not run); run: node ${path.join(pkgDir, "postinstall.mjs")}`)
  }
  cachedBin = bin
  return bin
}

export interface OpencodeAvailability {
  ok: boolean
  /** why the e2e tests cannot run here (when !ok) */
  reason: string
  version?: string
}

let cachedAvailability: OpencodeAvailability | undefined

/**
 * Whether the real OpenCode binary can run here: the ELF is present and `opencode --version`
 * answers within 20 s. Synchronous, so it can feed `describe.skipIf` at collection time.
 */
export function opencodeAvailability(): OpencodeAvailability {
  if (cachedAvailability) return cachedAvailability
  let bin: string
  try {
    bin = opencodeBin()
  } catch (err) {
    return (cachedAvailability = { ok: false, reason: `OpenCode binary unavailable: ${(err as Error).message}` })
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), "oc-e2e-probe-"))
  try {
    const r = spawnSync(bin, ["--version"], {
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGKILL",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, TMPDIR: scratch, OPENCODE_DISABLE_AUTOUPDATE: "1" },
      cwd: scratch,
    })
    if (r.error) return (cachedAvailability = { ok: false, reason: `\`${bin} --version\` failed: ${r.error.message}` })
    if (r.status !== 0) {
      return (cachedAvailability = {
        ok: false,
        reason: `\`${bin} --version\` exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).slice(0, 500)}`,
      })
    }
    const version = r.stdout.trim()
    return (cachedAvailability = { ok: true, reason: "", version })
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** Version of @opencode-ai/plugin that this OpenCode binary wants in each config dir. */
function pluginSdkVersion(): string {
  return (require("opencode-ai/package.json") as { version: string }).version
}

/**
 * Import a plugin module in a plain Node child process and check OpenCode's rule that every
 * export is a plugin function (kit README pitfall 7). OpenCode 1.18.33 skips a plugin that fails to
 * load without a word (not even at WARN), so this turns that into a readable error. Returns
 * undefined when fine, else the problem.
 */
export function checkPluginModule(fileUrl: string): string | undefined {
  const script = [
    "const m = await import(process.argv[1]);",
    "const bad = Object.entries(m).filter(([, v]) => typeof v !== 'function').map(([k]) => k);",
    "if (bad.length) { console.error('exports that are not plugin functions: ' + bad.join(', ')); process.exit(3) }",
    "if (Object.keys(m).length === 0) { console.error('the module exports nothing'); process.exit(3) }",
  ].join("\n")
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, fileUrl], {
    encoding: "utf8",
    timeout: 20_000,
    killSignal: "SIGKILL",
    cwd: REPO_ROOT,
  })
  if (r.error) return `node could not import ${fileUrl}: ${r.error.message}`
  if (r.status !== 0) return `${fileUrl} does not load as an OpenCode plugin (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout).slice(-2000)}`
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Sandbox

export interface SandboxOptions {
  /** plugin specs for opencode.json: file URLs, or [fileUrl, options] tuples */
  plugins: PluginSpec[]
  /** base URL of the mock LLM ("http://127.0.0.1:<port>/v1") */
  mockUrl?: string
  /** an existing project directory to use (git-initialised here); default: a fresh empty one in the sandbox */
  project?: string
  /** extra opencode.json keys (shallow-merged) */
  config?: Record<string, unknown>
  /** pre-seed ~/.config/opencode and <project>/.opencode so OpenCode skips its npm install (default true) */
  seedConfigDirs?: boolean
}

export interface Sandbox {
  root: string
  home: string
  project: string
  env: Record<string, string>
  /** JSON lines written by the Foundry stand-in */
  standinLog(): Array<Record<string, unknown>>
  cleanup(): void
}

/**
 * OpenCode runs an npm (arborist) install of @opencode-ai/plugin into every config dir
 * (~/.config/opencode and any .opencode/) unless node_modules/ exists AND package-lock.json's root
 * lists every wanted dependency. Plugins loaded by file URL resolve their own deps, so an empty
 * node_modules plus this lock stub is enough: no registry traffic, ~7-10 s saved (or ~70 s of
 * retries when no registry is reachable).
 */
export function seedConfigDir(dir: string): void {
  mkdirSync(path.join(dir, "node_modules"), { recursive: true })
  const lock = path.join(dir, "package-lock.json")
  if (existsSync(lock)) return
  writeFileSync(
    lock,
    JSON.stringify({
      name: "opencode",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { dependencies: { "@opencode-ai/plugin": pluginSdkVersion() } } },
    }),
  )
}

function gitInit(dir: string): void {
  if (existsSync(path.join(dir, ".git"))) return
  git(dir, ["init", "-q"])
}

export function createSandbox(opts: SandboxOptions): Sandbox {
  const root = mkdtempSync(path.join(os.tmpdir(), "oc-e2e-"))
  const home = path.join(root, "home")
  const tmp = path.join(root, "tmp")
  const project = opts.project ?? path.join(root, "project")
  const standinLogFile = path.join(root, "foundry-standin.jsonl")
  const xdg = {
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_DATA_HOME: path.join(home, ".local", "share"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
    XDG_STATE_HOME: path.join(home, ".local", "state"),
  }
  mkdirSync(project, { recursive: true })
  mkdirSync(tmp, { recursive: true })

  if (opts.seedConfigDirs ?? true) {
    seedConfigDir(path.join(xdg.XDG_CONFIG_HOME, "opencode"))
    // A prepared Foundry project carries .opencode/agents/: OpenCode treats it as a config dir too.
    if (existsSync(path.join(project, ".opencode"))) seedConfigDir(path.join(project, ".opencode"))
  }

  // git init stops OpenCode's upward search for opencode.json / .opencode/ at the project dir.
  // Without it the "worktree" is "/" and any .opencode/ or opencode.json in a parent dir is loaded.
  gitInit(project)

  const opencodeJson = {
    $schema: "https://opencode.ai/config.json",
    plugin: opts.plugins,
    autoupdate: false,
    share: "disabled",
    ...(opts.mockUrl
      ? {
          provider: {
            mock: {
              npm: "@ai-sdk/openai-compatible", // bundled inside the OpenCode binary: no install happens
              name: "Mock LLM",
              options: { baseURL: "{env:MOCK_LLM_URL}", apiKey: "mock-key" },
              models: {
                "mock-model": { name: "Mock Model", tool_call: true, limit: { context: 100000, output: 4096 } },
              },
            },
          },
          model: "mock/mock-model",
          small_model: "mock/mock-model", // session-title generation also goes to the mock
          enabled_providers: ["mock"],
        }
      : {}),
    ...opts.config,
  }
  writeFileSync(path.join(project, "opencode.json"), JSON.stringify(opencodeJson, null, 2))

  // Minimal, explicit environment: no API keys or OPENCODE_* settings leak in from the caller.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    SHELL: process.env.SHELL ?? "/bin/bash",
    LANG: process.env.LANG ?? "C.UTF-8",
    // OpenCode's native file finder extracts a 5.5 MB .so into $TMPDIR on every run and never
    // deletes it, so TMPDIR points inside the sandbox. Do NOT set OPENCODE_DISABLE_FFF=1: the
    // fallback then tries to download ripgrep from the internet.
    TMPDIR: tmp,
    HOME: home,
    ...xdg,
    OPENCODE_DISABLE_MODELS_FETCH: "1", // otherwise it GETs https://models.opencode.ai/api.json
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_SHARE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_CLAUDE_CODE: "1", // don't read ~/.claude skills/prompts (HOME is empty anyway)
    GIT_CONFIG_NOSYSTEM: "1",
    FOUNDRY_STANDIN_LOG: standinLogFile,
    ...(opts.mockUrl ? { MOCK_LLM_URL: opts.mockUrl } : {}),
  }
  if (process.env.npm_config_registry) env.npm_config_registry = process.env.npm_config_registry

  return {
    root,
    home,
    project,
    env,
    standinLog() {
      if (!existsSync(standinLogFile)) return []
      return readFileSync(standinLogFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    },
    cleanup() {
      if (KEEP) {
        console.log(`[e2e] kept sandbox ${root} (project ${project})`)
        return
      }
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/** opencode.json plugin list: the Foundry stand-in first (as Foundry would be), then Alloy with its options. */
export function pluginList(alloyOptions: Record<string, unknown> = { hooks: true }): PluginSpec[] {
  return [FOUNDRY_STANDIN_URL, [ALLOY_PLUGIN_URL, alloyOptions]]
}

// ---------------------------------------------------------------------------------------------
// Child processes

const live = new Set<ChildProcess>()

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!isRunning(child)) return
  try {
    child.kill(signal)
  } catch {
    /* already gone */
  }
}

// Last resort: never leave an OpenCode process behind when the test worker exits.
process.once("exit", () => {
  for (const c of live) kill(c, "SIGKILL")
})

function track(child: ChildProcess): ChildProcess {
  live.add(child)
  child.once("exit", () => live.delete(child))
  return child
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  stdout: string
  stderr: string
  ms: number
}

/** Run the opencode CLI once (e.g. ["run", "--format", "json", "..."]) with a hard timeout. */
export function runOpencode(sandbox: Sandbox, args: string[], { timeoutMs = 90_000 } = {}): Promise<RunResult> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = track(spawn(opencodeBin(), args, { cwd: sandbox.project, env: sandbox.env, stdio: ["ignore", "pipe", "pipe"] }))
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()))
    let timedOut = false
    let hardKill: NodeJS.Timeout | undefined
    const timer = setTimeout(() => {
      timedOut = true
      kill(child, "SIGTERM")
      hardKill = setTimeout(() => kill(child, "SIGKILL"), 5_000)
    }, timeoutMs)
    child.on("error", (err) => {
      stderr += `\n[harness] spawn error: ${err.message}`
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      if (hardKill) clearTimeout(hardKill)
      resolve({ code, signal, timedOut, stdout, stderr, ms: Date.now() - started })
    })
  })
}

/** `opencode run --format json` with the mock model: one process, one prompt. */
export function runPrompt(sandbox: Sandbox, prompt: string, opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  // WARN-level logs on stderr: a plugin that fails to load is only logged (kit README pitfall 5).
  return runOpencode(sandbox, ["run", "--print-logs", "--log-level", "WARN", "--format", "json", "--model", "mock/mock-model", prompt], opts)
}

export interface Serve {
  url: string
  pid: number | undefined
  startupMs: number
  logs(): { stdout: string; stderr: string }
  get<T = unknown>(p: string): Promise<T>
  post<T = unknown>(p: string, body: unknown): Promise<T>
  close(): Promise<void>
}

/** Start `opencode serve` on 127.0.0.1 (port chosen by OpenCode) and wait until it answers. */
export async function startServe(sandbox: Sandbox, { timeoutMs = 60_000, extraArgs = [] as string[] } = {}): Promise<Serve> {
  const started = Date.now()
  const args = ["serve", "--print-logs", "--log-level", "WARN", "--hostname", "127.0.0.1", "--port", "0", ...extraArgs]
  const child = track(
    spawn(opencodeBin(), args, {
      cwd: sandbox.project,
      env: sandbox.env,
      stdio: ["ignore", "pipe", "pipe"],
    }),
  )
  let stdout = ""
  let stderr = ""
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()))

  const close = async (): Promise<void> => {
    if (!isRunning(child)) return
    const exited = new Promise((r) => child.once("exit", r))
    kill(child, "SIGTERM")
    const t = setTimeout(() => kill(child, "SIGKILL"), 5_000)
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
    clearTimeout(t)
  }

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill(child, "SIGKILL")
      reject(new Error(`opencode serve did not start in ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once("error", (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`opencode serve exited early (${code})\n${stdout}\n${stderr}`))
    })
  })

  // Bounded readiness poll (≤ ~20 s).
  let ready = false
  for (let i = 0; i < 100 && !ready; i++) {
    try {
      const r = await fetch(`${url}/global/health`, { signal: AbortSignal.timeout(2_000) })
      ready = r.ok
    } catch {
      /* not yet */
    }
    if (!ready) await new Promise((r) => setTimeout(r, 100))
  }
  if (!ready) {
    await close()
    throw new Error(`opencode serve at ${url} never became healthy\n${stdout}\n${stderr}`)
  }

  return {
    url,
    pid: child.pid,
    startupMs: Date.now() - started,
    logs: () => ({ stdout, stderr }),
    async get<T>(p: string): Promise<T> {
      const r = await fetch(url + p, { signal: AbortSignal.timeout(60_000) })
      if (!r.ok) throw new Error(`GET ${p} -> ${r.status} ${await r.text()}`)
      return (await r.json()) as T
    },
    async post<T>(p: string, body: unknown): Promise<T> {
      const r = await fetch(url + p, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(90_000),
      })
      if (!r.ok) throw new Error(`POST ${p} -> ${r.status} ${await r.text()}`)
      return (await r.json()) as T
    },
    close,
  }
}

// ---------------------------------------------------------------------------------------------
// `opencode run --format json` events

export interface RunEvent {
  type: string
  part?: {
    type?: string
    tool?: string
    text?: string
    state?: { status?: string; input?: unknown; output?: string; error?: string }
  }
  [key: string]: unknown
}

/** Parse `opencode run --format json` output (one JSON event per line; other lines ignored). */
export function parseJsonEvents(stdout: string): RunEvent[] {
  const out: RunEvent[] = []
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue
    try {
      out.push(JSON.parse(line) as RunEvent)
    } catch {
      /* not an event line */
    }
  }
  return out
}

/** The tool_use events of one tool, in order. */
export function toolUses(events: RunEvent[], toolName: string): RunEvent[] {
  return events.filter((e) => e.type === "tool_use" && e.part?.tool === toolName)
}

/** A compact, bounded description of a run for assertion messages. */
export function describeRun(res: RunResult): string {
  const tail = (s: string) => (s.length > 4000 ? `…${s.slice(-4000)}` : s)
  return `exit=${res.code} signal=${res.signal} timedOut=${res.timedOut} ms=${res.ms}\n--- stdout ---\n${tail(res.stdout)}\n--- stderr ---\n${tail(res.stderr)}`
}
