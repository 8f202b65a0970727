// The learning loop's findings in the HTML report (`report --html`), in a real browser: Debian's
// Chromium (/usr/bin/chromium), headless, driven by playwright-core, every non-file request blocked.
// The report is written by the CLI from a pinned project whose runs gave findings; one wont-fix reason
// carries markup, which must show as text and never run.
//
// Run: npx vitest run test/e2e/report-insights-chromium.test.ts
// Skipped, with a message, when /usr/bin/chromium is missing; ALLOY_E2E_REQUIRE=1 fails instead.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import type { BrowserContext, Page } from "playwright-core"
import { CHROMIUM, HAVE_CHROMIUM, REQUIRE_BROWSER, guardedPage, launchChromium } from "../helpers/browser.js"
import { RUN_RECORD_TYPE, type RunRecord } from "../../src/core/run-record.js"
import { runCli } from "../helpers/cli.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { skipNote } from "../helpers/skip.js"

/** markup in an authored reason: it must reach the page as text */
const HOSTILE = `AC-2 first <img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script> & "quotes"`

if (!HAVE_CHROMIUM && !REQUIRE_BROWSER) console.warn(`report-insights-chromium: skipped — ${CHROMIUM} is missing (apt-get install -y chromium)`)

describe.skipIf(!HAVE_CHROMIUM && !REQUIRE_BROWSER)(
  `insights in the HTML report, in headless Chromium${skipNote(HAVE_CHROMIUM || REQUIRE_BROWSER ? undefined : "needs Debian's chromium at /usr/bin/chromium")}`,
  () => {
    let p: PinnedProject
    let out: string
    let ctx: BrowserContext
    let page: Page
    let expected: { findings: Array<{ id: string; code: string }>; followups: unknown[] }
    const consoleErrors: string[] = []
    const blocked: string[] = []

    beforeAll(async () => {
      expect(existsSync(CHROMIUM), `${CHROMIUM} is required (ALLOY_E2E_REQUIRE=1)`).toBe(true)
      p = await makePinnedProject()
      const dir = path.join(p.dir, ".alloy", "runs", "records")
      mkdirSync(dir, { recursive: true })
      const history = [
        { state: "wont-fix", stage: `appraise:${p.cycle}`, timestamp: "2026-06-01T10:01:00.000Z", reason: HOSTILE },
        { state: "open", stage: `appraise:${p.cycle}`, timestamp: "2026-06-01T10:00:00.000Z" },
      ]
      const rec: RunRecord = {
        $type: RUN_RECORD_TYPE,
        run_id: "01JX0000000000000000000001",
        idempotency_key: "7".repeat(64),
        pin: { brief_id: p.briefId, digest: p.digest },
        cycle: p.cycle,
        stage: `appraise:${p.cycle}`,
        ended_at: "2026-06-01T10:02:00.000Z",
        alloy_version: "0.0.0-test",
        source: "import",
        session: `${p.cycle}@2026-06-01T09:59:00.000Z`,
        outcome: "ok",
        feedback: {
          total: 1,
          by_state: {},
          by_tag: {},
          alloy_items: [],
          items: [{ id: "I1", file: "release-notes/x.md", tag: `law:alloy--${p.briefId}--ac-1`, state: "wont-fix", reason: HOSTILE, history }],
        },
      }
      writeFileSync(path.join(dir, `${rec.idempotency_key}.json`), JSON.stringify(rec))
      const ins = await runCli(p.dir, "insights", "--json")
      expect(ins.code, ins.err).toBe(0)
      expected = ins.json()
      out = mkdtempSync(path.join(os.tmpdir(), "alloy-report-insights-"))
      const file = path.join(out, "report.html")
      const r = await runCli(p.dir, "report", "--html", file)
      expect(r.code, r.err).toBe(0)
      ctx = await launchChromium("profile-", { dir: out, width: 1360 })
      page = await guardedPage(ctx, (url) => url.startsWith("file:"), { blocked, consoleErrors })
      await page.goto(pathToFileURL(file).href, { waitUntil: "load", timeout: 30_000 })
    }, 90_000)

    afterAll(async () => {
      await ctx?.close()
      p?.cleanup()
      if (out) rmSync(out, { recursive: true, force: true })
    })

    test("the insights section is on the page with every finding and follow-up the CLI reports", async () => {
      expect(await page.locator("#insights").isVisible()).toBe(true)
      expect(await page.locator('[data-insights="findings"]').isVisible()).toBe(true)
      const ids = await page.locator("tr[data-finding]").evaluateAll((els) => els.map((e) => e.getAttribute("data-finding")))
      expect(ids).toEqual(expected.findings.map((f) => f.id))
      expect(expected.findings.map((f) => f.code)).toContain("waiver_cites_criterion")
      expect(await page.locator("[data-followup]").count()).toBe(expected.followups.length)
      // the report is static: no form to add a question from a file
      expect(await page.locator("[data-insights] form, [data-insights] button").count()).toBe(0)
    })

    test("authored text in a finding is shown as text, never run", async () => {
      const row = page.locator('tr[data-code="waiver_cites_criterion"]')
      expect(await row.count()).toBe(1)
      const text = await row.innerText()
      expect(text).toContain(`<img src=x onerror="document.title='pwned'">`)
      expect(text).toContain("<script>")
      expect(await page.locator("[data-insights] img, [data-insights] script").count()).toBe(0)
      expect(await page.title()).not.toContain("pwned")
      expect(await page.locator("script").count()).toBe(0)
      expect(consoleErrors).toEqual([])
      expect(blocked).toEqual([])
    })

    test("a finding's evidence links lead to its run in the report's timeline", async () => {
      const link = page.locator('tr[data-code="waiver_cites_criterion"] a[href^="#run-"]').first()
      const href = (await link.getAttribute("href"))!
      expect(href).toBe("#run-01JX0000000000000000000001")
      expect(await page.locator(href).count()).toBe(1)
    })
  },
)
