/**
 * Trace upload: POST the OTLP `ExportTraceServiceRequest` that `export --format otel` builds to an
 * OTLP/HTTP receiver (an OpenTelemetry Collector, Jaeger, Arize Phoenix, Langfuse, …), the way the
 * OpenTelemetry exporters do:
 *
 * - endpoint: `--endpoint`, else `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is), else
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; a `--endpoint` with no path gets `/v1/traces` too;
 * - protocol: `--protocol`, else `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`,
 *   else `http/protobuf` (the exporters' default); `http/json` needs nothing more, `http/protobuf`
 *   encodes with the official OTLP definitions shipped in `@opentelemetry/otlp-transformer`
 *   (an optional dependency, loaded only then);
 * - headers: `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_TRACES_HEADERS` (`k=v,k2=v2`, URL-encoded values);
 * - timeout per attempt: `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT` (ms, default 10000);
 * - retries: 429, 502, 503, 504 and network errors, with exponential back-off and jitter (honouring
 *   `Retry-After`), at most 5 attempts; any other answer is final.
 */
import { createRequire } from "node:module"
import { AlloyError } from "../core/errors.js"
import type { EvidenceModel } from "../evidence/model.js"

/** The OTLP/HTTP encodings spoken here (gRPC is not); the CLI offers exactly these. */
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number]

export interface UploadConfig {
  readonly url: string
  readonly protocol: OtlpProtocol
  readonly headers: Record<string, string>
  readonly timeoutMs: number
}

export interface UploadResult {
  readonly url: string
  readonly protocol: OtlpProtocol
  readonly status: number
  readonly attempts: number
  readonly bytes: number
  readonly spans: number
}

const RETRYABLE = new Set([429, 502, 503, 504])

function parseHeaders(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of (s ?? "").split(",")) {
    const i = pair.indexOf("=")
    if (i <= 0) continue
    try {
      out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim())
    } catch {
      /* a malformed pair is left out, as the exporters do */
    }
  }
  return out
}

export function uploadConfig(opts: { endpoint?: string | undefined; protocol?: string | undefined }, env: NodeJS.ProcessEnv = process.env): UploadConfig {
  let url: string | undefined
  if (opts.endpoint) {
    const u = safeUrl(opts.endpoint)
    url = u.pathname === "/" || u.pathname === "" ? `${u.origin}/v1/traces` : u.toString()
  } else if (env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) url = safeUrl(env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]).toString()
  else if (env["OTEL_EXPORTER_OTLP_ENDPOINT"]) url = `${safeUrl(env["OTEL_EXPORTER_OTLP_ENDPOINT"]).toString().replace(/\/+$/, "")}/v1/traces`
  if (!url)
    throw new AlloyError("usage", "no OTLP endpoint: give --endpoint <url> or set OTEL_EXPORTER_OTLP_ENDPOINT", {
      fix: "e.g. --endpoint http://127.0.0.1:4318 (an OpenTelemetry Collector's OTLP/HTTP port)",
    })
  const p = opts.protocol ?? env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ?? env["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "http/protobuf"
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(p))
    throw new AlloyError("usage", `OTLP protocol ${JSON.stringify(p.slice(0, 40))} is not supported here`, { fix: "use --protocol http/protobuf or http/json (gRPC is not spoken)" })
  const timeout = Number(env["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] ?? env["OTEL_EXPORTER_OTLP_TIMEOUT"] ?? 10_000)
  return {
    url,
    protocol: p as OtlpProtocol,
    headers: { ...parseHeaders(env["OTEL_EXPORTER_OTLP_HEADERS"]), ...parseHeaders(env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"]) },
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 10_000,
  }
}

function safeUrl(s: string): URL {
  try {
    const u = new URL(s)
    if (u.protocol === "http:" || u.protocol === "https:") return u
  } catch {
    /* below */
  }
  throw new AlloyError("usage", "the OTLP endpoint is not an http(s) URL", { fix: "e.g. --endpoint http://127.0.0.1:4318" })
}

interface ProtoType {
  fromObject(o: unknown): unknown
  encode(m: unknown): { finish(): Uint8Array }
  decode(b: Uint8Array): unknown
  toObject(m: unknown, o?: Record<string, unknown>): Record<string, unknown>
  verify(o: unknown): string | null
}

/** The OTLP trace request type from the definitions `@opentelemetry/otlp-transformer` ships. */
export function otlpTraceRequestType(): ProtoType {
  const require = createRequire(import.meta.url)
  let root: { opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoType } } } } } }
  try {
    root = require("@opentelemetry/otlp-transformer/build/src/generated/root.js") as typeof root
  } catch {
    throw new AlloyError("usage", "OTLP/protobuf needs the package @opentelemetry/otlp-transformer (0.208.0), which is not installed", {
      fix: "npm install @opentelemetry/otlp-transformer@0.208.0, or use --protocol http/json",
    })
  }
  return root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest
}

/** OTLP/JSON spells trace and span ids as hex; the protobuf message holds their bytes. */
export function hexIdsToBytes(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => hexIdsToBytes(x))
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hexIdsToBytes(x, k)]))
  if (typeof v === "string" && (key === "traceId" || key === "spanId" || key === "parentSpanId")) return Buffer.from(v, "hex")
  return v
}

export function encodeTraces(request: Record<string, unknown>, protocol: OtlpProtocol): { body: Uint8Array; contentType: string } {
  if (protocol === "http/json") return { body: Buffer.from(JSON.stringify(request), "utf8"), contentType: "application/json" }
  const T = otlpTraceRequestType()
  const obj = hexIdsToBytes(request)
  const problem = T.verify(T.toObject(T.fromObject(obj)))
  if (problem) throw new AlloyError("malformed", `the trace export is not a valid OTLP request: ${problem}`)
  return { body: T.encode(T.fromObject(obj)).finish(), contentType: "application/x-protobuf" }
}

function countSpans(request: Record<string, unknown>): number {
  let n = 0
  for (const rs of (request["resourceSpans"] as Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> | undefined) ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0
  return n
}

export async function uploadTraces(
  request: Record<string, unknown>,
  config: UploadConfig,
  opts: { maxAttempts?: number; sleep?: (ms: number) => Promise<void>; baseDelayMs?: number } = {},
): Promise<UploadResult> {
  const { body, contentType } = encodeTraces(request, config.protocol)
  const maxAttempts = Math.min(Math.max(opts.maxAttempts ?? 5, 1), 10)
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const base = opts.baseDelayMs ?? 1_000
  let last = ""
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let retryAfter: number | undefined
    try {
      const r = await fetch(config.url, {
        method: "POST",
        headers: { ...config.headers, "content-type": contentType },
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
      })
      const text = await r.text().catch(() => "")
      if (r.ok) return { url: config.url, protocol: config.protocol, status: r.status, attempts: attempt, bytes: body.byteLength, spans: countSpans(request) }
      last = `HTTP ${r.status}${text ? `: ${text.slice(0, 200)}` : ""}`
      if (!RETRYABLE.has(r.status)) break
      const ra = Number(r.headers.get("retry-after"))
      if (Number.isFinite(ra) && ra >= 0) retryAfter = Math.min(ra * 1000, 30_000)
    } catch (e) {
      last =
        (e as Error).name === "TimeoutError"
          ? `no answer within ${config.timeoutMs} ms`
          : `could not connect (${(e as NodeJS.ErrnoException).cause ? String((e as { cause?: { code?: string } }).cause?.code ?? "network error") : "network error"})`
    }
    if (attempt < maxAttempts) await sleep(retryAfter ?? Math.round(base * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)))
  }
  throw new AlloyError("bridge_error", `the OTLP receiver at ${config.url} did not take the traces: ${last}`, {
    fix: "check the endpoint and OTEL_EXPORTER_OTLP_HEADERS (an API key?), then export again (trace and span ids are stable, so a repeat sends the same spans)",
  })
}

/** The OTLP request for some runs only (their stage spans, their sessions' root spans and their observations): what a bridge sends live when a request ends. */
export function runsOnly(model: EvidenceModel, runIds: ReadonlySet<string>): EvidenceModel {
  return { ...model, records: model.records.filter((r) => runIds.has(r.run_id)), observations: model.observations.filter((o) => runIds.has(o.provenance.run_id)) }
}
