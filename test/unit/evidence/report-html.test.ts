/** The HTML report: pure, escaped and self-contained, from the shared report scenario. */
import { describe, expect, test } from "vitest"
import { renderReportHtml, esc } from "../../../src/evidence/report-html.js"
import { reportScenario } from "../../helpers/evidence.js"

const { EVIL, model } = reportScenario()

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
