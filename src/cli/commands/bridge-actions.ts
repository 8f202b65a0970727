/** run (and run --queue), runs abort|requests|answer, bridge, export --endpoint: what the bridge commands do (loaded when one runs). */
import { AlloyContext } from "../../service/context.js"
import { capabilitiesNote, listPulledBridge, pulledBridgeLines } from "../../bridge/pulled.js"
import type { RequestResult } from "../../bridge/request.js"
import { abortRequest, answerAsk, listRequests, listRunners, queueRequest } from "../../bridge/requests.js"
import { runRequest } from "../../bridge/run.js"
import { runBridge } from "../../bridge/bridge.js"
import { Progress } from "../../bridge/progress.js"
import { uploadConfig, uploadTraces } from "../../bridge/otlp-upload.js"
import { exportOtel } from "../../evidence/export-otel.js"
import { loadEvidence } from "../../evidence/model.js"
import { EXIT_FAIL, EXIT_OK, usageError, type Io } from "../io.js"
import { isTerminal, writeOut } from "../stdio.js"
import { str, type Command, type OptionValues } from "./types.js"
import { assertKnownBrief } from "./known-names.js"

function seconds(v: OptionValues, name: string, fallback: number): number {
  const s = str(v[name]) ?? process.env[`ALLOY_${name.toUpperCase().replace(/-/g, "_")}`]
  if (s === undefined) return fallback
  const n = Number(s)
  if (!Number.isFinite(n) || n <= 0) throw usageError(`--${name} must be a positive number of seconds`)
  return n * 1000
}

function progressFor(io: Io): Progress {
  const tty = !io.json && isTerminal(1)
  return new Progress({ out: io.out, err: io.err, json: io.json, tty, write: writeOut, input: process.stdin })
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

export const cmdRun: Command = async (io, rest, v) => {
  const brief = rest[0]
  if (!brief || rest.length > 1) throw usageError("usage: opencode-alloy run <brief> [--flow <id>] [--goal <text>] [--attach <url>] [--idempotency-key <k>] [--queue]")
  assertKnownBrief(new AlloyContext(io.cwd), brief)
  if (v["queue"] === true) {
    if (str(v["attach"]) !== undefined) throw usageError("--queue leaves the run to a running bridge; give --attach to the bridge instead")
    return cmdQueue(io, brief, v)
  }
  const progress = progressFor(io)
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

export function cmdRequests(io: Io): number {
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  const now = Date.now()
  const requests = listRequests(ctx.root, now).reverse()
  const runners = listRunners(ctx.root, now)
  const pulled = listPulledBridge(ctx.root)
  if (io.json) {
    io.out(JSON.stringify({ ok: true, requests, runners, pulled }, null, 2))
    return EXIT_OK
  }
  if (!requests.length && !pulled.requests.length) io.out("No bridge requests yet. Start one with `opencode-alloy run <brief>` (or queue it with --queue).")
  for (const r of requests) {
    io.out(`${r.key.slice(0, 16)}  ${r.state.padEnd(9)} ${r.brief}${r.flow ? ` flow ${r.flow}` : r.cycle ? ` cycle ${r.cycle}` : ""}${r.session ? ` session ${r.session}` : ""}`)
    for (const a of r.open) io.out(`  waits on ${a.ask} ${a.id}: ${a.questions.map((q) => `${q.header}: ${q.question} [${q.options.map((o) => o.label).join(" | ")}]`).join("; ")}`)
  }
  for (const r of runners) io.out(`runner ${r.id} ${r.state} on ${r.host} (OpenCode ${r.opencode_version}; ${r.labels.join(", ")}); ${capabilitiesNote(r.capability_digest, r.capabilities)}`)
  for (const line of pulledBridgeLines(pulled)) io.out(line)
  return EXIT_OK
}

export async function cmdAbort(io: Io, id: string | undefined): Promise<number> {
  if (!id) throw usageError("usage: opencode-alloy runs abort <key>")
  const r = await abortRequest(io.cwd, id)
  if (r.already) io.out(io.json ? JSON.stringify({ ok: true, key: r.key, state: r.state, already: true }) : `request ${r.key} already ended: ${r.state}`)
  else io.out(io.json ? JSON.stringify({ ok: true, key: r.key, state: "aborting" }) : `request ${r.key}: abort requested`)
  return EXIT_OK
}

/** `runs answer <key> <question-id> <answer>...`: one answer per part of the question; --dismiss rejects it. */
export function cmdAnswer(io: Io, rest: string[], v: OptionValues): number {
  const [id, askId, ...answers] = rest
  if (!id || !askId || (v["dismiss"] === true ? answers.length > 0 : answers.length === 0)) {
    throw usageError("usage: opencode-alloy runs answer <key> <question-id> <answer>... | --dismiss")
  }
  const r = answerAsk(io.cwd, id, askId, v["dismiss"] === true ? null : answers.map((a) => [a]), "terminal")
  io.out(io.json ? JSON.stringify({ ok: true, key: r.key, id: askId, answers: r.answer.answers }) : `request ${r.key}: answered ${r.ask.ask} ${askId}; its bridge sends it at its next poll`)
  return EXIT_OK
}

function cmdQueue(io: Io, brief: string, v: OptionValues): number {
  const r = queueRequest({ root: io.cwd, brief, flow: str(v["flow"]), digest: str(v["digest"]), goal: str(v["goal"]), key: str(v["idempotency-key"]) })
  if (io.json) io.out(JSON.stringify({ ok: true, ...r }))
  else
    io.out(
      r.created
        ? `request ${r.key}: queued; a running \`opencode-alloy bridge\` picks it up (watch it with \`opencode-alloy runs requests\`)`
        : `request ${r.key}: already there (${r.state}); nothing new was queued`,
    )
  return EXIT_OK
}

/** `export --format otel --endpoint <url>` uploads; without an endpoint or protocol the plain export runs. */
export function uploadingExport(plain: Command): Command {
  return async (io, rest, v, cli) => {
    const endpoint = str(v["endpoint"])
    const protocol = str(v["protocol"])
    if (endpoint === undefined && protocol === undefined) return plain(io, rest, v, cli)
    if (str(v["format"]) !== "otel" || rest.length || str(v["out"]) !== undefined) throw usageError("usage: opencode-alloy export --format otel --endpoint <url> [--protocol http/protobuf|http/json]")
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

export const cmdBridge: Command = async (io, rest, v) => {
  if (rest.length) throw usageError("usage: opencode-alloy bridge [--attach <url>] [--otel-endpoint <url>]")
  const progress = progressFor(io)
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
      // live traces: with --otel-endpoint (or --otel-protocol and the OTEL_EXPORTER_OTLP_* variables)
      ...(str(v["otel-endpoint"]) !== undefined || str(v["otel-protocol"]) !== undefined ? { otel: uploadConfig({ endpoint: str(v["otel-endpoint"]), protocol: str(v["otel-protocol"]) }) } : {}),
      log: (l) => (io.json ? io.out(JSON.stringify({ type: "bridge", message: l })) : io.out(l)),
    })
    return EXIT_OK
  } finally {
    progress.close()
    intr.done()
  }
}
