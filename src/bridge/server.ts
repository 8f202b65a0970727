/**
 * The OpenCode server the bridge talks to: one given with `--attach <url>`, or one it starts
 * itself (`opencode serve --hostname 127.0.0.1 --port 0`, the binary from $OPENCODE_BIN or PATH)
 * and stops when it is done. Also what that server can do: its version, tools and agents, from
 * which the Foundry generation, the agent to prompt and the runner's labels are derived.
 */
import { spawn, type ChildProcess } from "node:child_process"
import type { OpencodeClient } from "@opencode-ai/sdk/v2/client"
import { AlloyError } from "../core/errors.js"
import { loadSdk } from "./sdk.js"
import type { Generation } from "./request.js"
import { AlloyContext } from "../service/context.js"
import { buildCapabilities, serverFacts, type BuiltCapabilities } from "../service/capabilities.js"

export interface Server {
  readonly url: string
  readonly client: OpencodeClient
  /** a server the bridge started (it stops it in close()) */
  readonly owned: boolean
  close(): Promise<void>
}

export interface Capabilities {
  readonly version: string
  readonly tools: string[]
  readonly agents: string[]
  readonly generation: Generation
  /** the agent that drives Foundry */
  readonly agent: string
  /** the capability manifest's digest: the one `caps --server` gives for the same server and project */
  readonly digest: string
  /** the manifest itself (service/capabilities, its one owner), to store beside the runner registration */
  readonly manifest: BuiltCapabilities
  readonly labels: string[]
}

const START_TIMEOUT_MS = 60_000

/** A client of the OpenCode server at `url` (the SDK loads when the first one is made: ./sdk.ts). */
export async function clientFor(url: string, directory?: string): Promise<OpencodeClient> {
  const { createOpencodeClient } = await loadSdk()
  return createOpencodeClient({ baseUrl: url, ...(directory ? { directory } : {}) })
}

async function healthy(url: string): Promise<{ version: string } | undefined> {
  try {
    const r = await fetch(`${url}/global/health`, { signal: AbortSignal.timeout(3_000) })
    if (!r.ok) return undefined
    const body = (await r.json()) as { healthy?: boolean; version?: string }
    return body.healthy === false ? undefined : { version: body.version ?? "unknown" }
  } catch {
    return undefined
  }
}

export async function attach(url: string): Promise<Server> {
  const clean = url.replace(/\/+$/, "")
  if (!/^https?:\/\/[^\s]+$/.test(clean)) throw new AlloyError("usage", "--attach needs an http(s) URL of an OpenCode server", { fix: "e.g. --attach http://127.0.0.1:4096" })
  if (!(await healthy(clean))) {
    throw new AlloyError("bridge_error", `no OpenCode server answers at ${clean}`, {
      fix: "start one with `opencode serve --hostname 127.0.0.1 --port 4096`, or leave out --attach to let the bridge start its own",
    })
  }
  return { url: clean, client: await clientFor(clean), owned: false, close: async () => {} }
}

/** Start `opencode serve` in `cwd` and wait until it answers. */
export async function startServer(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Server> {
  const bin = env["OPENCODE_BIN"] || "opencode"
  let child: ChildProcess
  try {
    // the bridge answers questions, so the question tool is on for the server it starts
    child = spawn(bin, ["serve", "--hostname", "127.0.0.1", "--port", "0"], { cwd, env: { OPENCODE_ENABLE_QUESTION_TOOL: "1", ...env }, stdio: ["ignore", "pipe", "pipe"], detached: false })
  } catch (e) {
    throw new AlloyError("bridge_error", `could not start OpenCode: ${(e as Error).message}`, { fix: "install OpenCode (npm i -g opencode-ai) or set OPENCODE_BIN" })
  }
  let out = ""
  let err = ""
  child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once("exit", r))
    child.kill("SIGTERM")
    const t = setTimeout(() => child.kill("SIGKILL"), 5_000)
    await Promise.race([exited, new Promise((r) => setTimeout(r, 8_000))])
    clearTimeout(t)
  }
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new AlloyError("bridge_error", `OpenCode did not start within ${START_TIMEOUT_MS / 1000}s`, { fix: "run `opencode serve` yourself and pass --attach <url>" }))
    }, START_TIMEOUT_MS)
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(
        new AlloyError("bridge_error", e.code === "ENOENT" ? "the `opencode` binary is not on PATH" : `could not start OpenCode: ${e.message}`, {
          fix: "install OpenCode (npm i -g opencode-ai) or set OPENCODE_BIN",
        }),
      )
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new AlloyError("bridge_error", `OpenCode exited while starting (${code}): ${err.trim().split("\n").slice(-3).join(" | ")}`))
    })
  })
  for (let i = 0; i < 100; i++) {
    if (await healthy(url)) return { url, client: await clientFor(url), owned: true, close: stop }
    await new Promise((r) => setTimeout(r, 100))
  }
  await stop()
  throw new AlloyError("bridge_error", `OpenCode at ${url} never became healthy`)
}

/**
 * What the server offers in `directory`: the Foundry generation is told by its tools
 * (`foundry_orchestrate`: the 3.6/3.7 orchestrate era; `foundry_run`: the run era); neither is
 * `unsupported_foundry`, and no tokens are spent.
 */
export async function capabilities(url: string, directory: string): Promise<Capabilities> {
  let facts
  try {
    facts = await serverFacts(url, directory)
  } catch (e) {
    throw new AlloyError("bridge_error", `could not read what the OpenCode server at ${url} offers: ${(e as Error).message}`)
  }
  const tools = facts.toolIds
  const agents = [...facts.agents].sort()
  const generation: Generation | undefined = tools.includes("foundry_run") ? "run" : tools.includes("foundry_orchestrate") ? "orchestrate" : undefined
  if (!generation) {
    throw new AlloyError("unsupported_foundry", "the OpenCode server offers neither foundry_orchestrate (Foundry 3.6/3.7) nor foundry_run, so there is no Foundry to run the brief", {
      fix: 'add "@really-knows-ai/foundry" to the plugin list in opencode.json and commit it',
    })
  }
  const wanted = generation === "run" ? ["foundry-guide", "foundry"] : ["foundry"]
  const agent = wanted.find((a) => agents.includes(a))
  if (!agent) {
    throw new AlloyError("unsupported_foundry", `the OpenCode server has no ${wanted.join(" or ")} agent to drive the flow`, {
      fix: "check that the Foundry plugin loads in this project (`opencode debug config`)",
    })
  }
  const version = facts.opencodeVersion ?? "unknown"
  const manifest = buildCapabilities(new AlloyContext(directory), facts)
  const labels = [`opencode:${version}`, `foundry:${generation}`, `agent:${agent}`, ...(tools.some((t) => t.startsWith("alloy_")) ? ["alloy:plugin"] : []), `os:${process.platform}`]
  return { version, tools, agents, generation, agent, digest: manifest.digest, manifest, labels }
}
