/**
 * Export run records and evidence as OpenTelemetry traces in the OTLP/JSON encoding (the body of an
 * OTLP/HTTP `POST /v1/traces`), following the GenAI semantic conventions (development status):
 *
 *   one trace per session (one run of one cycle); its root span `invoke_workflow <cycle>`;
 *   one child span per stage run, `invoke_agent <stage>` (`gen_ai.operation.name`, `gen_ai.agent.name`);
 *   one `gen_ai.evaluation.result` span event per observation on the span of the run it came from
 *   (`gen_ai.evaluation.name` = the gate id `<intent>#AC-n/<kind>`, `gen_ai.evaluation.score.label`
 *   pass|fail|waived, `gen_ai.evaluation.score.value` 1|0 (none for waived), `gen_ai.evaluation.explanation`).
 *
 * Ids are derived from the record's identity (its idempotency key) and the session (sha256), so
 * exporting twice, on any machine, gives the same trace and span ids. A stage span starts at the
 * record's `started_at` when one was recorded, else at the end of the session's previous Foundry
 * stage (stages of one cycle run one after another; `alloy.span.start` says which), else it has no
 * duration. An evaluation event lies inside its span: an observation made outside the span's time
 * (a feedback item's own transition time) is placed at the nearest end, its own time kept in
 * `alloy.observed_at`. Scores are doubles (1.0 pass, 0.0 fail). Alloy- and Foundry-specific facts
 * use `alloy.*` and `foundry.*` attributes. Pure.
 */
import { sha256Hex } from "../core/digest.js"
import { compareRecords, type RunRecord } from "../core/run-record.js"
import { ALLOY_VERSION } from "../version.js"
import type { EvidenceModel } from "./model.js"
import { sessionOfRecord, type Observation } from "./observations.js"
import { pushTo } from "../core/maps.js"

type AnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number }
export interface KeyValue {
  key: string
  value: AnyValue
}

function kv(key: string, v: string | number | boolean | undefined): KeyValue[] {
  if (v === undefined || v === "") return []
  if (typeof v === "boolean") return [{ key, value: { boolValue: v } }]
  if (typeof v === "number") return [{ key, value: Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v } }]
  return [{ key, value: { stringValue: v } }]
}

function ms(iso: string | undefined): number | undefined {
  const t = iso ? Date.parse(iso) : NaN
  return Number.isNaN(t) ? undefined : t
}

const nanosOf = (t: number | undefined): string => (t === undefined ? "0" : (BigInt(t) * 1_000_000n).toString())

const traceIdOf = (session: string) => sha256Hex(`alloy.trace:${session}`).slice(0, 32)
const spanIdOf = (what: string) => sha256Hex(`alloy.span:${what}`).slice(0, 16)

const SPAN_KIND_INTERNAL = 1
const STATUS_OK = 1
const STATUS_ERROR = 2

function evaluationEvent(o: Observation, span: { start: number | undefined; end: number | undefined }): Record<string, unknown> {
  const at = ms(o.at)
  // inside the span: an observation timed outside it is placed at the nearest end, its own time kept as an attribute
  let t = at ?? span.end
  if (t !== undefined && span.start !== undefined && t < span.start) t = span.start
  if (t !== undefined && span.end !== undefined && t > span.end) t = span.end
  return {
    timeUnixNano: nanosOf(t),
    name: "gen_ai.evaluation.result",
    attributes: [
      ...kv("gen_ai.evaluation.name", `${o.criterion}/${o.gate_kind}`),
      ...kv("gen_ai.evaluation.score.label", o.outcome),
      // the convention's score is a double: 1.0 / 0.0, never an int (waived has no score)
      ...(o.outcome === "waived" ? [] : [{ key: "gen_ai.evaluation.score.value", value: { doubleValue: o.outcome === "pass" ? 1 : 0 } }]),
      ...kv("gen_ai.evaluation.explanation", o.reason ? `${o.summary} (${o.reason})` : o.summary),
      ...kv("alloy.criterion", o.criterion),
      ...kv("alloy.evidence.kind", o.kind),
      ...kv("alloy.observation.id", o.id),
      ...kv("alloy.bundle.older", o.older_bundle),
      ...kv("foundry.feedback.id", o.feedback_id),
      ...(t !== at ? kv("alloy.observed_at", o.at) : []),
    ],
  }
}

type StartSource = "recorded" | "previous_stage_end" | "unknown"

/** When a stage run started: its recorded start, else the end of the session's previous Foundry stage, else unknown (no duration). */
function startOf(r: RunRecord, prev: RunRecord | undefined): { start: number | undefined; source: StartSource } {
  const end = ms(r.ended_at)
  const rec = ms(r.started_at)
  if (rec !== undefined && (end === undefined || rec <= end)) return { start: rec, source: "recorded" }
  const p = prev && prev.seq !== undefined && r.seq !== undefined ? ms(prev.ended_at) : undefined
  if (p !== undefined && end !== undefined && p <= end) return { start: p, source: "previous_stage_end" }
  return { start: end, source: "unknown" }
}

function stageSpan(
  r: RunRecord,
  traceId: string,
  parent: string,
  events: Observation[],
  prev: RunRecord | undefined,
): Record<string, unknown> & { start: number | undefined; end: number | undefined } {
  const { start, source } = startOf(r, prev)
  const end = ms(r.ended_at)
  return {
    traceId,
    spanId: spanIdOf(`record:${r.idempotency_key}`),
    parentSpanId: parent,
    name: `invoke_agent ${r.stage}`,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: nanosOf(start),
    endTimeUnixNano: nanosOf(end),
    attributes: [
      ...kv("gen_ai.operation.name", "invoke_agent"),
      ...kv("gen_ai.agent.name", r.stage),
      ...kv("gen_ai.conversation.id", sessionOfRecord(r)),
      ...kv("foundry.cycle", r.cycle),
      ...kv("foundry.stage", r.stage),
      ...kv("foundry.flow", r.flow),
      ...kv("foundry.version", r.foundry_version),
      ...kv("foundry.artefact_version", r.artefact_version),
      ...kv("foundry.history.seq", r.seq),
      ...kv("foundry.feedback.total", r.feedback?.total),
      ...kv("alloy.run.id", r.run_id),
      ...kv("alloy.record.key", r.idempotency_key),
      ...kv("alloy.run.source", r.origin ? `${r.source}:${r.origin.kind}` : r.source),
      ...kv("alloy.span.start", source),
      ...kv("alloy.brief.id", r.pin?.brief_id),
      ...kv("alloy.bundle.digest", r.pin?.digest),
      ...kv("alloy.capabilities.digest", r.capabilities),
      ...kv("vcs.ref.head.revision", r.commit ?? r.base_sha),
    ],
    events: events.map((o) => evaluationEvent(o, { start, end })),
    status: r.outcome === "error" ? { code: STATUS_ERROR, message: r.error ?? "stage failed" } : { code: STATUS_OK },
    start,
    end,
  }
}

/** Every span of the export, a session's root span first and then its stages, in the export's order. */
function* exportOtelSpans(model: EvidenceModel): Generator<Record<string, unknown>> {
  const byRun = new Map<string, Observation[]>()
  for (const o of model.observations) pushTo(byRun, o.provenance.record, o)
  const sessions = new Map<string, RunRecord[]>()
  for (const r of model.records) pushTo(sessions, sessionOfRecord(r), r)
  for (const [session, unsorted] of [...sessions.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const rs = [...unsorted].sort(compareRecords)
    const traceId = traceIdOf(session)
    const rootId = spanIdOf(`session:${session}`)
    const children = rs.map((r, i) => stageSpan(r, traceId, rootId, byRun.get(r.idempotency_key) ?? [], rs[i - 1]))
    // the root span covers its children
    const times = children.flatMap((c) => [c.start, c.end]).filter((t): t is number => t !== undefined)
    const first = rs[0]!
    yield {
      traceId,
      spanId: rootId,
      name: `invoke_workflow ${first.cycle}`,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: nanosOf(times.length ? Math.min(...times) : undefined),
      endTimeUnixNano: nanosOf(times.length ? Math.max(...times) : undefined),
      attributes: [
        ...kv("gen_ai.operation.name", "invoke_workflow"),
        ...kv("gen_ai.conversation.id", session),
        ...kv("foundry.cycle", first.cycle),
        ...kv("foundry.flow", first.flow),
        ...kv("alloy.session", session),
        ...kv("alloy.brief.id", first.pin?.brief_id),
        ...kv("alloy.bundle.digest", first.pin?.digest),
      ],
      status: rs.some((r) => r.outcome === "error") ? { code: STATUS_ERROR, message: "a stage of this run failed" } : { code: STATUS_OK },
    }
    for (const { start: _s, end: _e, ...span } of children) yield span
  }
}

/** The request around the spans. */
function request(model: EvidenceModel, spans: unknown[]): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [...kv("service.name", "opencode-alloy"), ...kv("service.version", ALLOY_VERSION), ...kv("alloy.project", model.project)] },
        scopeSpans: [{ scope: { name: "opencode-alloy", version: ALLOY_VERSION }, spans }],
      },
    ],
  }
}

/** The OTLP/JSON `ExportTraceServiceRequest` for every record in the model. */
export function exportOtel(model: EvidenceModel): Record<string, unknown> {
  return request(model, [...exportOtelSpans(model)])
}

/**
 * The same request as text, exactly `JSON.stringify(exportOtel(model), null, 2)`, a span at a
 * time: pieces to join with newlines. 100,000 records made a 514 MB document, and holding it and
 * every span at once took 3.2 GB; this holds one span.
 */
export function* exportOtelJson(model: EvidenceModel): Generator<string> {
  // the request with one marker span, cut around the marker: the spans array is the request's
  // last value, so the marker's last occurrence is the span's place (and what comes after it is
  // only closing brackets)
  const marker = JSON.stringify("\u0000spans\u0000")
  const text = JSON.stringify(request(model, [JSON.parse(marker)]), null, 2)
  const at = text.lastIndexOf(marker)
  const lineStart = text.lastIndexOf("\n", at) + 1
  const indent = text.slice(lineStart, at)
  let held: string | undefined
  for (const span of exportOtelSpans(model)) {
    if (held === undefined) yield text.slice(0, lineStart - 1)
    else yield `${held},`
    // JSON text has no raw newline inside a string, so every newline is the layout's
    held = indent + JSON.stringify(span, null, 2).replace(/\n/g, `\n${indent}`)
  }
  if (held === undefined) {
    yield JSON.stringify(request(model, []), null, 2)
    return
  }
  yield held
  yield text.slice(at + marker.length + 1)
}
