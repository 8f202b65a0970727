/**
 * Build the capability manifest (`alloy.capabilities/v1`) of a project: from its files
 * (`foundry/VERSION`, `.opencode/agents/foundry-*.md`) and, when an OpenCode server is reachable,
 * from the server (`GET /global/health`, `/experimental/tool/ids`, `/experimental/tool`, `/agent`).
 *
 * The one owner of the manifest and its digest: `caps`, the compatibility check, run records
 * (`capabilities`) and the bridge's runner registration (`capability_digest`) all build it here,
 * so one installation has one digest whoever asks. A digest a record names is stored with its
 * manifest (store/capabilities) so the record can be shown with it, here and after a pull.
 */
import { readdirSync } from "node:fs"
import { AlloyError } from "../core/errors.js"
import { encodeCapabilities, toolCapability, type Capabilities, type ToolCapability } from "../core/capabilities.js"
import { classifyGeneration, SHAPES, type Generation } from "../foundry/generations.js"
import type { AlloyContext } from "./context.js"
import { storeCapabilities } from "../store/capabilities.js"

const REQUEST_TIMEOUT_MS = 20_000
const MAX_BODY = 8 * 1024 * 1024

export interface ServerFacts {
  readonly opencodeVersion: string | null
  /** every tool id the server offers, sorted (the manifest keeps Foundry's; the bridge reads the rest for its labels) */
  readonly toolIds: string[]
  readonly tools: ToolCapability[]
  /** raw parameter schemas by tool id (for naming differences; not part of the manifest) */
  readonly schemas: Record<string, unknown>
  readonly agents: string[]
}

export interface BuiltCapabilities {
  readonly manifest: Capabilities
  readonly digest: string
  readonly bytes: Buffer
  readonly schemas: Record<string, unknown>
}

function featuresOf(generation: Generation): string[] {
  return generation === "unknown" ? [] : [...SHAPES[generation].features]
}

function stageKindsOf(generation: Generation): string[] {
  return generation === "unknown" ? [] : [...SHAPES[generation].stageKinds]
}

/** Agents Foundry generated into `.opencode/agents/` (3.6/3.7: one per model). */
function agentFiles(ctx: AlloyContext): string[] {
  try {
    return readdirSync(ctx.project.abs(".opencode/agents"))
      .filter((f) => /^foundry-[a-z0-9][a-z0-9.-]*\.md$/.test(f))
      .map((f) => f.slice(0, -3))
  } catch {
    return []
  }
}

export function buildCapabilities(ctx: AlloyContext, server?: ServerFacts): BuiltCapabilities {
  const version = ctx.project.version() ?? null
  const toolIds = server?.tools.map((t) => t.id)
  const generation = classifyGeneration({ version: version ?? undefined, toolIds })
  const agents = server ? server.agents.filter((a) => a.startsWith("foundry-")) : agentFiles(ctx)
  const { manifest, digest, bytes } = encodeCapabilities({
    $type: "alloy.capabilities/v1",
    source: server ? "server" : "files",
    opencode: { version: server?.opencodeVersion ?? null },
    foundry: { version, generation },
    tools: server ? server.tools.filter((t) => t.id.startsWith("foundry_")) : [],
    agents,
    stage_kinds: stageKindsOf(generation),
    features: featuresOf(generation),
  })
  return { manifest, digest, bytes, schemas: server?.schemas ?? {} }
}

async function getJson(base: URL, p: string, directory?: string): Promise<unknown> {
  const url = new URL(p, base)
  // the server answers for the project in `directory` (its plugins, hence Foundry's tools and agents)
  if (directory !== undefined) url.searchParams.set("directory", directory)
  const ctrl = new AbortController()
  const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS)
  try {
    const res = await fetch(url, { signal: ctrl.signal, headers: { accept: "application/json" } })
    if (!res.ok) throw new AlloyError("io_error", `the OpenCode server answered ${res.status} to GET ${url.pathname}`)
    const text = await res.text()
    if (text.length > MAX_BODY) throw new AlloyError("io_error", `the OpenCode server's answer to GET ${url.pathname} is too large`)
    return JSON.parse(text) as unknown
  } catch (e) {
    if (e instanceof AlloyError) throw e
    throw new AlloyError("io_error", `could not reach the OpenCode server for GET ${url.pathname}: ${(e as Error)?.name === "AbortError" ? "timed out" : ((e as Error)?.message ?? String(e))}`, {
      fix: "start it with `opencode serve` (or pass the URL the TUI prints) and try again; without --server, caps reads the project files only",
    })
  } finally {
    clearTimeout(timer)
  }
}

/** The provider/model pair `/experimental/tool` needs (tool schemas can differ per model). */
async function providerModel(base: URL, directory?: string): Promise<{ provider: string; model: string } | undefined> {
  try {
    const cfg = (await getJson(base, "/config", directory)) as { model?: unknown }
    if (typeof cfg?.model === "string" && cfg.model.includes("/")) {
      const i = cfg.model.indexOf("/")
      return { provider: cfg.model.slice(0, i), model: cfg.model.slice(i + 1) }
    }
  } catch {
    /* fall through */
  }
  return undefined
}

/**
 * Ask a running OpenCode server (loopback or a URL the user gives) what it offers; with `directory`,
 * what it offers in that project (the bridge asks for the project it runs in).
 */
export async function serverFacts(url: string, directory?: string): Promise<ServerFacts> {
  let base: URL
  try {
    base = new URL(url)
  } catch {
    throw new AlloyError("usage", "--server needs a URL such as http://127.0.0.1:4096", { fix: "pass the URL `opencode serve` prints" })
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new AlloyError("usage", "--server needs an http(s) URL", { fix: "pass the URL `opencode serve` prints" })
  const health = (await getJson(base, "/global/health", directory)) as { version?: unknown }
  const ids = (await getJson(base, "/experimental/tool/ids", directory)) as unknown
  const pm = await providerModel(base, directory)
  const listPath = pm ? `/experimental/tool?provider=${encodeURIComponent(pm.provider)}&model=${encodeURIComponent(pm.model)}` : "/experimental/tool"
  let list: unknown = []
  try {
    list = await getJson(base, listPath, directory)
  } catch {
    list = [] // ids are still known; schemas then cannot be compared
  }
  const schemas: Record<string, unknown> = {}
  if (Array.isArray(list)) {
    for (const t of list) {
      const o = t as { id?: unknown; parameters?: unknown }
      if (typeof o?.id === "string") schemas[o.id] = o.parameters ?? {}
    }
  }
  const idList = Array.isArray(ids) ? ids.filter((x): x is string => typeof x === "string") : Object.keys(schemas)
  const tools = idList.filter((id) => id.startsWith("foundry_")).map((id) => toolCapability(id, schemas[id] ?? null))
  const agentList = (await getJson(base, "/agent", directory)) as unknown
  const agents = Array.isArray(agentList) ? agentList.map((a) => (a as { name?: unknown })?.name).filter((n): n is string => typeof n === "string") : []
  return { opencodeVersion: typeof health?.version === "string" ? health.version : null, toolIds: [...idList].sort(), tools, schemas, agents }
}

/**
 * The manifest digest a run record carries: the files-only manifest of the project as it is now
 * (`foundry/VERSION`, protocol generation, agents), cheap enough for every stage end. Never throws:
 * undefined when it cannot be built.
 */
export function projectCapabilitiesDigest(ctx: AlloyContext): string | undefined {
  try {
    return buildCapabilities(ctx).digest
  } catch {
    return undefined
  }
}

/**
 * Store a built manifest under its digest (`.alloy/runs/capabilities/`, create-once) so whatever
 * names the digest can be shown with it. Never throws: a manifest that cannot be stored leaves the
 * digest without its manifest here, which readers say.
 */
export function keepCapabilities(ctx: AlloyContext, built: Pick<BuiltCapabilities, "bytes" | "digest">): void {
  try {
    storeCapabilities(ctx.root, built.bytes, built.digest)
  } catch {
    /* the record still names the digest; the manifest is shown where it is stored */
  }
}

/**
 * `projectCapabilitiesDigest` for a record about to be written: the digest, with its manifest
 * stored beside the records. Never throws.
 */
export function recordedCapabilitiesDigest(ctx: AlloyContext): string | undefined {
  let built: BuiltCapabilities
  try {
    built = buildCapabilities(ctx)
  } catch {
    return undefined
  }
  keepCapabilities(ctx, built)
  return built.digest
}
