/** The HTML report: pure, escaped and self-contained, from the shared report scenario. */
import { describe, expect, test } from "vitest"
import { TIMELINE_SESSIONS, renderReportHtml, esc } from "../../../src/evidence/report-html.js"
import { quenchSessions, reportScenario } from "../../helpers/evidence.js"

const { EVIL, cur, RECORDS, model } = reportScenario()

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

describe("HTML report over a long history", () => {
  // 250 more sessions of one quench run each, newer than the oldest scenario session and older than
  // the newest: with the scenario's two, 252 sessions of the one brief
  const more = quenchSessions(cur.digest, 250)
  const html = renderReportHtml(model(more))
  const sessions = (html.match(/<div class="session/g) ?? []).length
  const omitted = Number(/data-omitted-sessions="(\d+)"/.exec(html)?.[1])

  test(`shows the newest ${TIMELINE_SESSIONS} sessions of a brief and says how many more there are, and where they are listed`, () => {
    expect(sessions).toBeGreaterThanOrEqual(TIMELINE_SESSIONS)
    expect(sessions).toBeLessThan(252)
    expect(sessions + omitted).toBe(252)
    expect(html).toMatch(new RegExp(`${omitted} older sessions \\(${omitted} runs\\) not shown here; every run is listed by <code>opencode-alloy runs list</code>`))
    // the newest session is there, the oldest of the added ones is not (nothing links to it)
    expect(html).toContain(`id="run-${RECORDS[2]!.run_id}"`)
    expect(html).not.toContain(`id="run-${more[0]!.run_id}"`)
  })

  test("every run the page links to is on the page, however old its session", () => {
    const links = [...html.matchAll(/href="#run-([^"]+)"/g)].map((m) => m[1]!)
    const anchors = new Set([...html.matchAll(/id="run-([^"]+)"/g)].map((m) => m[1]!))
    expect(links.length).toBeGreaterThan(0)
    expect(links.filter((id) => !anchors.has(id))).toEqual([])
    // the oldest scenario run is cited as evidence by the intent card: its session stays
    expect(links).toContain(RECORDS[0]!.run_id)
    expect(anchors.has(RECORDS[0]!.run_id)).toBe(true)
  })

  test("a short history is shown whole, with no note", () => {
    expect(renderReportHtml(model())).not.toContain("data-omitted-sessions")
  })
})
