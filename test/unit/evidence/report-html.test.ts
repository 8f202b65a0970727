/** The HTML report (pure, escaped, self-contained) and the OpenTelemetry / in-toto exports. */
import { describe, expect, test } from "vitest"
import { buildEvidenceModel, type EvidenceModel } from "../../../src/evidence/model.js"
import { renderReportHtml, esc } from "../../../src/evidence/report-html.js"
import type { Bundle } from "../../../src/core/bundle.js"
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
