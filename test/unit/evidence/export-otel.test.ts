/** The OpenTelemetry export: spans, attributes and ids, from the shared report scenario. */
import { describe, expect, test } from "vitest"
import { exportOtel, exportOtelJson } from "../../../src/evidence/export-otel.js"
import { reportScenario } from "../../helpers/evidence.js"

const { model } = reportScenario()

describe("OpenTelemetry export", () => {
  const otel = exportOtel(model()) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, any>> }> }> }
  const spans = otel.resourceSpans[0]!.scopeSpans[0]!.spans
  const attr = (s: Record<string, any>, k: string) => s["attributes"].find((a: { key: string }) => a.key === k)?.value

  test("a root span per session, a child span per stage run, stable ids", () => {
    const roots = spans.filter((s) => !s["parentSpanId"])
    expect(roots).toHaveLength(2)
    expect(roots.every((r) => attr(r, "gen_ai.operation.name").stringValue === "invoke_workflow")).toBe(true)
    const children = spans.filter((s) => s["parentSpanId"])
    expect(children).toHaveLength(3)
    for (const c of children) {
      expect(attr(c, "gen_ai.operation.name").stringValue).toBe("invoke_agent")
      expect(c["traceId"]).toMatch(/^[0-9a-f]{32}$/)
      expect(c["spanId"]).toMatch(/^[0-9a-f]{16}$/)
      expect(roots.some((r) => r["spanId"] === c["parentSpanId"] && r["traceId"] === c["traceId"])).toBe(true)
    }
    expect(exportOtel(model())).toEqual(otel)
    const appraise = children.find((c) => attr(c, "foundry.stage").stringValue === "appraise:draft-release-note")!
    expect(appraise["startTimeUnixNano"]).toBe(String(Date.parse("2026-05-27T10:00:00.000Z") * 1_000_000))
    expect(attr(appraise, "vcs.ref.head.revision").stringValue).toMatch(/^0123456/)
    const finish = children.find((c) => attr(c, "foundry.stage").stringValue === "finish")!
    expect(finish["status"]).toEqual({ code: 2, message: "dry run failed" })
  })

  test("gen_ai.evaluation.result events per gate observation", () => {
    const events = spans.flatMap((s) => (s["events"] ?? []) as Array<Record<string, any>>)
    const evals = events.filter((e) => e["name"] === "gen_ai.evaluation.result")
    const names = evals.map((e) => attr(e, "gen_ai.evaluation.name").stringValue)
    expect(names).toContain("release-note-voice#AC-2/law")
    const ac2 = evals.find((e) => attr(e, "gen_ai.evaluation.name").stringValue === "release-note-voice#AC-2/law")!
    expect(attr(ac2, "gen_ai.evaluation.score.label").stringValue).toBe("fail")
    expect(attr(ac2, "gen_ai.evaluation.score.value")).toEqual({ doubleValue: 0 })
    const ac3 = evals.find((e) => attr(e, "gen_ai.evaluation.name").stringValue === "release-note-voice#AC-3/law")!
    expect(attr(ac3, "alloy.bundle.older").boolValue).toBe(true)
  })

  test("the text export is the request's JSON to the byte, written a span at a time", () => {
    const m = model()
    const pieces = [...exportOtelJson(m)]
    expect(pieces.join("\n")).toBe(JSON.stringify(exportOtel(m), null, 2))
    // a head, one piece per span (the five spans of the scenario), the closing brackets
    expect(pieces).toHaveLength(spans.length + 2)
    // a project's name cannot move the spans: they are cut from the end of the document
    const odd = { ...m, project: 'x\u0000spans\u0000"]}' }
    expect([...exportOtelJson(odd)].join("\n")).toBe(JSON.stringify(exportOtel(odd), null, 2))
    // no records: the same request with no spans
    const empty = { ...m, records: [], observations: [] }
    expect([...exportOtelJson(empty)].join("\n")).toBe(JSON.stringify(exportOtel(empty), null, 2))
    expect(JSON.stringify(exportOtel(empty))).toContain('"spans":[]')
  })
})
