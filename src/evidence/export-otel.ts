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
 * Ids are derived from run ids and sessions (sha256), so exporting twice gives the same trace and span ids.
 * Alloy- and Foundry-specific facts use `alloy.*` and `foundry.*` attributes. Pure.
 */
import { sha256Hex } from "../core/digest.js"
import type { RunRecord } from "../core/run-record.js"
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

function nanos(iso: string | undefined): string {
  const t = iso ? Date.parse(iso) : NaN
  return Number.isNaN(t) ? "0" : (BigInt(t) * 1_000_000n).toString()
}

const traceIdOf = (session: string) => sha256Hex(`alloy.trace:${session}`).slice(0, 32)
const spanIdOf = (what: string) => sha256Hex(`alloy.span:${what}`).slice(0, 16)

const SPAN_KIND_INTERNAL = 1
const STATUS_OK = 1
const STATUS_ERROR = 2

function evaluationEvent(o: Observation): Record<string, unknown> {
  return {
    timeUnixNano: nanos(o.at),
    name: "gen_ai.evaluation.result",
    attributes: [
      ...kv("gen_ai.evaluation.name", `${o.criterion}/${o.gate_kind}`),
      ...kv("gen_ai.evaluation.score.label", o.outcome),
      ...(o.outcome === "waived" ? [] : kv("gen_ai.evaluation.score.value", o.outcome === "pass" ? 1 : 0)),
      ...kv("gen_ai.evaluation.explanation", o.reason ? `${o.summary} (${o.reason})` : o.summary),
      ...kv("alloy.criterion", o.criterion),
      ...kv("alloy.evidence.kind", o.kind),
      ...kv("alloy.observation.id", o.id),
      ...kv("alloy.bundle.older", o.older_bundle),
      ...kv("foundry.feedback.id", o.feedback_id),
    ],
  }
}

function stageSpan(r: RunRecord, traceId: string, parent: string, events: Observation[]): Record<string, unknown> {
  const start = r.started_at && Date.parse(r.started_at) <= Date.parse(r.ended_at) ? r.started_at : r.ended_at
  return {
    traceId,
    spanId: spanIdOf(`run:${r.run_id}`),
    parentSpanId: parent,
    name: `invoke_agent ${r.stage}`,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: nanos(start),
    endTimeUnixNano: nanos(r.ended_at),
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
      ...kv("alloy.run.source", r.origin ? `${r.source}:${r.origin.kind}` : r.source),
      ...kv("alloy.brief.id", r.pin?.brief_id),
      ...kv("alloy.bundle.digest", r.pin?.digest),
      ...kv("vcs.ref.head.revision", r.commit ?? r.base_sha),
    ],
    events: events.map(evaluationEvent),
    status: r.outcome === "error" ? { code: STATUS_ERROR, message: r.error ?? "stage failed" } : { code: STATUS_OK },
  }
}

/** The OTLP/JSON `ExportTraceServiceRequest` for every record in the model. */
export function exportOtel(model: EvidenceModel): Record<string, unknown> {
  const byRun = new Map<string, Observation[]>()
  for (const o of model.observations) pushTo(byRun, o.provenance.run_id, o)
  const sessions = new Map<string, RunRecord[]>()
  for (const r of model.records) pushTo(sessions, sessionOfRecord(r), r)
  const spans: Array<Record<string, unknown>> = []
  for (const [session, rs] of [...sessions.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const traceId = traceIdOf(session)
    const rootId = spanIdOf(`session:${session}`)
    const times = rs.flatMap((r) => [r.started_at, r.ended_at]).filter((t): t is string => !!t && !Number.isNaN(Date.parse(t)))
    times.sort((a, b) => Date.parse(a) - Date.parse(b))
    const first = rs[0]!
    spans.push({
      traceId,
      spanId: rootId,
      name: `invoke_workflow ${first.cycle}`,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: nanos(times[0]),
      endTimeUnixNano: nanos(times[times.length - 1]),
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
    })
    for (const r of rs) spans.push(stageSpan(r, traceId, rootId, byRun.get(r.run_id) ?? []))
  }
  return {
    resourceSpans: [
      {
        resource: { attributes: [...kv("service.name", "opencode-alloy"), ...kv("service.version", ALLOY_VERSION), ...kv("alloy.project", model.project)] },
        scopeSpans: [{ scope: { name: "opencode-alloy", version: ALLOY_VERSION }, spans }],
      },
    ],
  }
}
