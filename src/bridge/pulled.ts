/**
 * Bridge requests and runners that other clones, machines and repositories pushed to a team store,
 * as `pull` left them (service/pulled.ts owns the folders): each keeps its origin (store,
 * repository, machine), as pulled run records and sign-offs do. Read-only: a pulled request is
 * never this project's own to run, abort or answer; its status stayed on the machine that ran it,
 * so only its request file and, once it ended there, its result are known.
 *
 * A runner is shown with the capability manifest its registration names when that manifest is
 * here (stored by this project, or pulled: store/capabilities).
 */
import { readdirSync } from "node:fs"
import path from "node:path"
import type { Capabilities } from "../core/capabilities.js"
import type { z } from "zod"
import { readCapabilities } from "../store/capabilities.js"
import { MAX_RECORD_BYTES } from "../store/outbox.js"
import { readCheckedJson } from "../store/read-file.js"
import { hashedTag, pulledOrigin, pulledStoreDirs, type PulledOrigin } from "../service/pulled.js"
import { describePulled } from "../evidence/observations.js"
import { Ledger } from "./ledger.js"
import { RequestFileSchema, RequestResultSchema, RunnerRegistrationSchema, type RequestResult, type RunnerRegistration } from "./request.js"

export interface PulledRequestView {
  readonly key: string
  readonly brief: string
  readonly flow: string | null
  readonly cycle: string | null
  readonly goal: string
  /** its result's state, or `unfinished` (no result was pushed: it had not ended where it ran) */
  readonly state: RequestResult["state"] | "unfinished"
  readonly created_at: string | null
  readonly result?: RequestResult
  readonly pulled: PulledOrigin
}

export interface PulledRunnerView extends RunnerRegistration {
  readonly pulled: PulledOrigin
  /** the manifest `capability_digest` names, when it is here */
  readonly capabilities?: Capabilities
}

/** A folder name a pull could have written (a request key or a runner id). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const MAX_ENTRIES = 10_000

function list(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith("."))
      .sort()
      .slice(0, MAX_ENTRIES)
  } catch {
    return []
  }
}

/** A pulled JSON file checked against `schema`: its data, or undefined (absent, unreadable, not JSON or not the schema). */
function readJson<S extends z.ZodType>(file: string, schema: S): z.output<S> | undefined {
  const r = readCheckedJson(file, MAX_RECORD_BYTES, schema)
  return r.kind === "ok" ? r.data : undefined
}

/** The manifest a capability digest names, when it is stored here (its bytes checked). */
export function capabilitiesOf(root: string, digest: string): Capabilities | undefined {
  return readCapabilities(root, digest)?.manifest
}

/**
 * Every pulled request and runner, store by store (in name order), newest request first. One per
 * identity: a request or runner this project holds itself is its own, not shown again; the first
 * store that has one wins over later ones.
 */
export function listPulledBridge(root: string): { requests: PulledRequestView[]; runners: PulledRunnerView[] } {
  const stores = pulledStoreDirs(root)
  if (!stores.length) return { requests: [], runners: [] }
  const ledger = new Ledger(root)
  const ownKeys = new Set(ledger.list().map((e) => e.request.key))
  const seenRunners = new Set(ledger.runners().map((r) => r.id))
  const requests: PulledRequestView[] = []
  const runners: PulledRunnerView[] = []
  for (const { store, paths } of stores) {
    for (const key of list(paths.requests)) {
      if (!NAME_RE.test(key) || ownKeys.has(key)) continue
      const req = readJson(path.join(paths.requests, key, "request.json"), RequestFileSchema)
      const res = readJson(path.join(paths.requests, key, "result.json"), RequestResultSchema)
      const file = req?.key === key ? req : undefined
      const result = res?.key === key ? res : undefined
      if (!file && !result) continue
      ownKeys.add(key)
      const spec = file?.spec ?? result!.request
      requests.push({
        key,
        brief: spec.brief_id,
        flow: spec.flow,
        cycle: spec.cycle,
        goal: spec.goal,
        state: result?.state ?? "unfinished",
        created_at: file?.created_at ?? null,
        ...(result ? { result } : {}),
        pulled: pulledOrigin(paths, store, hashedTag("request", `${key}/${file ? "request" : "result"}.json`)),
      })
    }
    for (const n of list(paths.runners)) {
      const id = n.endsWith(".json") ? n.slice(0, -5) : ""
      if (!NAME_RE.test(id) || seenRunners.has(id)) continue
      const runner = readJson(path.join(paths.runners, n), RunnerRegistrationSchema)
      if (runner?.id !== id) continue
      seenRunners.add(id)
      const capabilities = capabilitiesOf(root, runner.capability_digest)
      runners.push({ ...runner, pulled: pulledOrigin(paths, store, hashedTag("runner", id)), ...(capabilities ? { capabilities } : {}) })
    }
  }
  requests.sort((a, b) => ((a.created_at ?? "") < (b.created_at ?? "") ? 1 : (a.created_at ?? "") > (b.created_at ?? "") ? -1 : a.key < b.key ? -1 : 1))
  return { requests, runners }
}

/** How a runner's capability manifest is named in text: its digest, and what it says when it is here. */
export function capabilitiesNote(digest: string, m: Capabilities | undefined): string {
  const short = `${digest.slice(0, 19)}…`
  if (!m) return `capabilities ${short} (manifest not here)`
  return `capabilities ${short} (OpenCode ${m.opencode.version ?? "?"}, Foundry ${m.foundry.version ?? "?"} ${m.foundry.generation}${m.tools.length ? `, ${m.tools.length} Foundry tools` : ""})`
}

/** Pulled requests and runners, one line each, with where they came from (`runs requests`, `runs list`). */
export function pulledBridgeLines(pulled: ReturnType<typeof listPulledBridge>): string[] {
  return [
    ...pulled.requests.map((r) => `${r.key.slice(0, 16)}  ${r.state.padEnd(10)} ${r.brief}${r.flow ? ` flow ${r.flow}` : r.cycle ? ` cycle ${r.cycle}` : ""}  from ${describePulled(r.pulled)}`),
    ...pulled.runners.map(
      (r) => `runner ${r.id} on ${r.host} (OpenCode ${r.opencode_version}; ${r.labels.join(", ")}) from ${describePulled(r.pulled)}; ${capabilitiesNote(r.capability_digest, r.capabilities)}`,
    ),
  ]
}
