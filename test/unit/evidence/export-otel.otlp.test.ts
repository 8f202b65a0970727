// The OTel export's details, checked on what the official OTLP definitions decode: real stage
// durations where the records have them, evaluation events inside their span, the score as a
// double, and span ids that follow from the record's identity (not its run id or the export's time).
import { describe, expect, test } from "vitest"
import type { Bundle } from "../../../src/core/bundle.js"
import { buildEvidenceModel } from "../../../src/evidence/model.js"
import { exportOtel } from "../../../src/evidence/export-otel.js"
import { hexIdsToBytes, otlpTraceRequestType } from "../../../src/bridge/otlp-upload.js"
import { exampleBundle, fbItem, feedback, record } from "../../helpers/evidence.js"

const { bundle, digest } = exampleBundle()
const SESSION = "draft-release-note@2026-05-27T09:00:00.000Z"
const LAW2 = "law:alloy--release-note-voice--ac-2"

function model(records = recordsOf()) {
  return buildEvidenceModel({
    project: "acme",
    now: "2026-05-28T00:00:00.000Z",
    records,
    bundles: new Map<string, Bundle>([[digest, bundle]]),
    current: new Map([["release-note-voice", digest]]),
    validators: [],
  })
}

function recordsOf() {
  return [
    // a forge with a recorded start: 10 minutes long
    record({ digest, stage: "forge:draft-release-note", started_at: "2026-05-27T09:00:00.000Z", at: "2026-05-27T09:10:00.000Z", seq: 1, idempotency_key: "a".repeat(64) }),
    // an appraisal without a start (it ran inside foundry_orchestrate): it started when the forge ended;
    // its item was raised before the appraisal's span and resolved after it
    record({
      digest,
      stage: "appraise:draft-release-note",
      at: "2026-05-27T09:15:00.000Z",
      seq: 2,
      idempotency_key: "b".repeat(64),
      feedback: feedback([
        fbItem("i-1", LAW2, [
          ["open", "2026-05-27T08:00:00.000Z"],
          ["resolved", "2026-05-27T11:00:00.000Z"],
        ]),
        fbItem("i-2", "law:alloy--release-note-voice--ac-3", [["open", "2026-05-27T09:12:00.000Z"]]),
      ]),
    }),
  ]
}

/** Through the official message type, as a receiver would decode an OTLP/JSON body. */
function decoded(m = model()): Array<Record<string, any>> {
  const T = otlpTraceRequestType()
  const body = JSON.parse(JSON.stringify(exportOtel(m)))
  const msg = T.toObject(T.fromObject(hexIdsToBytes(body)), { longs: String, bytes: String, defaults: false })
  return (msg["resourceSpans"] as any[]).flatMap((rs) => rs.scopeSpans.flatMap((ss: any) => ss.spans))
}

const attr = (s: Record<string, any>, k: string) => (s["attributes"] as any[]).find((a) => a.key === k)?.value
const stage = (spans: Array<Record<string, any>>, name: string) => spans.find((s) => s["name"] === `invoke_agent ${name}`)!
const ns = (iso: string) => String(BigInt(Date.parse(iso)) * 1_000_000n)

describe("OTel export, decoded with the official OTLP definitions", () => {
  test("stage spans have real durations: the recorded start, else the end of the session's previous stage", () => {
    const spans = decoded()
    const forge = stage(spans, "forge:draft-release-note")
    expect([forge["startTimeUnixNano"], forge["endTimeUnixNano"]]).toEqual([ns("2026-05-27T09:00:00.000Z"), ns("2026-05-27T09:10:00.000Z")])
    expect(attr(forge, "alloy.span.start").stringValue).toBe("recorded")
    const appraise = stage(spans, "appraise:draft-release-note")
    expect([appraise["startTimeUnixNano"], appraise["endTimeUnixNano"]]).toEqual([ns("2026-05-27T09:10:00.000Z"), ns("2026-05-27T09:15:00.000Z")])
    expect(attr(appraise, "alloy.span.start").stringValue).toBe("previous_stage_end")
    const root = spans.find((s) => !s["parentSpanId"])!
    expect([root["startTimeUnixNano"], root["endTimeUnixNano"]]).toEqual([ns("2026-05-27T09:00:00.000Z"), ns("2026-05-27T09:15:00.000Z")])
  })

  test("every event lies inside its span; an observation timed outside keeps its own time as alloy.observed_at", () => {
    const spans = decoded()
    let events = 0
    for (const s of spans) {
      for (const e of (s["events"] ?? []) as Array<Record<string, any>>) {
        events++
        expect(BigInt(e["timeUnixNano"])).toBeGreaterThanOrEqual(BigInt(s["startTimeUnixNano"]))
        expect(BigInt(e["timeUnixNano"])).toBeLessThanOrEqual(BigInt(s["endTimeUnixNano"]))
      }
    }
    expect(events).toBeGreaterThanOrEqual(2)
    const ev = (stage(spans, "appraise:draft-release-note")["events"] as Array<Record<string, any>>).find((e) => attr(e, "gen_ai.evaluation.name").stringValue === "release-note-voice#AC-2/law")!
    expect(ev["timeUnixNano"]).toBe(ns("2026-05-27T09:15:00.000Z"))
    expect(attr(ev, "alloy.observed_at").stringValue).toBe("2026-05-27T11:00:00.000Z")
    const inside = (stage(spans, "appraise:draft-release-note")["events"] as Array<Record<string, any>>).find((e) => attr(e, "gen_ai.evaluation.name").stringValue === "release-note-voice#AC-3/law")!
    expect(inside["timeUnixNano"]).toBe(ns("2026-05-27T09:12:00.000Z"))
    expect(attr(inside, "alloy.observed_at")).toBeUndefined()
  })

  test("gen_ai.evaluation.score.value is a double (1.0 pass, 0.0 fail)", () => {
    const evs = decoded().flatMap((s) => (s["events"] ?? []) as Array<Record<string, any>>)
    const scores = evs.map((e) => [attr(e, "gen_ai.evaluation.score.label").stringValue, attr(e, "gen_ai.evaluation.score.value")])
    expect(scores).toContainEqual(["pass", { doubleValue: 1 }])
    expect(scores).toContainEqual(["fail", { doubleValue: 0 }])
    for (const [, v] of scores) if (v) expect(Object.keys(v)).toEqual(["doubleValue"])
  })

  test("ids follow from the record's identity: the same records with other run ids, read in another order, give the same ids", () => {
    const a = decoded()
    const other = recordsOf()
      .reverse()
      .map((r, i) => ({ ...r, run_id: `01JZ${String(i).padStart(22, "9")}` }))
    const b = decoded(model(other))
    const ids = (spans: Array<Record<string, any>>) => spans.map((s) => [s["name"], s["traceId"], s["spanId"], s["parentSpanId"] ?? null]).sort()
    expect(ids(b)).toEqual(ids(a))
    expect(new Set(a.map((s) => s["spanId"])).size).toBe(a.length)
    expect(new Set(a.map((s) => s["traceId"]))).toEqual(new Set([a[0]!["traceId"]]))
    expect(attr(stage(a, "forge:draft-release-note"), "gen_ai.conversation.id").stringValue).toBe(SESSION)
  })
})
