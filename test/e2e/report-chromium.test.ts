// The HTML evidence report in a real browser: Debian's Chromium (/usr/bin/chromium, never a downloaded
// one), headless, driven by playwright-core with a fresh user-data-dir and every non-file request blocked.
// The page must render with no console error, show every verdict (text and data attribute), and look
// like what it says: the screenshot is decoded and checked for the verdict colours.
//
// Run: npx vitest run test/e2e/report-chromium.test.ts
// Skipped, with a message, when /usr/bin/chromium is missing (install it with `apt-get install -y chromium`);
// ALLOY_E2E_REQUIRE=1 fails instead of skipping; E2E_KEEP=1 keeps the page and screenshots (paths printed).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { inflateSync } from "node:zlib"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import type { BrowserContext, Page } from "playwright-core"
import { CHROMIUM, HAVE_CHROMIUM, REQUIRE_BROWSER, guardedPage, launchChromium } from "../helpers/browser.js"
import { makeEvidenceProject, EXPECTED, type EvidenceProject } from "../integration/import-fixtures.js"
import { importAll } from "../../src/evidence/import.js"
import { loadEvidence, type EvidenceModel } from "../../src/evidence/model.js"
import { renderReportHtml } from "../../src/evidence/report-html.js"
import { VERDICTS, type Verdict } from "../../src/evidence/satisfaction.js"
import { skipNote } from "../helpers/skip.js"

const KEEP = process.env["E2E_KEEP"] === "1"
const LABEL: Record<Verdict, string> = { satisfied: "Satisfied", failing: "Failing", stale: "Stale", unproven: "Unproven", waived: "Waived", contested: "Contested" }
/** the badge colours of report-html.ts */
const COLOUR: Record<Verdict, [number, number, number]> = {
  satisfied: [0x1a, 0x7f, 0x37],
  failing: [0xcf, 0x22, 0x2e],
  stale: [0xbc, 0x4c, 0x00],
  waived: [0x82, 0x50, 0xdf],
  unproven: [0x6e, 0x77, 0x81],
  // contested is amber: neither proven nor simply failing, it needs a person to look at both sides
  contested: [0x9a, 0x67, 0x00],
}

/** the few browser globals the page functions use (the project compiles without the DOM library) */
interface BrowserGlobals {
  getComputedStyle(e: unknown): { backgroundColor: string }
  scrollTo(x: number, y: number): void
}

if (!HAVE_CHROMIUM && !REQUIRE_BROWSER) {
  console.warn(`report-chromium: skipped — ${CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)`)
}

/** Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes) into RGBA pixels. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Buffer } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true)
  let off = 8
  let width = 0
  let height = 0
  let colorType = 0
  const idat: Buffer[] = []
  while (off < buf.length) {
    const len = buf.readUInt32BE(off)
    const type = buf.toString("ascii", off + 4, off + 8)
    const data = buf.subarray(off + 8, off + 8 + len)
    if (type === "IHDR") {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      expect(data[8]).toBe(8) // bit depth
      colorType = data[9]!
      expect(data[12]).toBe(0) // not interlaced
    } else if (type === "IDAT") idat.push(data)
    else if (type === "IEND") break
    off += 12 + len
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0
  expect(bpp).toBeGreaterThan(0)
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * bpp
  const out = Buffer.alloc(width * height * 4)
  const prev = Buffer.alloc(stride)
  const cur = Buffer.alloc(stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    raw.copy(cur, 0, y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[x - bpp]! : 0
      const b = prev[x]!
      const c = x >= bpp ? prev[x - bpp]! : 0
      let v = cur[x]!
      if (filter === 1) v += a
      else if (filter === 2) v += b
      else if (filter === 3) v += (a + b) >> 1
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      }
      cur[x] = v & 0xff
    }
    for (let x = 0; x < width; x++) {
      out[(y * width + x) * 4] = cur[x * bpp]!
      out[(y * width + x) * 4 + 1] = cur[x * bpp + 1]!
      out[(y * width + x) * 4 + 2] = cur[x * bpp + 2]!
      out[(y * width + x) * 4 + 3] = bpp === 4 ? cur[x * bpp + 3]! : 255
    }
    cur.copy(prev)
  }
  return { width, height, rgba: out }
}

function countColour(img: { rgba: Buffer }, [r, g, b]: [number, number, number], tolerance = 6): number {
  let n = 0
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (Math.abs(img.rgba[i]! - r) <= tolerance && Math.abs(img.rgba[i + 1]! - g) <= tolerance && Math.abs(img.rgba[i + 2]! - b) <= tolerance) n++
  }
  return n
}

describe.skipIf(!HAVE_CHROMIUM && !REQUIRE_BROWSER)(
  `HTML report in headless Chromium${skipNote(HAVE_CHROMIUM || REQUIRE_BROWSER ? undefined : "needs Debian's chromium at /usr/bin/chromium")}`,
  () => {
    let project: EvidenceProject
    let model: EvidenceModel
    let out: string
    let ctx: BrowserContext
    let page: Page
    const consoleErrors: string[] = []
    const blocked: string[] = []

    beforeAll(async () => {
      expect(existsSync(CHROMIUM), `${CHROMIUM} is required (ALLOY_E2E_REQUIRE=1)`).toBe(true)
      project = await makeEvidenceProject()
      importAll(project.ctx)
      model = loadEvidence(project.ctx)
      out = mkdtempSync(path.join(os.tmpdir(), "alloy-report-e2e-"))
      writeFileSync(path.join(out, "report.html"), renderReportHtml(model))
      ctx = await launchChromium("profile-", { dir: out, width: 1360 })
      page = await guardedPage(ctx, (url) => url.startsWith("file:"), { blocked, consoleErrors })
      await page.goto(pathToFileURL(path.join(out, "report.html")).href, { waitUntil: "load", timeout: 30_000 })
    }, 90_000)

    afterAll(async () => {
      await ctx?.close()
      project?.cleanup()
      if (KEEP) console.log(`report-chromium: kept ${out}`)
      else if (out) rmSync(out, { recursive: true, force: true })
    })

    test("renders with no console error and no request leaving the file", async () => {
      expect(await page.title()).toBe(`Alloy evidence — ${model.project}`)
      expect(consoleErrors).toEqual([])
      expect(blocked).toEqual([])
    })

    test("every criterion shows its verdict, as text and as a data attribute", async () => {
      for (const [ref, verdict] of Object.entries(EXPECTED)) {
        const row = page.locator(`tr[data-criterion="${ref}"]`)
        await expect.poll(() => row.count()).toBe(1)
        expect(await row.getAttribute("data-verdict")).toBe(verdict)
        const badge = row.locator("td.verdict [data-verdict]")
        expect(await badge.getAttribute("data-verdict")).toBe(verdict)
        expect((await badge.innerText()).trim()).toContain(LABEL[verdict])
        expect(await badge.isVisible()).toBe(true)
      }
      for (const v of VERDICTS) {
        const n = Object.values(EXPECTED).filter((x) => x === v).length
        expect(await page.locator(`.stat[data-count-verdict="${v}"] .n`).innerText()).toBe(String(n))
      }
      const intents = await page.locator("section.intent").evaluateAll((els) => els.map((e) => [e.getAttribute("data-intent"), e.getAttribute("data-verdict")]))
      expect(intents).toEqual([
        ["release-note-accessibility", "failing"],
        ["release-note-voice", "failing"],
      ])
    })

    test("the badges are drawn in their verdict colours", async () => {
      for (const v of VERDICTS) {
        const bg = await page.locator(`.stat[data-count-verdict="${v}"] .badge`).evaluate((e) => (globalThis as unknown as BrowserGlobals).getComputedStyle(e).backgroundColor)
        expect(bg).toBe(`rgb(${COLOUR[v].join(", ")})`)
      }
    })

    test("evidence under an older bundle is marked, and evidence links lead to the run in the timeline", async () => {
      const stale = page.locator('tr[data-criterion="release-note-voice#AC-3"]')
      expect(await stale.locator('[data-older-bundle="true"]').count()).toBeGreaterThan(0)
      expect(await stale.locator(".older-tag").first().innerText()).toBe("older bundle")
      expect(await page.locator("[data-run]").count()).toBe(model.records.length)
      const link = page.locator('tr[data-criterion="release-note-voice#AC-2"] .ev a').first()
      const href = (await link.getAttribute("href"))!
      expect(href).toMatch(/^#run-[0-9A-Z]{26}$/)
      expect(await page.locator(href).isVisible()).toBe(false) // inside a closed <details>
      await link.click()
      await expect.poll(() => page.locator(href).isVisible()).toBe(true)
    })

    test("screenshot: a real page, with every verdict colour on it", async () => {
      await page.evaluate(() => (globalThis as unknown as BrowserGlobals).scrollTo(0, 0))
      const full = path.join(out, "report.png")
      await page.screenshot({ path: full, fullPage: true })
      const bytes = readFileSync(full)
      expect(bytes.length).toBeGreaterThan(100_000)
      const img = decodePng(bytes)
      expect(img.width).toBe(1360)
      expect(img.height).toBeGreaterThan(2000)
      for (const v of VERDICTS) expect(countColour(img, COLOUR[v]), `pixels of the ${v} colour`).toBeGreaterThan(200)
      // the summary strip alone: five coloured badges on white cards
      const summary = path.join(out, "summary.png")
      await page.locator(".summary").screenshot({ path: summary })
      const s = decodePng(readFileSync(summary))
      for (const v of VERDICTS) expect(countColour(s, COLOUR[v]), `summary pixels of the ${v} colour`).toBeGreaterThan(100)
      expect(countColour(s, [255, 255, 255], 0)).toBeGreaterThan(s.width * s.height * 0.3)
    })
  },
)
