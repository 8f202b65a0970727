// Requests, runners and run records other machines pushed to a team store, on the web app's runs page
// in a real browser (Debian's Chromium, headless, playwright-core, the page script off): each keeps its
// origin (store, repository, machine), a runner is shown with the capability manifest it names, pulled
// requests offer nothing to abort or answer (they are not this project's), and their authored text is
// shown as text. The pulled folder is written as `pull` writes it (pull itself is proven against a real
// registry in test/integration/oci-store.test.ts).
//
// Run: npm run build && npx vitest run test/ui/ui-pulled-chromium.test.ts
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import type { BrowserContext, Page } from "playwright-core"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { BIN } from "../helpers/cli.js"
import { HAVE_CHROMIUM, REQUIRE_BROWSER, CHROMIUM, SHOTS, launchChromium, spawnUi, stopUi, type RunningUi } from "../helpers/browser.js"
import { REQUEST_TYPE } from "../../src/bridge/request.js"
import { runnerRegistration, succeededResult } from "../helpers/bridge.js"
import { buildCapabilities, keepCapabilities } from "../../src/service/capabilities.js"
import { hashedTag, pulledPaths } from "../../src/service/pulled.js"
import { exportStageRun } from "../../src/service/runs.js"

const TOKEN = "ui-pulled-token-0123456789abcdefghijklmnop"
const STORE = "oci://127.0.0.1:5000/team/alloy"
const FROM = `from ${STORE} (acme/other-repo@ci-runner-9)`

if (!HAVE_CHROMIUM && !REQUIRE_BROWSER) console.warn(`ui-pulled-chromium: skipped — ${CHROMIUM} is missing (apt-get install -y chromium)`)

describe.skipIf(!HAVE_CHROMIUM && !REQUIRE_BROWSER)("the runs page shows what was pulled from team stores, with its origin", () => {
  let p: PinnedProject
  let server: RunningUi | undefined
  let ctx: BrowserContext
  let page: Page
  let capsDigest = ""

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is required (ALLOY_E2E_REQUIRE=1)`).toBe(true)
    expect(existsSync(BIN), "run `npm run build` first").toBe(true)
    mkdirSync(SHOTS, { recursive: true })
    p = await makePinnedProject()
    const pp = pulledPaths(p.dir, "127.0.0.1_5000+team+alloy")
    for (const d of [pp.origins, pp.records, path.join(pp.requests, "nightly-7"), path.join(pp.requests, "nightly-8"), pp.runners]) mkdirSync(d, { recursive: true })
    writeFileSync(pp.storeFile, JSON.stringify({ store: STORE }) + "\n")
    const origin = (tag: string) =>
      writeFileSync(path.join(pp.origins, `${tag}.json`), JSON.stringify({ store: STORE, tag, manifest: `sha256:${"9".repeat(64)}`, repository: "acme/other-repo", machine: "ci-runner-9" }))
    const spec = { brief_id: p.briefId, digest: p.digest, flow: "release-notes", cycle: null, goal: "Ship the note <b>today</b>", goal_hash: "0".repeat(64), base_commit: "1".repeat(40), criteria: [] }
    // one request that ended where it ran (request and result), one that had not (request only)
    for (const key of ["nightly-7", "nightly-8"]) {
      writeFileSync(
        path.join(pp.requests, key, "request.json"),
        JSON.stringify({ $type: REQUEST_TYPE, key, key_source: "given", spec, created_at: key === "nightly-7" ? "2026-05-28T10:00:00.000Z" : "2026-05-28T11:00:00.000Z" }),
      )
      origin(hashedTag("request", `${key}/request.json`))
    }
    writeFileSync(path.join(pp.requests, "nightly-7", "result.json"), JSON.stringify(succeededResult("nightly-7", spec)))
    origin(hashedTag("request", "nightly-7/result.json"))
    // a runner whose capability manifest came along (pull stores manifests where the project keeps its own)
    const caps = buildCapabilities(p.ctx)
    keepCapabilities(p.ctx, caps)
    capsDigest = caps.digest
    const runnerId = "01JZPULLEDRUNNER0000000000"
    writeFileSync(
      path.join(pp.runners, `${runnerId}.json`),
      JSON.stringify(
        runnerRegistration({
          id: runnerId,
          host: "ci-runner-9",
          pid: 7,
          opencode_version: "1.4.0",
          capability_digest: caps.digest,
          project_roots: ["/elsewhere"],
          started_at: "2026-05-28T09:00:00.000Z",
        }),
      ),
    )
    origin(hashedTag("runner", runnerId))
    // a run record of the other machine: moved from this project's outbox into the pulled folder
    const w = exportStageRun(p.dir, { cycle: p.cycle, stage: "forge:write", pin: { brief_id: p.briefId, digest: p.digest }, marker: "pulled-1", endedAt: "2026-05-28T10:04:00.000Z" })
    const own = path.join(p.dir, ".alloy", "runs", "records")
    for (const n of readdirSync(own)) renameSync(path.join(own, n), path.join(pp.records, n))
    origin(`run-${w.record!.idempotency_key}`)

    server = await spawnUi(p.dir, TOKEN)
    ctx = await launchChromium("alloy-ui-pulled-profile-", { javaScript: false })
    page = await ctx.newPage()
    await page.goto(server.url, { waitUntil: "load" })
  }, 90_000)

  afterAll(async () => {
    await ctx?.close()
    await stopUi(server)
    p?.cleanup()
  })

  test("pulled requests and runners keep their origin; the runner shows its capability manifest; nothing to abort or answer", async () => {
    await page.goto(`http://127.0.0.1:${server!.port}/runs`)
    const section = page.locator("[data-pulled-bridge]")
    expect(await section.locator("h2").textContent()).toBe("From team stores (2 requests, 1 runner)")
    const done = section.locator('[data-pulled-request="nightly-7"]')
    expect(await done.getAttribute("data-state")).toBe("succeeded")
    expect(await done.locator("[data-origin]").textContent()).toContain(FROM)
    expect(await done.textContent()).toContain("Result: succeeded")
    const open = section.locator('[data-pulled-request="nightly-8"]')
    expect(await open.getAttribute("data-state")).toBe("unfinished")
    expect(await open.textContent()).toContain("No result was pushed")
    // authored text from another machine is shown as text
    expect(await open.locator("pre.pack").textContent()).toBe("Ship the note <b>today</b>")
    expect(await section.locator("pre.pack b").count()).toBe(0)
    // newest first
    expect(await section.locator("[data-pulled-request]").evaluateAll((els) => els.map((e) => e.getAttribute("data-pulled-request")))).toEqual(["nightly-8", "nightly-7"])
    // not this project's: no form to abort or answer them
    expect(await section.locator("form").count()).toBe(0)
    const runner = section.locator('[data-pulled-runner="01JZPULLEDRUNNER0000000000"]')
    expect(await runner.locator("[data-origin]").textContent()).toBe(FROM)
    const caps = runner.locator(`[data-capabilities="${capsDigest}"]`)
    expect(await caps.textContent()).toMatch(/^capabilities sha256:[0-9a-f]{12}… \(OpenCode \?, Foundry /)
    // the pulled run record names where it came from too
    expect(await page.locator("[data-record] [data-origin]").allTextContents()).toEqual([FROM])
    await page.screenshot({ path: path.join(SHOTS, "runs-pulled.png"), fullPage: true })
  })
})
