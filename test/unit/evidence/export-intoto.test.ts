/** The HTML report (pure, escaped, self-contained) and the OpenTelemetry / in-toto exports. */
import { describe, expect, test } from "vitest"
import { buildEvidenceModel, type EvidenceModel } from "../../../src/evidence/model.js"
import { exportIntoto, STATEMENT_TYPE, VERDICTS_PREDICATE_TYPE } from "../../../src/evidence/export-intoto.js"
import type { Bundle } from "../../../src/core/bundle.js"
import { sha256Hex } from "../../../src/core/digest.js"
import { exampleBundle, fbItem, feedback, record } from "../../helpers/evidence.js"

const cur = exampleBundle()
const old = exampleBundle((t) => t.replace("150 words or fewer", "140 words or fewer"))
const AC2 = "law:alloy--release-note-voice--ac-2"
const EVIL = `<script>alert("x")</script><img src=x onerror=alert(1)>`

const session = "draft-release-note@2026-05-27T10:00:00.000Z"
const RECORDS = [
  record({
    digest: old.digest,
    session: "s-old",
    at: "2026-05-20T10:00:00.000Z",
    feedback: feedback([fbItem("I0", "law:alloy--release-note-voice--ac-3", [["resolved", "2026-05-20T10:00:00.000Z"]])]),
  }),
  record({
    digest: cur.digest,
    session,
    stage: "appraise:draft-release-note",
    started_at: "2026-05-27T10:00:00.000Z",
    at: "2026-05-27T10:05:00.000Z",
    commit: "0123456789abcdef0123456789abcdef01234567",
    summary: EVIL,
    feedback: feedback([fbItem("I1", AC2, [["open", "2026-05-27T10:04:00.000Z"]], { text: EVIL })]),
  }),
  record({
    digest: cur.digest,
    session,
    stage: "finish",
    at: "2026-05-27T10:10:00.000Z",
    outcome: "error",
    error: "dry run failed",
    artefacts: [
      { path: "release-notes/a.md", state: "new", sha256: "d".repeat(64) },
      { path: "gone.md", state: "deleted" },
    ],
  }),
]

function model(): EvidenceModel {
  return buildEvidenceModel({
    project: `acme <shop>`,
    now: "2026-05-28T08:00:00.000Z",
    bundles: new Map<string, Bundle>([
      [cur.digest, cur.bundle],
      [old.digest, old.bundle],
    ]),
    current: new Map([["release-note-voice", cur.digest]]),
    validators: [],
    records: RECORDS,
  })
}

<<<<<<<< HEAD:test/unit/evidence-export.test.ts
describe("HTML report", () => {
  const html = renderReportHtml(model())

  test("one self-contained page: no script, no external URL, no external asset", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true)
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/https?:\/\//i)
    // attribute values are always double-quoted (and `"` inside them escaped): drop them, then look at the tags
    const tags = html.replace(/"[^"]*"/g, '""')
    expect(tags.match(/<[^>]*\s(src|href)=""/gi)?.filter((t) => !t.startsWith("<a ")) ?? []).toEqual([])
    expect([...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]).filter((h) => !h!.startsWith("#"))).toEqual([])
    expect(html).not.toMatch(/<link\b/i)
    expect(html).not.toMatch(/@import|url\(/i)
  })

  test("everything from records and intents is escaped", () => {
    expect(html).not.toContain(EVIL)
    expect(html).toContain(esc(EVIL))
    expect(html).toContain("acme &lt;shop&gt;")
  })

  test("verdicts, older-bundle marker, run anchors and commits are there", () => {
    for (const v of ["failing", "stale", "unproven", "satisfied"]) expect(html).toContain(`data-verdict="${v}"`)
    expect(html).toContain('data-criterion="release-note-voice#AC-2"')
    expect(html).toContain('data-older-bundle="true"')
    const m = model()
    for (const r of m.records) {
      expect(html).toContain(`id="run-${r.run_id}"`)
    }
    expect(html).toContain('title="0123456789abcdef0123456789abcdef01234567">0123456<')
  })

  test("deterministic for the same model", () => {
    expect(renderReportHtml(model())).toBe(html)
  })
})

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
})

========
>>>>>>>> main:test/unit/evidence/export-intoto.test.ts
describe("in-toto export", () => {
  test("one Statement v1 per brief: artefacts as subjects, verdicts as predicate", () => {
    const hashed: string[] = []
    const st = exportIntoto(model(), (p) => {
      hashed.push(p)
      return undefined
    })
    expect(st).toHaveLength(1)
    const s = st[0]!
    expect(s._type).toBe(STATEMENT_TYPE)
    expect(s.predicateType).toBe(VERDICTS_PREDICATE_TYPE)
    expect(s.subject).toEqual([{ name: "release-notes/a.md", digest: { sha256: "d".repeat(64) } }])
    expect(hashed).toEqual([]) // the recorded hash is used; deleted files are not subjects
    const p = s.predicate as { brief: { digest: string }; verdicts: Array<{ intent: string; verdict: string; criteria: Array<{ ref: string; verdict: string; evidence: unknown[] }> }> }
    expect(p.brief.digest).toBe(cur.digest)
    expect(p.verdicts[0]!.verdict).toBe("failing")
    expect(p.verdicts[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-3")!.verdict).toBe("stale")
    expect(p.verdicts[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-2")!.evidence).toHaveLength(1)
  })

  test("bound to the brief: subjects are artefacts, never Foundry's bookkeeping; evidence only from the brief's own bundles", () => {
    const base = model()
    const finish = base.records.find((r) => r.stage === "finish")!
    const withWork = {
      ...finish,
      artefacts: [...finish.artefacts!, { path: "WORK.feedback.yaml", state: "changed" as const, sha256: "e".repeat(64) }, { path: "ATTEST.md", state: "new" as const, sha256: "f".repeat(64) }],
    }
    const c2 = base.intents[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-2")!
    const foreign = { ...c2.evidence[0]!, id: "foreign", provenance: { ...c2.evidence[0]!.provenance, brief_id: "another-brief", digest: `sha256:${"9".repeat(64)}` } }
    const m = {
      ...base,
      records: base.records.map((r) => (r === finish ? withWork : r)),
      intents: base.intents.map((i) => ({ ...i, criteria: i.criteria.map((c) => (c.ref === c2.ref ? { ...c, evidence: [...c.evidence, foreign] } : c)) })),
    }
    const [s] = exportIntoto(m, () => undefined)
    // before: WORK.feedback.yaml and ATTEST.md were subjects, and brief Y's evidence was listed in brief X's statement
    expect(s!.subject.map((x) => x.name)).toEqual(["release-notes/a.md"])
    const p = s!.predicate as { verdicts: Array<{ criteria: Array<{ ref: string; evidence: Array<{ id: string }> }> }> }
    expect(p.verdicts[0]!.criteria.find((c) => c.ref === c2.ref)!.evidence.map((e) => e.id)).not.toContain("foreign")
  })

  test("without artefacts the bundle object is the subject", () => {
    const m = { ...model(), records: model().records.filter((r) => r.stage !== "finish") }
    const [s] = exportIntoto(m, () => undefined)
    const hex = cur.digest.slice("sha256:".length)
    expect(s!.subject).toEqual([{ name: `.alloy/objects/sha256/${hex}.json`, digest: { sha256: hex } }])
    expect(sha256Hex("x")).toMatch(/^[0-9a-f]{64}$/)
  })
})
