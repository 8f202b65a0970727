/**
 * `opencode-alloy bridge`: the long-running side. It registers a runner (`alloy.runner/v1`: host,
 * OpenCode version, capability digest, project roots, labels derived from what the server offers),
 * appends `heartbeat` events with a lease, and reconciles the ledger: a request whose owner is gone
 * is finished from its tagged session when the session can be found, and marked `lost` when not;
 * a request left `accepted` (queued, e.g. by a UI) is run.
 */
import os from "node:os"
import { ulid } from "ulid"
import { AlloyContext } from "../service/context.js"
import { appendEvent } from "../store/outbox.js"
import { Ledger, pidAlive, type LedgerEntry } from "./ledger.js"
import { REQUEST_TYPE, RUNNER_TYPE, TERMINAL_STATES, effectiveState, type Runner } from "./request.js"
import { attach, capabilities, clientFor, startServer, type Server } from "./server.js"
import { keepCapabilities } from "../service/capabilities.js"
import { driveRequest, type RunUi } from "./run.js"
import { worktreeFor } from "./worktree.js"
import { runsOnly, uploadTraces, type UploadConfig } from "./otlp-upload.js"
import { exportOtel } from "../evidence/export-otel.js"
import { loadEvidence } from "../evidence/model.js"
import { toAlloyError } from "../core/errors.js"

export interface BridgeOptions {
  readonly root: string
  readonly attach?: string | undefined
  readonly ui: RunUi
  readonly signal?: AbortSignal | undefined
  readonly leaseMs?: number
  readonly pollMs?: number
  /** stop after this long (tests, one-shot reconciliation); default: until aborted */
  readonly maxMs?: number
  /** live trace export: each finished request's stage runs are posted to this OTLP/HTTP receiver */
  readonly otel?: UploadConfig | undefined
  readonly log: (line: string) => void
}

/** Does this entry need someone to look after it? (nobody owns it, or its owner is gone or missed its lease) */
export function orphaned(e: LedgerEntry, now: number, hostName = os.hostname()): boolean {
  const s = e.status
  if (e.result || !s || TERMINAL_STATES.has(s.state)) return false
  if (!s.owner) return true
  if (effectiveState(s, now) === "lost") return true
  return s.owner.host === hostName && s.owner.pid !== process.pid && !pidAlive(s.owner.pid)
}

/**
 * Post a finished request's stage runs to the OTLP receiver through the same exporter as
 * `export --format otel` (same trace and span ids, so a later full export repeats them, never
 * doubles them). A receiver that does not take them is logged; the bridge goes on.
 */
async function exportLive(ctx: AlloyContext, records: ReadonlyArray<{ run_id: string }>, config: UploadConfig, key: string, log: (l: string) => void): Promise<void> {
  try {
    const request = exportOtel(runsOnly(loadEvidence(ctx), new Set(records.map((r) => r.run_id))))
    const up = await uploadTraces(request, config)
    log(`request ${key}: ${up.spans} span(s) sent to ${up.url} (${up.protocol}, HTTP ${up.status})`)
  } catch (e) {
    log(`request ${key}: traces not sent: ${toAlloyError(e).message}`)
  }
}

export async function runBridge(opts: BridgeOptions): Promise<{ runner: Runner; finished: string[] }> {
  const ctx = new AlloyContext(opts.root)
  ctx.store.requireInit()
  const ledger = new Ledger(ctx.root)
  const leaseMs = opts.leaseMs ?? 30_000
  const server: Server = opts.attach ? await attach(opts.attach) : await startServer(ctx.root)
  const finished: string[] = []
  try {
    const caps = await capabilities(server.url, ctx.root)
    // the registration names the manifest by digest; keep the manifest so the runner can be shown with it
    keepCapabilities(ctx, caps.manifest)
    const id = ulid()
    let runner: Runner = {
      $type: RUNNER_TYPE,
      id,
      host: os.hostname(),
      pid: process.pid,
      opencode_version: caps.version,
      capability_digest: caps.digest,
      project_roots: [ctx.root],
      labels: caps.labels,
      started_at: new Date().toISOString(),
      lease_until: new Date(Date.now() + leaseMs).toISOString(),
    }
    ledger.writeRunner(runner)
    opts.log(`runner ${id} on ${runner.host}: OpenCode ${caps.version}, labels ${caps.labels.join(", ")}`)
    const started = Date.now()
    const busy = new Set<string>()
    let lastBeat = 0
    for (;;) {
      if (opts.signal?.aborted) break
      if (opts.maxMs !== undefined && Date.now() - started >= opts.maxMs) break
      if (Date.now() - lastBeat >= leaseMs / 3) {
        lastBeat = Date.now()
        runner = { ...runner, lease_until: new Date(Date.now() + leaseMs).toISOString() }
        ledger.writeRunner(runner)
        appendEvent(ctx.root, { kind: "heartbeat", runner: id, lease_until: runner.lease_until })
      }
      for (const e of ledger.list()) {
        const key = e.request.key
        if (busy.has(key) || !orphaned(e, Date.now())) continue
        busy.add(key)
        const s = e.status
        // a queued request is started by whoever takes its start mark first (another bridge, or `run`)
        if (!s?.owner && !s?.session_id && (s?.state ?? "accepted") === "accepted" && !ledger.takeStart(key, { host: os.hostname(), pid: process.pid, runner: id })) {
          // taken by someone else; theirs unless it died before it said so (a dead process here, or
          // no owner a whole lease after the mark)
          const mark = ledger.startMark(key)
          const dead = mark !== undefined && mark.host === os.hostname() && mark.pid !== process.pid && !pidAlive(mark.pid)
          const silent = mark !== undefined && Date.now() - Date.parse(mark.at) > leaseMs
          if (!dead && !silent) {
            busy.delete(key)
            continue
          }
        }
        // a request whose session cannot be found any more is lost: nothing can finish it
        if (s?.session_id || s?.state === "running") {
          const wt = worktreeFor(ctx.root, key, e.request.spec.base_commit)
          const list = await (await clientFor(server.url, wt)).session.list({ directory: wt }).catch(() => undefined)
          const found = (list?.data ?? []).some((x) => x.metadata?.["alloy_request"] === key)
          if (!found) {
            const reason = "its bridge stopped and its session is not on this server"
            ledger.postResult({
              $type: REQUEST_TYPE,
              kind: "result",
              key,
              request: e.request.spec,
              state: "lost",
              sessions: s.session_id ? [s.session_id] : [],
              terminal_action: null,
              stage_records: [],
              tokens: { input: 0, output: 0, reasoning: 0, cache_read: 0, cache_write: 0 },
              cost: 0,
              ended_at: new Date().toISOString(),
              reason,
            })
            ledger.setStatus({ $type: REQUEST_TYPE, key, state: "lost", updated_at: new Date().toISOString(), reason })
            appendEvent(ctx.root, { kind: "request_state", request: key, state: "lost", runner: id })
            opts.log(`request ${key}: lost`)
            continue
          }
        }
        opts.log(`request ${key}: ${s?.state === "accepted" && !s.owner ? "starting" : "finishing after its bridge stopped"}`)
        void driveRequest(ctx, ledger, e, { attach: server.url, ui: opts.ui, leaseMs, runner: id, ...(opts.pollMs ? { pollMs: opts.pollMs } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })
          .then(async (r) => {
            finished.push(key)
            opts.log(`request ${key}: ${r.state}`)
            if (opts.otel && r.stage_records.length) await exportLive(ctx, r.stage_records, opts.otel, key, opts.log)
          })
          .catch((err: Error) => opts.log(`request ${key}: ${err.message}`))
          .finally(() => busy.delete(key))
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1_000))
    }
    // wait (bounded) for requests in hand
    for (let i = 0; i < 600 && busy.size; i++) await new Promise((r) => setTimeout(r, 100))
    return { runner, finished }
  } finally {
    await server.close()
  }
}
