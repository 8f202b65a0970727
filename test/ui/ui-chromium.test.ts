// The web app (`opencode-alloy ui`) in a real browser: Debian's Chromium (/usr/bin/chromium, never a
// downloaded one), headless, driven by playwright-core, against the built BIN (`node dist/cli/opencode-alloy.cjs ui
// --port 0`) on a temp copy of the sample project. Every request the browser makes is recorded; anything
// not for the app's own 127.0.0.1 origin is aborted and fails the test.
//
// Run: npm run build && npx vitest run test/ui/ui-chromium.test.ts
// Skipped, with a message, when /usr/bin/chromium is missing; ALLOY_E2E_REQUIRE=1 fails instead.
// Screenshots of each main page are written to test/ui/screenshots/ (git-ignored).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import type { BrowserContext, Page } from "playwright-core"
import { makeProject, writeExampleSources, BRIEF_ID, CYCLE_ID, flipByte, type TestProject } from "../helpers/project.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { recordSignoff } from "../../src/evidence/signoff.js"
import { loadEvidence } from "../../src/evidence/model.js"
import { Ledger } from "../../src/bridge/ledger.js"
import { toneQuestion } from "../helpers/bridge.js"
import { queueRequest } from "../../src/bridge/requests.js"
import { git } from "../helpers/git.js"
import { BIN } from "../helpers/cli.js"
import { HAVE_CHROMIUM, REQUIRE_BROWSER, CHROMIUM, SHOTS, guardedPage, launchChromium, spawnUi, stopUi, type RunningUi } from "../helpers/browser.js"

const TOKEN = "ui-test-token-0123456789abcdefghijklmnop"
const NEW_INTENT = "checkout-copy"
const NEW_BRIEF = "checkout-copy"
const NEW_CYCLE = "condense-changelog-entry"

if (!HAVE_CHROMIUM && !REQUIRE_BROWSER) console.warn(`ui-chromium: skipped — ${CHROMIUM} is missing (apt-get install -y chromium)`)

function event(kind: string, stage: string, cycle = CYCLE_ID, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ $type: "alloy.event/v1", kind, at: new Date().toISOString(), cycle, stage, ...extra }) + "\n"
}

describe.skipIf(!HAVE_CHROMIUM && !REQUIRE_BROWSER)("opencode-alloy ui in headless Chromium", () => {
  let p: TestProject
  let server: RunningUi | undefined
  let base: string
  let ctx: BrowserContext
  let page: Page
  let eventsPath: string
  const requests: string[] = []
  const foreign: string[] = []
  const consoleErrors: string[] = []

  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true })
  }

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is required (ALLOY_E2E_REQUIRE=1)`).toBe(true)
    expect(existsSync(BIN), "run `npm run build` first").toBe(true)
    mkdirSync(SHOTS, { recursive: true })
    p = makeProject("alloy-ui-e2e-")
    git(p.dir, ["init", "-q", "-b", "main"])
    // the signer of every sign-off is the repository's git identity (docs/ledger.md)
    git(p.dir, ["config", "user.name", "Ada Lovelace"])
    git(p.dir, ["config", "user.email", "ada@example.com"])
    writeExampleSources(p.dir)
    buildBrief(p.ctx, BRIEF_ID)
    pinBrief(p.ctx, { cycle: CYCLE_ID, brief_id: BRIEF_ID })
    eventsPath = path.join(p.dir, ".alloy", "runs", "events.jsonl")
    mkdirSync(path.dirname(eventsPath), { recursive: true })
    appendFileSync(eventsPath, event("stage_begun", `forge:${CYCLE_ID}`))
    server = await spawnUi(p.dir, TOKEN)
    base = `http://127.0.0.1:${server.port}`
    ctx = await launchChromium("alloy-ui-profile-")
    page = await guardedPage(ctx, (url) => url.startsWith(`${base}/`), { blocked: foreign, consoleErrors, requests })
    await page.goto(server.url, { waitUntil: "load" })
  }, 90_000)

  afterAll(async () => {
    await ctx?.close()
    await stopUi(server)
    p?.cleanup()
  })

  test("the secret URL is traded for a cookie and dropped from the address bar", async () => {
    expect(page.url()).toBe(`${base}/`)
    const cookies = await ctx.cookies(base)
    const c = cookies.find((x) => x.name === `alloy_ui_${server!.port}`)!
    expect(c.value).toBe(TOKEN)
    expect(c.httpOnly).toBe(true)
    expect(c.sameSite).toBe("Strict")
    await expect.poll(() => page.locator("body").getAttribute("data-sse")).toBe("open")
    await shot("dashboard")
  })

  test("create an intent with errors: every error shown at its field, nothing written; fixed, it is created", async () => {
    const before = readdirSync(path.join(p.dir, ".alloy", "intents")).sort()
    await page.goto(`${base}/intents/new`)
    await page.fill("#f-id", "Checkout Copy")
    await page.fill("#f-title", "")
    await page.fill("#f-goal", "")
    await page.fill("#f-acceptance_criteria-0-text", "The checkout button says what happens next.")
    await page.selectOption("#f-acceptance_criteria-0-evidence-0-kind", "check")
    await page.fill("#f-acceptance_criteria-1-text", "")
    await page.selectOption("#f-acceptance_criteria-1-evidence-0-kind", "artefact")
    await page.click("button[type=submit]")
    await page.waitForLoadState("load")
    const errs = await page.locator("#form-errors li").allInnerTexts()
    expect(errs.length).toBeGreaterThanOrEqual(6)
    for (const field of ["id", "title", "goal", "acceptance_criteria[0].evidence[0].value", "acceptance_criteria[1].text", "acceptance_criteria[1].evidence[0].value"]) {
      const f = page.locator(`[data-field="${field}"]`)
      expect(await f.locator(".ferr li").count(), `error at ${field}`).toBeGreaterThan(0)
      expect(await f.locator("[aria-invalid=true]").count()).toBe(1)
    }
    // what was typed is kept, and nothing was written
    expect(await page.inputValue("#f-acceptance_criteria-0-text")).toBe("The checkout button says what happens next.")
    expect(readdirSync(path.join(p.dir, ".alloy", "intents")).sort()).toEqual(before)
    await shot("intent-errors")

    await page.fill("#f-id", NEW_INTENT)
    await page.fill("#f-title", "Checkout copy says what happens next")
    await page.fill("#f-goal", "A shopper knows, before clicking, what the checkout button will do.")
    await page.fill("#f-acceptance_criteria-0-evidence-0-value", "node scripts/validators/word-limit.mjs --max 150 release-notes/*.md")
    await page.fill("#f-acceptance_criteria-1-text", "The product owner approves the button text.")
    await page.selectOption("#f-acceptance_criteria-1-evidence-0-kind", "human")
    await page.fill("#f-acceptance_criteria-1-evidence-0-value", "the product owner")
    await page.click("button[type=submit]")
    await page.waitForURL(`${base}/intents/${NEW_INTENT}?done=created`)
    expect(existsSync(path.join(p.dir, ".alloy", "intents", `${NEW_INTENT}.md`))).toBe(true)
    expect(await page.locator('[data-criterion="checkout-copy#AC-2"]').innerText()).toContain("the product owner")
  })

  test("create a brief, build it, pin it, and see the digest", async () => {
    await page.goto(`${base}/briefs`)
    await page.fill("#nb-id", NEW_BRIEF)
    await page.check(`input[name=intent][value="${NEW_INTENT}"]`)
    await page.check(`input[name=cycle][value="${NEW_CYCLE}"]`)
    await page.click("text=Create brief")
    await page.waitForURL(`${base}/briefs/${NEW_BRIEF}?done=created`)
    await page.click('[data-action="build"]')
    await page.waitForURL(/done=built/)
    const digest = (await page.locator('[data-done="built"] [data-digest]').getAttribute("data-digest"))!
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(readFileSync(path.join(p.dir, ".alloy", "refs", "briefs", NEW_BRIEF), "utf8").trim()).toBe(digest)
    await page.selectOption(`#pin-${NEW_BRIEF}`, NEW_CYCLE)
    await page.click('[data-action="pin"]')
    await page.waitForURL(/done=pinned/)
    expect(await page.locator(`[data-pin="cycle:${NEW_CYCLE}"]`).getAttribute("data-pin-state")).toBe("current")
    expect(readFileSync(path.join(p.dir, "foundry", "cycles", `${NEW_CYCLE}.md`), "utf8")).toContain(digest)
    expect(await page.locator(`[data-build="${digest}"]`).innerText()).toContain(NEW_CYCLE)
    await shot("brief")
  })

  test("each stage's text is shown from verified bytes; a tampered object shows nothing but the refusal", async () => {
    const digest = readFileSync(path.join(p.dir, ".alloy", "refs", "briefs", NEW_BRIEF), "utf8").trim()
    await page.goto(`${base}/bundles/${NEW_BRIEF}/${digest}`)
    expect(await page.locator("[data-verified=true]").count()).toBe(1)
    const forge = await page.locator(`[data-stage="forge:${NEW_CYCLE}"] pre`).innerText()
    expect(forge).toContain("## Alloy")
    expect(forge).toContain(`Pinned brief: ${NEW_BRIEF} @ ${digest}`)
    await shot("bundle")
    const obj = path.join(p.dir, ".alloy", "objects", "sha256", `${digest.slice(7)}.json`)
    const good = readFileSync(obj)
    flipByte(obj, 40)
    try {
      const r = await page.goto(`${base}/bundles/${NEW_BRIEF}/${digest}`)
      expect(r!.status()).toBe(409)
      expect(await page.locator("[data-error-code]").getAttribute("data-error-code")).toMatch(/digest_mismatch|malformed/)
      expect(await page.locator("[data-stage]").count()).toBe(0)
      expect(await page.locator("pre").count()).toBe(0)
    } finally {
      rmSync(obj, { force: true })
      appendFileSync(obj, good)
    }
  })

  test("edit the intent through the same schema, rebuild, and diff the two builds", async () => {
    await page.goto(`${base}/intents/${NEW_INTENT}/edit`)
    await page.fill("#f-goal", "")
    await page.click("button[type=submit]")
    expect(await page.locator('[data-field="goal"] .ferr li').count()).toBe(1)
    expect(readFileSync(path.join(p.dir, ".alloy", "intents", `${NEW_INTENT}.md`), "utf8")).toContain("before clicking")
    await page.fill("#f-goal", "A shopper knows, before clicking, what the checkout button will do and what it costs.")
    await page.click("button[type=submit]")
    await page.waitForURL(/done=saved/)
    await page.goto(`${base}/briefs/${NEW_BRIEF}`)
    await page.click('[data-action="build"]')
    await page.waitForURL(/done=built/)
    await page.click("text=Compare the stage texts")
    await page.waitForLoadState("load")
    expect(Number(await page.locator(`[data-diff-stage="forge:${NEW_CYCLE}"]`).getAttribute("data-changes"))).toBeGreaterThan(0)
    expect(await page.locator(`[data-diff-stage="forge:${NEW_CYCLE}"] .add`).first().innerText()).toContain("what it costs")
    await shot("diff")
    // re-pin the new build so its cycle is current again
    await page.goto(`${base}/briefs/${NEW_BRIEF}`)
    await page.click('[data-action="pin"]')
    await page.waitForURL(/done=pinned/)
  })

  test("a stage event shows in the run row, and a verdict changes, within a second and without a reload", async () => {
    await page.goto(`${base}/runs`)
    await expect.poll(() => page.locator("body").getAttribute("data-sse")).toBe("open")
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1))
    const row = page.locator(`[data-stage-row="${CYCLE_ID}/quench:${CYCLE_ID}"]`)
    expect(await row.count()).toBe(0)
    const t0 = Date.now()
    appendFileSync(eventsPath, event("stage_begun", `quench:${CYCLE_ID}`))
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 1000, interval: 50 }).toBe("running")
    expect(Date.now() - t0).toBeLessThan(1000)
    appendFileSync(eventsPath, event("stage_ended", `quench:${CYCLE_ID}`))
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 1000, interval: 50 }).toBe("ended")
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(1) // same document: no reload
    await shot("runs")

    // the dashboard: a sign-off recorded by another process, then its stage event -> the verdict turns
    await page.goto(`${base}/`)
    await expect.poll(() => page.locator("body").getAttribute("data-sse")).toBe("open")
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 2))
    const crit = page.locator(`tr[data-criterion="${BRIEF_ID}#AC-4"]`)
    expect(await crit.getAttribute("data-verdict")).toBe("unproven")
    recordSignoff(p.ctx, { ref: `${BRIEF_ID}#AC-4` })
    const t1 = Date.now()
    appendFileSync(eventsPath, event("stage_ended", "signoff"))
    await expect.poll(() => crit.getAttribute("data-verdict"), { timeout: 1000, interval: 50 }).toBe("satisfied")
    expect(Date.now() - t1).toBeLessThan(1000)
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(2)
  })

  test("an answer being written is not swapped away by a live update: the update waits until the form is left as it was", async () => {
    const { key } = queueRequest({ root: p.dir, brief: BRIEF_ID, goal: "Announce the checkout redesign" })
    new Ledger(p.dir).ask(toneQuestion(key, "que_live", "ses_live"))
    await page.goto(`${base}/runs`)
    await expect.poll(() => page.locator("body").getAttribute("data-sse")).toBe("open")
    const typed = page.locator('[data-ask="que_live"] input[name="t0"]')
    await typed.fill("warm, but not chatty")
    await page.locator("h1").first().click() // the field loses focus; what was typed stays unsent
    const refreshedBefore = await page.locator("body").getAttribute("data-refreshed")
    const feed = page.locator("#events li")
    const n = await feed.count()
    appendFileSync(eventsPath, event("heartbeat", `forge:${CYCLE_ID}`))
    await expect.poll(() => feed.count()).toBe(n + 1)
    await expect.poll(() => page.locator("body").getAttribute("data-held")).toBe("1")
    expect(await typed.inputValue()).toBe("warm, but not chatty")
    expect(await page.locator("body").getAttribute("data-refreshed")).toBe(refreshedBefore)
    // put back as it was: the held update is taken
    await typed.fill("")
    await page.locator("h1").first().click()
    await expect.poll(() => page.locator("body").getAttribute("data-held"), { timeout: 5000 }).toBeNull()
    await expect.poll(() => page.locator("body").getAttribute("data-refreshed"), { timeout: 5000 }).not.toBe(refreshedBefore)
  })

  test("kill the server, append events, restart it: the page resumes with no gap and no duplicate", async () => {
    await page.goto(`${base}/runs`)
    await expect.poll(() => page.locator("body").getAttribute("data-sse")).toBe("open")
    const offsets = () => page.locator("#events li").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-event-offset"))))
    const n0 = (await offsets()).length
    appendFileSync(eventsPath, event("heartbeat", `forge:${CYCLE_ID}`))
    await expect.poll(async () => (await offsets()).length).toBe(n0 + 1)
    const port = server!.port
    await stopUi(server, "SIGKILL")
    await expect.poll(() => page.locator("body").getAttribute("data-sse"), { timeout: 5000 }).toBe("down")
    appendFileSync(eventsPath, event("stage_ended", `forge:${CYCLE_ID}`))
    appendFileSync(eventsPath, event("stage_begun", `appraise:${CYCLE_ID}`))
    server = await spawnUi(p.dir, TOKEN, port)
    appendFileSync(eventsPath, event("stage_blocked", `appraise:${CYCLE_ID}`, CYCLE_ID, { reason: "Alloy: pin did not verify", code: "digest_mismatch" }))
    // every event of the file, newest first, each exactly once
    const lines = readFileSync(eventsPath, "utf8").split("\n").filter(Boolean)
    const ends: number[] = []
    let at = 0
    for (const l of lines) ends.push((at += Buffer.byteLength(l) + 1))
    await expect.poll(async () => (await offsets()).length, { timeout: 10_000 }).toBe(ends.length)
    expect(await offsets()).toEqual([...ends].reverse())
    expect(await page.locator("#events li").first().getAttribute("data-kind")).toBe("stage_blocked")
  })

  test("sign off a criterion from its page: the verdict and the ledger change", async () => {
    await page.goto(`${base}/satisfaction/${NEW_INTENT}/AC-2`)
    expect(await page.locator(".ihead [data-verdict]").first().getAttribute("data-verdict")).toBe("unproven")
    expect(await page.locator("[data-actor]").first().getAttribute("data-actor")).toBe("the product owner")
    await shot("criterion")
    // the page shows who will sign: git's identity, not a name typed into the form
    expect(await page.locator("#signoff-by").count()).toBe(0)
    expect(await page.locator("[data-signer]").getAttribute("data-signer")).toBe("ada@example.com")
    expect(await page.locator("[data-signer]").innerText()).toContain("Signing as Ada Lovelace <ada@example.com>")
    const commitsBefore = Number(git(p.dir, ["rev-list", "--count", "--all"]))
    await page.fill("#signoff-note", "tone approved")
    await page.click("text=Sign off AC-2")
    await page.waitForURL(/done=signed/)
    expect(await page.locator(".ihead [data-verdict]").first().getAttribute("data-verdict")).toBe("satisfied")
    const obs = loadEvidence(p.ctx).observations.filter((o) => o.criterion === `${NEW_INTENT}#AC-2` && o.kind === "signoff")
    expect(obs.map((o) => o.summary).join(" ")).toContain("approved by Ada Lovelace <ada@example.com>")
    expect(await page.locator("[data-observation]").first().innerText()).toContain("Ada Lovelace <ada@example.com>")
    // the ledger changed: one new file, in one new commit by the signer, on main
    expect(Number(git(p.dir, ["rev-list", "--count", "--all"]))).toBe(commitsBefore + 1)
    expect(git(p.dir, ["rev-parse", "--abbrev-ref", "HEAD"]).trim()).toBe("main")
    expect(git(p.dir, ["log", "-1", "--format=%an <%ae>"]).trim()).toBe("Ada Lovelace <ada@example.com>")
    const files = git(p.dir, ["show", "--name-only", "--format=", "HEAD"]).trim().split("\n")
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(new RegExp(`^\\.alloy/evidence/signoffs/${NEW_INTENT}/AC-2/[0-9a-f]{32}\\.json$`))
    expect(JSON.parse(readFileSync(path.join(p.dir, files[0]!), "utf8"))).toMatchObject({
      $type: "alloy.signoff/v1",
      criterion: `${NEW_INTENT}#AC-2`,
      decision: "approve",
      reason: "tone approved",
      signer: { name: "Ada Lovelace", email: "ada@example.com" },
    })
  })

  test("a follow-up question of the learning loop is added to its intent's open questions from the page", async () => {
    await page.goto(`${base}/insights`)
    const item = page
      .locator(`[data-followup]`)
      .filter({ hasText: `${NEW_INTENT}#AC-1` })
      .first()
    expect(await item.count()).toBe(1)
    await item.locator("button").click()
    await page.waitForURL(/done=accepted/)
    expect(readFileSync(path.join(p.dir, ".alloy", "intents", `${NEW_INTENT}.md`), "utf8")).toContain(`(${NEW_INTENT}#AC-1)`)
  })

  test("on a work/* branch every write is refused with its code and fix, and nothing changes", async () => {
    git(p.dir, ["symbolic-ref", "HEAD", "refs/heads/work/checkout-copy"])
    const snapshot = () =>
      [".alloy/intents", ".alloy/briefs", ".alloy/refs/briefs", "foundry/cycles"]
        .map((d) =>
          readdirSync(path.join(p.dir, d))
            .map((f) => `${d}/${f}:${readFileSync(path.join(p.dir, d, f), "utf8")}`)
            .join("\n"),
        )
        .join("\n")
    // run records and the evidence ledger: a refused sign-off adds to neither
    const records = () => [".alloy/runs/records", ".alloy/evidence"].map((d) => (existsSync(path.join(p.dir, d)) ? readdirSync(path.join(p.dir, d), { recursive: true }).length : 0)).join("+")
    const before = snapshot()
    const recordsBefore = records()
    try {
      const refusedHere = async () => {
        await page.waitForLoadState("load")
        expect(await page.locator('[data-error-code="work_branch"]').count()).toBe(1)
        expect(await page.locator('[data-error-code="work_branch"]').innerText()).toContain("Fix:")
      }
      await page.goto(`${base}/intents/${NEW_INTENT}/edit`)
      expect(await page.locator(".banner").first().innerText()).toContain("work/checkout-copy")
      await page.fill("#f-title", "Changed on a flow branch")
      await page.click("button[type=submit]")
      await refusedHere()
      await page.goto(`${base}/intents/new`)
      await page.fill("#f-id", "another-intent")
      await page.fill("#f-title", "t")
      await page.fill("#f-goal", "g")
      await page.click("button[type=submit]")
      await refusedHere()
      await page.goto(`${base}/briefs/${NEW_BRIEF}`)
      await page.click('[data-action="build"]')
      await refusedHere()
      await page.goto(`${base}/briefs/${NEW_BRIEF}`)
      await page.click('[data-action="pin"]')
      await refusedHere()
      await page.goto(`${base}/briefs`)
      await page.fill("#nb-id", "another-brief")
      await page.check(`input[name=intent][value="${NEW_INTENT}"]`)
      await page.click("text=Create brief")
      await refusedHere()
      await page.goto(`${base}/insights`)
      await page.locator("[data-followup] button").first().click()
      await refusedHere()
      await page.goto(`${base}/satisfaction/${BRIEF_ID}/AC-4`)
      await page.fill("#signoff-note", "on a flow branch")
      await page.click("text=Sign off AC-4")
      await refusedHere()
      await shot("work-branch-refused")
      expect(snapshot()).toBe(before)
      expect(records()).toBe(recordsBefore)
    } finally {
      git(p.dir, ["symbolic-ref", "HEAD", "refs/heads/main"])
    }
  })

  test("a request without the secret, or with a foreign Origin or Host, is refused", async () => {
    const cookie = `alloy_ui_${server!.port}=${TOKEN}`
    expect((await fetch(`${base}/`)).status).toBe(403)
    expect((await fetch(`${base}/intents`, { headers: { cookie: `alloy_ui_${server!.port}=wrong-token-0123456789abcdefghijklmn` } })).status).toBe(403)
    expect((await fetch(`${base}/`, { headers: { cookie } })).status).toBe(200)
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/briefs/${NEW_BRIEF}/build`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers }, body: "" })
    expect((await post({ origin: "http://evil.example" })).status).toBe(403)
    expect((await post({ origin: `http://127.0.0.1:${server!.port}`, "sec-fetch-site": "cross-site" })).status).toBe(403)
    // a DNS-rebinding page reaches 127.0.0.1 under its own name: Host refused (node's fetch cannot set Host; use http)
    const http = await import("node:http")
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: server!.port, path: "/", headers: { host: `rebind.example:${server!.port}`, cookie } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on("error", reject)
      req.end()
    })
    expect(status).toBe(421)
  })

  test("the dashboard after it all: worst first, who acts next", async () => {
    await page.setViewportSize({ width: 1100, height: 760 })
    await page.goto(`${base}/`)
    const order = await page.locator("section.intent").evaluateAll((els) => els.map((e) => e.getAttribute("data-verdict")))
    const rank = ["failing", "stale", "unproven", "waived", "satisfied"]
    expect(order.map((v) => rank.indexOf(v!))).toEqual([...order.map((v) => rank.indexOf(v!))].sort((a, b) => a - b))
    expect(await page.locator(`#next-actions [data-next="${BRIEF_ID}#AC-1"]`).count()).toBe(1)
    expect(await page.locator(`#next-actions [data-next="${BRIEF_ID}#AC-4"]`).count()).toBe(0) // signed off: nobody must act
    await page.screenshot({ path: path.join(SHOTS, "readme.png") })
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test("accessible: every form control has a label, every page one h1 and a skip link to main", async () => {
    for (const url of [
      "/",
      "/intents",
      "/intents/new",
      `/intents/${NEW_INTENT}/edit`,
      "/briefs",
      `/briefs/${NEW_BRIEF}`,
      "/runs",
      "/insights",
      `/satisfaction/${NEW_INTENT}`,
      `/satisfaction/${BRIEF_ID}/AC-4`,
    ]) {
      await page.goto(`${base}${url}`)
      const unlabelled = await page
        .locator("input:not([type=hidden]), select, textarea")
        .evaluateAll((els) => els.filter((e) => !(e as unknown as { labels: { length: number } | null }).labels?.length && !e.getAttribute("aria-label")).map((e) => e.getAttribute("name")))
      expect(unlabelled, url).toEqual([])
      expect(await page.locator("h1").count(), url).toBe(1)
      expect(await page.locator('a.skip[href="#main"]').count()).toBe(1)
    }
    await page.goto(`${base}/insights`)
    await shot("insights")
    // keyboard: the first Tab reaches the skip link
    await page.goto(`${base}/`)
    await page.keyboard.press("Tab")
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { className: string } } }).document.activeElement.className)).toBe("skip")
  })

  test("every request the pages made stayed on the app's 127.0.0.1 origin, with no console error", () => {
    expect(foreign).toEqual([])
    expect(requests.length).toBeGreaterThan(20)
    for (const u of requests) expect(u.startsWith(`${base}/`)).toBe(true)
    expect(consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(e))).toEqual([])
  })
})
