/**
 * One browser setup for the tests a person would look at: Debian's Chromium (never a downloaded
 * one), headless through playwright-core, and the web app (`opencode-alloy ui`) started from the
 * built CLI on 127.0.0.1 with a known launch secret.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { BIN } from "./cli.js"
import { REPO_ROOT } from "./project.js"

export const CHROMIUM = "/usr/bin/chromium"
export const HAVE_CHROMIUM = existsSync(CHROMIUM)
/** set in CI: a missing browser fails instead of skipping */
export const REQUIRE_BROWSER = process.env["ALLOY_E2E_REQUIRE"] === "1"
/** screenshots each browser test saves (git-ignored) */
export const SHOTS = path.join(REPO_ROOT, "test", "ui", "screenshots")
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

/**
 * A headless Chromium with a fresh profile in `dir` (the temp folder by default); `javaScript: false`
 * proves what works without the page script. The profile belongs to this launch: it is removed when
 * the browser is closed (or fails to start), so test runs leave no profiles behind.
 */
export async function launchChromium(profilePrefix: string, opts: { javaScript?: boolean; width?: number; dir?: string } = {}): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(opts.dir ?? os.tmpdir(), profilePrefix))
  // Chromium may still be writing its profile as it shuts down: retried, bounded
  const remove = () => rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
  let ctx: BrowserContext
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: opts.width ?? 1280, height: 900 },
      javaScriptEnabled: opts.javaScript ?? true,
      timeout: 30_000,
    })
  } catch (e) {
    remove()
    throw e
  }
  // removed once the browser process has gone: Chromium writes its profile until it exits, so
  // removing it on the context's "close" event left a re-created folder behind
  const close = ctx.close.bind(ctx)
  ctx.close = async (options) => {
    try {
      await close(options)
    } finally {
      remove()
    }
  }
  return ctx
}

/**
 * A new page of `ctx` whose every request `allow` does not accept is aborted and listed in
 * `log.blocked` (the page must need nothing from elsewhere), with console errors and uncaught page
 * errors in `log.consoleErrors`, and every request in `log.requests` when given.
 */
export async function guardedPage(ctx: BrowserContext, allow: (url: string) => boolean, log: { blocked: string[]; consoleErrors: string[]; requests?: string[] }): Promise<Page> {
  await ctx.route("**/*", (route) => {
    const url = route.request().url()
    log.requests?.push(url)
    if (allow(url)) return route.continue()
    log.blocked.push(url)
    return route.abort()
  })
  const page = await ctx.newPage()
  page.on("console", (m) => {
    if (m.type() === "error") log.consoleErrors.push(m.text())
  })
  page.on("pageerror", (e) => log.consoleErrors.push(String(e)))
  return page
}

export interface RunningUi {
  child: ChildProcess
  port: number
  url: string
}

/**
 * Start `opencode-alloy ui` in `dir` with the launch secret `token` and read the URL it prints
 * (bounded wait). The machine's git configuration is kept out: a sign-off's identity comes from the
 * test project's own repository.
 */
export async function spawnUi(dir: string, token: string, port = 0): Promise<RunningUi> {
  const child = spawn(process.execPath, [BIN, "ui", "--port", String(port), "--json"], {
    cwd: dir,
    env: { ...process.env, ALLOY_UI_TOKEN: token, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ""
    let err = ""
    const t = setTimeout(() => reject(new Error(`ui did not start in 15 s: ${err}`)), 15_000)
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString()
      const nl = out.indexOf("\n")
      if (nl >= 0) {
        clearTimeout(t)
        resolve(out.slice(0, nl))
      }
    })
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()))
    child.on("exit", (code) => {
      clearTimeout(t)
      reject(new Error(`ui exited with ${code}: ${err}`))
    })
  })
  const j = JSON.parse(line) as { url: string; port: number }
  return { child, port: j.port, url: j.url }
}

/** Stop a server started by `spawnUi` (SIGKILL after 5 s). */
export function stopUi(r: RunningUi | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!r || r.child.exitCode !== null || r.child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      r.child.kill("SIGKILL")
      resolve()
    }, 5000)
    r.child.once("exit", () => {
      clearTimeout(t)
      resolve()
    })
    r.child.kill(signal)
  })
}
