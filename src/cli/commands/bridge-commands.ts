/** run, runs abort|requests, bridge (issue: the bridge — start, watch and record Foundry runs). */
import { AlloyError } from "../../core/errors.js"
import type { RequestResult } from "../../bridge/request.js"
import type { Progress } from "../../bridge/progress.js"
import { EXIT_FAIL, EXIT_OK, usageError, type Io } from "../io.js"
import { str, type Command, type Commands, type CommandSpec, type OptionValues } from "./types.js"

/**
 * The bridge's code (and the OpenCode SDK under it), loaded when a bridge command runs: every other
 * command, and `--help`, starts without it.
 */
async function bridgeCode() {
  const [ledger, request, run, bridge, progress, server, otlp, otel, model, context] = await Promise.all([
    import("../../bridge/ledger.js"),
    import("../../bridge/request.js"),
    import("../../bridge/run.js"),
    import("../../bridge/bridge.js"),
    import("../../bridge/progress.js"),
    import("../../bridge/server.js"),
    import("../../bridge/otlp-upload.js"),
    import("../../evidence/export-otel.js"),
    import("../../evidence/model.js"),
    import("../../service/context.js"),
  ])
  return {
    Ledger: ledger.Ledger,
    effectiveState: request.effectiveState,
    runRequest: run.runRequest,
    runBridge: bridge.runBridge,
    Progress: progress.Progress,
    attach: server.attach,
    uploadConfig: otlp.uploadConfig,
    uploadTraces: otlp.uploadTraces,
    exportOtel: otel.exportOtel,
    loadEvidence: model.loadEvidence,
    AlloyContext: context.AlloyContext,
  }
}

function seconds(v: OptionValues, name: string, fallback: number): number {
  const s = str(v[name]) ?? process.env[`ALLOY_${name.toUpperCase().replace(/-/g, "_")}`]
  if (s === undefined) return fallback
  const n = Number(s)
  if (!Number.isFinite(n) || n <= 0) throw usageError(`--${name} must be a positive number of seconds`)
  return n * 1000
}

async function progressFor(io: Io): Promise<Progress> {
  const { Progress } = await bridgeCode()
  const tty = !io.json && process.stdout.isTTY === true
  return new Progress({ out: io.out, err: io.err, json: io.json, tty, write: (s) => process.stdout.write(s), input: process.stdin })
}

function exitFor(r: RequestResult): number {
  return r.state === "succeeded" ? EXIT_OK : EXIT_FAIL
}

/** Ctrl-C aborts the run cleanly (the session is aborted and the result says `aborted`); a second one leaves at once. */
function interruptible(): { signal: AbortSignal; done(): void } {
  const ac = new AbortController()
  let count = 0
  const onInt = () => {
    if (++count > 1) process.exit(130)
    ac.abort()
  }
  process.on("SIGINT", onInt)
  process.on("SIGTERM", onInt)
  const done = () => {
    process.off("SIGINT", onInt)
    process.off("SIGTERM", onInt)
  }
  return { signal: ac.signal, done }
}

const cmdRun: Command = async (io, rest, v) => {
  const brief = rest[0]
  if (!brief || rest.length > 1) throw usageError("usage: opencode-alloy run <brief> [--flow <id>] [--goal <text>] [--attach <url>] [--idempotency-key <k>]")
  const progress = await progressFor(io)
  const { runRequest } = await bridgeCode()
  const intr = interruptible()
  try {
    const result = await runRequest({
      root: io.cwd,
      brief,
      flow: str(v["flow"]),
      digest: str(v["digest"]),
      goal: str(v["goal"]),
      attach: str(v["attach"]),
      key: str(v["idempotency-key"]),
      ui: progress,
      signal: intr.signal,
      leaseMs: seconds(v, "lease-seconds", 30_000),
      timeoutMs: seconds(v, "timeout-seconds", 6 * 3600_000),
      pollMs: Number(process.env["ALLOY_BRIDGE_POLL_MS"] ?? 500) || 500,
    })
    return exitFor(result)
  } finally {
    progress.close()
    intr.done()
  }
}

async function cmdRequests(io: Io): Promise<number> {
  const { Ledger, effectiveState, AlloyContext } = await bridgeCode()
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  const ledger = new Ledger(ctx.root)
  const now = Date.now()
  const requests = ledger.list().map((e) => ({
    key: e.request.key,
    brief: e.request.spec.brief_id,
    flow: e.request.spec.flow,
    cycle: e.request.spec.cycle,
    state: e.result?.state ?? (e.status ? effectiveState(e.status, now) : "accepted"),
    session: e.status?.session_id ?? null,
    worktree: e.status?.worktree ?? null,
    created_at: e.request.created_at,
    ...(e.result ? { result: e.result } : {}),
  }))
  const runners = ledger.runners().map((r) => ({ ...r, state: Date.parse(r.lease_until) < now ? "lost" : "alive" }))
  if (io.json) {
    io.out(JSON.stringify({ ok: true, requests, runners }, null, 2))
    return EXIT_OK
  }
  if (!requests.length) io.out("No bridge requests yet. Start one with `opencode-alloy run <brief>`.")
  for (const r of requests)
    io.out(`${r.key.slice(0, 16)}  ${r.state.padEnd(9)} ${r.brief}${r.flow ? ` flow ${r.flow}` : r.cycle ? ` cycle ${r.cycle}` : ""}${r.session ? ` session ${r.session}` : ""}`)
  for (const r of runners) io.out(`runner ${r.id} ${r.state} on ${r.host} (OpenCode ${r.opencode_version}; ${r.labels.join(", ")})`)
  return EXIT_OK
}

async function cmdAbort(io: Io, id: string | undefined): Promise<number> {
  if (!id) throw usageError("usage: opencode-alloy runs abort <key>")
  const { Ledger, attach, AlloyContext } = await bridgeCode()
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  const ledger = new Ledger(ctx.root)
  const e = ledger.find(id)
  if (!e) throw new AlloyError("usage", `no bridge request ${JSON.stringify(id.slice(0, 64))}`, { fix: "see them with `opencode-alloy runs requests`" })
  const key = e.request.key
  if (e.result) {
    io.out(io.json ? JSON.stringify({ ok: true, key, state: e.result.state, already: true }) : `request ${key} already ended: ${e.result.state}`)
    return EXIT_OK
  }
  ledger.requestAbort(key)
  // the bridge that runs it aborts the session at its next poll; abort it here too when the server is known
  const s = e.status
  if (s?.server && s.session_id && s.directory) {
    try {
      const srv = await attach(s.server)
      await srv.client.session.abort({ sessionID: s.session_id, directory: s.directory })
    } catch {
      /* its bridge will do it */
    }
  }
  io.out(io.json ? JSON.stringify({ ok: true, key, state: "aborting" }) : `request ${key}: abort requested`)
  return EXIT_OK
}

/** `export --format otel --endpoint <url>` uploads; without an endpoint or protocol the plain export runs. */
function uploadingExport(plain: Command): Command {
  return async (io, rest, v, cli) => {
    const endpoint = str(v["endpoint"])
    const protocol = str(v["protocol"])
    if (endpoint === undefined && protocol === undefined) return plain(io, rest, v, cli)
    if (str(v["format"]) !== "otel" || rest.length || str(v["out"]) !== undefined) throw usageError("usage: opencode-alloy export --format otel --endpoint <url> [--protocol http/protobuf|http/json]")
    const { uploadConfig, uploadTraces, exportOtel, loadEvidence, AlloyContext } = await bridgeCode()
    const ctx = new AlloyContext(io.cwd)
    ctx.store.requireInit()
    const config = uploadConfig({ endpoint, protocol })
    const r = await uploadTraces(exportOtel(loadEvidence(ctx)), config)
    io.out(
      io.json
        ? JSON.stringify({ ok: true, ...r }, null, 2)
        : `Uploaded ${r.spans} span(s) to ${r.url} (${r.protocol}, ${r.bytes} bytes, HTTP ${r.status}${r.attempts > 1 ? `, after ${r.attempts} attempts` : ""}).`,
    )
    return EXIT_OK
  }
}

const RUN_OPTIONS = {
  flow: { type: "string", value: "id", description: "the flow to run (default: the flow or cycle that pins the brief)" },
  digest: { type: "string", value: "digest", description: "the build to run (default: the brief's current build); some cycle or flow must pin it" },
  goal: { type: "string", value: "text", description: "the goal for Foundry (default: the intents' goals)" },
  attach: { type: "string", value: "url", description: "use this OpenCode server (default: start `opencode serve` on 127.0.0.1)" },
  "idempotency-key": { type: "string", value: "key", description: "the request's key (default: derived from brief digest, flow, goal and base commit)" },
  "lease-seconds": { type: "string", value: "n", description: "how long a run is held without a heartbeat before it shows as lost (default 30)" },
  "timeout-seconds": { type: "string", value: "n", description: "give up following after this long (default 6 hours); the run goes on" },
} as const

/**
 * The bridge's sub-commands of `runs` and the upload mode of `export`, added to the evidence group's
 * specs of those words (one command word, one help page).
 */
export function withBridge(evidence: Commands): Commands {
  const runs = evidence["runs"]
  const exp = evidence["export"]
  if (!runs || !exp?.run) return evidence
  const abort: CommandSpec = {
    summary: "abort a running bridge request (its session is aborted; the result says aborted)",
    usage: "runs abort <key>",
    examples: ["opencode-alloy runs abort 59b703c3"],
    run: (io, rest) => {
      if (rest.length !== 1) throw usageError("usage: opencode-alloy runs abort <key>")
      return cmdAbort(io, rest[0])
    },
  }
  const requests: CommandSpec = {
    summary: "bridge requests and runners, with their state (a missed lease shows as lost)",
    usage: "runs requests [--json]",
    examples: ["opencode-alloy runs requests --json"],
    run: (io, rest) => {
      if (rest.length) throw usageError("usage: opencode-alloy runs requests")
      return cmdRequests(io)
    },
  }
  return {
    ...evidence,
    runs: { ...runs, subcommands: { ...runs.subcommands, abort, requests } },
    export: {
      ...exp,
      usage: [...(typeof exp.usage === "string" ? [exp.usage] : exp.usage), "export --format otel --endpoint <url> [--protocol http/protobuf|http/json]"],
      options: {
        ...exp.options,
        endpoint: { type: "string", value: "url", description: "upload to this OTLP/HTTP receiver (else OTEL_EXPORTER_OTLP_ENDPOINT); retried with back-off" },
        protocol: { type: "string", value: "http/protobuf|http/json", description: "the OTLP encoding (else OTEL_EXPORTER_OTLP_PROTOCOL; default http/protobuf)" },
      },
      examples: [...(exp.examples ?? []), "opencode-alloy export --format otel --endpoint http://127.0.0.1:4318"],
      run: uploadingExport(exp.run),
    },
  }
}

const cmdBridge: Command = async (io, rest, v) => {
  if (rest.length) throw usageError("usage: opencode-alloy bridge [--attach <url>]")
  const progress = await progressFor(io)
  const { runBridge } = await bridgeCode()
  const intr = interruptible()
  try {
    const maxS = process.env["ALLOY_BRIDGE_MAX_SECONDS"]
    await runBridge({
      root: io.cwd,
      attach: str(v["attach"]),
      ui: progress,
      signal: intr.signal,
      leaseMs: seconds(v, "lease-seconds", 30_000),
      pollMs: Number(process.env["ALLOY_BRIDGE_POLL_MS"] ?? 1000) || 1000,
      ...(maxS ? { maxMs: Number(maxS) * 1000 } : {}),
      log: (l) => (io.json ? io.out(JSON.stringify({ type: "bridge", message: l })) : io.out(l)),
    })
    return EXIT_OK
  } finally {
    progress.close()
    intr.done()
  }
}

export const bridgeCommands: Commands = {
  run: {
    summary: "run a pinned brief through Foundry in its own git worktree and record the result (the same request again attaches or replays)",
    usage: "run <brief> [--flow <id>] [--goal <text>] [--attach <url>] [--idempotency-key <k>] [--json]",
    details:
      "Verifies every pin first (no tokens are spent on unverified context). A TTY shows one live status line; --json prints one event per line. Questions and permission requests are asked on the terminal. Ctrl-C aborts.",
    options: RUN_OPTIONS,
    examples: ['opencode-alloy run release-note-voice --goal "Announce the checkout redesign"', "opencode-alloy run release-note-voice --attach http://127.0.0.1:4096 --json"],
    run: cmdRun,
  },
  bridge: {
    summary: "long-running: register a runner, heartbeat, finish requests whose bridge stopped, run queued ones",
    usage: "bridge [--attach <url>] [--lease-seconds <n>]",
    options: { attach: RUN_OPTIONS.attach, "lease-seconds": RUN_OPTIONS["lease-seconds"] },
    examples: ["opencode-alloy bridge --attach http://127.0.0.1:4096"],
    run: cmdBridge,
  },
}
