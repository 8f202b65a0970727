/**
 * The app's runs page over a long history: each brief's newest sessions, a line saying how many
 * more there are with a link that shows them all, and any run another page links to shown however
 * old its session (the app's run links name the run they want).
 */
import { describe, expect, test } from "vitest"
import { APP_LINKS, runsBody } from "../../../src/ui/pages.js"
import { TIMELINE_SESSIONS } from "../../../src/evidence/report-html.js"
import { quenchSessions, reportScenario } from "../../helpers/evidence.js"
import { scratch } from "../../helpers/project.js"

const s = scratch()
const { cur, RECORDS, model } = reportScenario()
// 250 sessions of one quench run each, older than the scenario's newest session
const more = quenchSessions(cur.digest, 250)
const sessions = (html: string) => (html.match(/<div class="session/g) ?? []).length

describe("the app's runs page", () => {
  test(`shows each brief's newest ${TIMELINE_SESSIONS} sessions, says how many more, and links to all of them`, () => {
    const p = s.project()
    const { live } = runsBody(p.ctx, model(more))
    expect(sessions(live)).toBe(TIMELINE_SESSIONS)
    expect(live).toContain(`data-omitted-sessions="${252 - TIMELINE_SESSIONS}"`)
    expect(live).toContain('<a href="/runs?all=1">show every session</a>')
    expect(live).not.toContain(`id="run-${more[0]!.run_id}"`)
    // a run's pill jumps to its row on the same page
    expect(live).toContain(`href="#run-${RECORDS[2]!.run_id}"`)
    expect(sessions(runsBody(p.ctx, model(more), { all: true }).live)).toBe(252)
  })

  test("the run another page links to is on the page its link opens, however old", () => {
    const p = s.project()
    const old = more[0]!.run_id
    const link = APP_LINKS.run(old)
    expect(link).toBe(`/runs?run=${old}#run-${old}`)
    const asked = new URL(link, "http://127.0.0.1").searchParams.getAll("run")
    const { live } = runsBody(p.ctx, model(more), { runs: asked })
    expect(live).toContain(`id="run-${old}"`)
    expect(sessions(live)).toBe(TIMELINE_SESSIONS + 1)
  })
})
