// The runs page of the web app in a real browser (Debian's Chromium, headless, playwright-core) against
// the built BIN (`node dist/cli/opencode-alloy.cjs ui --port 0`): start a run (queued for a bridge through the same
// service as `run --queue`), answer what a run waits on (the same ledger answer the terminal writes),
// abort a run (as `runs abort`) — each with the page script switched OFF, so the plain forms are what
// is proven — and the refusals: a work/* branch, a foreign Origin, no secret. No bridge runs here: the
// bridge's side (it picks the queued request, sends the ledger's answer) is proven in
// test/e2e/bridge-run.test.ts against the real OpenCode runtime.
//
// Run: npm run build && npx vitest run test/ui/ui-runs-chromium.test.ts
import { existsSync, mkdirSync, readdirSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import type { BrowserContext, Page } from "playwright-core"
import { makeProject, writeExampleSources, BRIEF_ID, CYCLE_ID, type TestProject } from "../helpers/project.js"
import { gitInitCommitAll } from "../helpers/git.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { Ledger } from "../../src/bridge/ledger.js"
import { REQUEST_TYPE } from "../../src/bridge/request.js"
import { toneQuestion } from "../helpers/bridge.js"
import { git } from "../helpers/git.js"
import { BIN } from "../helpers/cli.js"
import { HAVE_CHROMIUM, REQUIRE_BROWSER, CHROMIUM, SHOTS, launchChromium, spawnUi, type RunningUi } from "../helpers/browser.js"

const TOKEN = "ui-runs-token-0123456789abcdefghijklmnop"

if (!HAVE_CHROMIUM && !REQUIRE_BROWSER) console.warn(`ui-runs-chromium: skipped — ${CHROMIUM} is missing (apt-get install -y chromium)`)

describe.skipIf(!HAVE_CHROMIUM && !REQUIRE_BROWSER)("the runs page: start, answer, abort", () => {
  let p: TestProject
  let server: RunningUi | undefined
  let base: string
  let ctx: BrowserContext
  let page: Page
  const foreign: string[] = []
  const requestsDir = () => path.join(p.dir, ".alloy", "runs", "requests")
  const keys = () => (existsSync(requestsDir()) ? readdirSync(requestsDir()).filter((n) => !n.startsWith(".")) : [])

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is required (ALLOY_E2E_REQUIRE=1)`).toBe(true)
    expect(existsSync(BIN), "run `npm run build` first").toBe(true)
    mkdirSync(SHOTS, { recursive: true })
    p = makeProject("alloy-ui-runs-")
    writeExampleSources(p.dir)
    buildBrief(p.ctx, BRIEF_ID)
    pinBrief(p.ctx, { cycle: CYCLE_ID, brief_id: BRIEF_ID })
    // a run starts from what is committed (its worktree checks out the base commit)
    gitInitCommitAll(p.dir)
    server = await spawnUi(p.dir, TOKEN)
    base = `http://127.0.0.1:${server.port}`
    // the forms must work without the page script
    ctx = await launchChromium("alloy-ui-runs-profile-", { javaScript: false })
    await ctx.route("**/*", (route) => {
      const url = route.request().url()
      if (url.startsWith(`${base}/`)) return route.continue()
      foreign.push(url)
      return route.abort()
    })
    page = await ctx.newPage()
    await page.goto(server.url, { waitUntil: "load" })
  }, 90_000)

  afterAll(async () => {
    await ctx?.close()
    if (server && server.child.exitCode === null) {
      const s = server
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.child.kill("SIGKILL")
          resolve()
        }, 5000)
        s.child.once("exit", () => {
          clearTimeout(t)
          resolve()
        })
        s.child.kill("SIGTERM")
      })
    }
    p?.cleanup()
  })

  test("start a run from the page: it is queued once (the same form again is the same run), for a bridge to take", async () => {
    await page.goto(`${base}/runs`)
    await page.selectOption("#run-brief", BRIEF_ID)
    await page.fill("#run-goal", "Announce the checkout redesign <b>now</b>")
    await page.click('[data-form="start-run"] button[type=submit]')
    await page.waitForURL(/\/runs\?done=queued/)
    expect(keys()).toHaveLength(1)
    const key = keys()[0]!
    const card = page.locator(`[data-request="${key}"]`)
    expect(await card.getAttribute("data-state")).toBe("accepted")
    // authored text is shown as text
    expect(await card.locator("pre.pack").textContent()).toContain("<b>now</b>")
    expect(await card.locator("pre.pack b").count()).toBe(0)
    const e = new Ledger(p.dir).get(key)!
    expect(e.request.spec.goal).toBe("Announce the checkout redesign <b>now</b>")
    expect(e.status?.owner).toBeUndefined()
    await page.screenshot({ path: path.join(SHOTS, "runs-queued.png"), fullPage: true })

    // a double submit (or a reload of the post) names the same request
    await page.goto(`${base}/runs`)
    await page.selectOption("#run-brief", BRIEF_ID)
    await page.fill("#run-goal", "Announce the checkout redesign <b>now</b>")
    await page.click('[data-form="start-run"] button[type=submit]')
    await page.waitForURL(/\/runs\?done=queued/)
    expect(keys()).toEqual([key])
  })

  test("answer a question and a human appraisal the run waits on: the first answer is recorded for the bridge to send; a second is refused", async () => {
    const key = keys()[0]!
    const l = new Ledger(p.dir)
    // what a bridge records when the agent asks (OpenCode's question tool) and when Foundry asks for a human appraisal
    l.ask(toneQuestion(key, "que_tone", "ses_1"))
    l.ask({
      $type: REQUEST_TYPE,
      kind: "ask",
      key,
      id: "apr_prt_1",
      ask: "appraisal",
      session: "ses_1",
      questions: [{ question: "Approve release-notes/checkout.md?", header: "Human appraisal", options: [{ label: "approve" }, { label: "reject" }], custom: true }],
      context: { stage: "human-appraise", artefact: "release-notes/checkout.md" },
      asked_at: new Date(Date.now() + 1).toISOString(),
    })
    await page.goto(`${base}/runs`)
    const q = page.locator('[data-ask="que_tone"]')
    expect(await q.innerText()).toContain("Which tone should the release note take?")
    await q.locator('input[value="formal"]').check()
    await q.locator("button[type=submit]:not([name])").click()
    await page.waitForURL(/done=answered/)
    expect(l.answerOf(key, "que_tone")).toMatchObject({ answers: [["formal"]], by: "ui" })
    // answered: no longer open on the page
    expect(await page.locator('[data-ask="que_tone"]').count()).toBe(0)

    const apr = page.locator('[data-ask="apr_prt_1"]')
    expect(await apr.getAttribute("data-ask-kind")).toBe("appraisal")
    expect(await apr.innerText()).toContain("release-notes/checkout.md")
    await apr.locator('input[name="t0"]').fill("Lead with the benefit")
    await apr.locator("button[type=submit]:not([name])").click()
    await page.waitForURL(/done=answered/)
    expect(l.answerOf(key, "apr_prt_1")).toMatchObject({ answers: [["Lead with the benefit"]], by: "ui" })

    // the same form posted again (a stale tab): refused with its code, the first answer stands
    const again = await page.request.post(`${base}/runs/${key}/answer`, { form: { ask: "que_tone", a0: "friendly" }, headers: { Origin: base } })
    expect(again.status()).toBe(409)
    expect(await again.text()).toContain('data-error-code="already_exists"')
    expect(l.answerOf(key, "que_tone")?.answers).toEqual([["formal"]])
  })

  test("abort a run from the page: a queued run ends aborted without ever starting", async () => {
    const key = keys()[0]!
    await page.goto(`${base}/runs`)
    await page.locator(`[data-request="${key}"] form[action$="/abort"] button`).click()
    await page.waitForURL(/done=aborted/)
    expect(await page.locator(`[data-request="${key}"]`).getAttribute("data-state")).toBe("aborted")
    const e = new Ledger(p.dir).get(key)!
    expect(e.result).toMatchObject({ state: "aborted", sessions: [] })
    expect(await page.locator(`[data-request="${key}"] form[action$="/abort"]`).count()).toBe(0)
  })

  test("a finished run shows the verdicts it changed (linked to their criterion pages) and Foundry's run id and attestation", async () => {
    const l = new Ledger(p.dir)
    const spec = l.get(keys()[0]!)!.request.spec
    l.claim("finished-1", "given", { ...spec, goal: "done elsewhere" })
    l.postResult({
      $type: REQUEST_TYPE,
      kind: "result",
      key: "finished-1",
      request: { ...spec, goal: "done elsewhere" },
      state: "succeeded",
      sessions: ["ses_9"],
      terminal_action: { tool: "foundry_run", action: "done" },
      foundry_run_id: "01JKVT7Z8Q3WN0GJM2TYBR4AA",
      attestation: {
        kind: "attestations-jsonl",
        file: ".foundry/attestations/01JKVT7Z8Q3WN0GJM2TYBR4AA.jsonl",
        sha256: "a".repeat(64),
        run_id: "01JKVT7Z8Q3WN0GJM2TYBR4AA",
        stages: 2,
        verified: true,
        seal: { status: "pass", hash: "b".repeat(64) },
      },
      verdict_changes: [{ criterion: `${BRIEF_ID}#AC-1`, before: "unverified", after: "satisfied" }],
      stage_records: [],
      tokens: { input: 1, output: 1, reasoning: 0, cache_read: 0, cache_write: 0 },
      cost: 0,
      ended_at: new Date().toISOString(),
    })
    await page.goto(`${base}/runs`)
    const card = page.locator('[data-request="finished-1"]')
    expect(await card.getAttribute("data-state")).toBe("succeeded")
    const change = card.locator(`[data-verdict-change="${BRIEF_ID}#AC-1"]`)
    expect(await change.innerText()).toBe(`${BRIEF_ID}#AC-1: unverified → satisfied`)
    expect(await change.locator("a").getAttribute("href")).toBe(`/satisfaction/${BRIEF_ID}/AC-1`)
    expect(await card.locator('[data-attestation="attestations-jsonl"]').innerText()).toContain("every line's hash checks, sealed pass")
    await page.screenshot({ path: path.join(SHOTS, "runs-result.png"), fullPage: true })
  })

  test("refused: a foreign Origin, a request without the secret, and every run write on a work/* branch", async () => {
    const before = keys()
    const foreignOrigin = await page.request.post(`${base}/runs/start`, { form: { brief: BRIEF_ID, goal: "from elsewhere" }, headers: { Origin: "http://evil.example" } })
    expect(foreignOrigin.status()).toBe(403)
    const noSecret = await fetch(`${base}/runs/start`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: base },
      body: new URLSearchParams({ brief: BRIEF_ID, goal: "no secret" }).toString(),
    })
    expect(noSecret.status).toBe(403)
    expect(keys()).toEqual(before)

    git(p.dir, ["symbolic-ref", "HEAD", "refs/heads/work/checkout-copy"])
    try {
      await page.goto(`${base}/runs`)
      await page.fill("#run-goal", "On a flow branch")
      await page.click('[data-form="start-run"] button[type=submit]')
      await page.waitForLoadState("load")
      expect(await page.locator('[data-error-code="work_branch"]').innerText()).toContain("Fix:")
      expect(keys()).toEqual(before)
      for (const [action, form] of [
        [`/runs/${before[0]}/abort`, {}],
        [`/runs/${before[0]}/answer`, { ask: "que_tone", a0: "friendly" }],
      ] as const) {
        const r = await page.request.post(`${base}${action}`, { form, headers: { Origin: base } })
        expect(r.status(), action).toBe(409)
        expect(await r.text()).toContain('data-error-code="work_branch"')
      }
    } finally {
      git(p.dir, ["symbolic-ref", "HEAD", "refs/heads/main"])
    }
    expect(foreign).toEqual([])
  })
})
