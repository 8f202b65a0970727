/**
 * Start-up: cold import of the plugin (dist/index.js) as OpenCode pays it, under Node and under
 * Bun (OpenCode runs plugins in Bun); the plugin's first call (import + AlloyPlugin(input), where
 * its code loads); the library (dist/library.js); and `opencode-alloy --help` as a whole process.
 *
 * Import rows: each sample is a fresh process that times `await import(<module>)` with a
 * high-resolution clock around it. Floor: the same runtime importing a one-line module, so the
 * ratio is the cost of our module graph. The --help rows are wall time of a whole process against a
 * cold `node -e ""`, with the CLI's code cache warm (after an untimed run) and off. Samples are interleaved so machine load hits every variant alike.
 */
import { spawnSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { CLI_PATH, CORE_URL, PLUGIN_URL, REPO_ROOT, fmtTime, median, nowNs, percentile, tempDir } from "./lib.mjs"

const TIMER = (url) => `const t = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String((performance.now() - t) * 1000))`
const TIMER_INIT = (url) =>
  `const t = performance.now(); const m = await import(${JSON.stringify(url)}); await m.default({ client: { app: { log: async () => ({}) } }, directory: process.cwd(), worktree: process.cwd() }, { hooks: true, skills: false }); process.stdout.write(String((performance.now() - t) * 1000))`

/**
 * Bun from the dev dependency, when it runs here. npm runs no install script it has not been told
 * to (package.json `allowScripts`, where bun's is off), so `.bin/bun` is only a stub that asks
 * for its postinstall; the platform package it would have linked holds the real binary.
 */
function bunPath() {
  const candidates = [path.join(REPO_ROOT, "node_modules", ".bin", "bun"), path.join(REPO_ROOT, "node_modules", "@oven", `bun-${process.platform}-${process.arch}`, "bin", "bun")]
  for (const p of candidates) {
    if (!existsSync(p)) continue
    const r = spawnSync(p, ["--version"], { encoding: "utf8", timeout: 20_000 })
    if (r.status === 0) return p
  }
  return undefined
}

/** One cold process of `runtime` evaluating `code` (an ES module): the microseconds it prints. */
function cold(runtime, code, cwd) {
  const args = runtime.endsWith("bun") ? ["-e", code] : ["--input-type=module", "-e", code]
  const r = spawnSync(runtime, args, { encoding: "utf8", timeout: 60_000, cwd })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`import bench: ${path.basename(runtime)} failed: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`)
  return Number(r.stdout.trim())
}

function wall(argv, env = process.env) {
  const t0 = nowNs()
  const r = spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 60_000, env })
  if (r.error || r.status !== 0) throw new Error(`import bench: node ${argv.join(" ")} failed: ${r.error ?? r.stderr}`)
  return Number(nowNs() - t0) / 1000
}

export async function run({ quick = false } = {}) {
  const runs = quick ? 3 : 15
  const t = tempDir("alloy-bench-import-")
  try {
    const trivial = path.join(t.dir, "trivial.mjs")
    writeFileSync(trivial, "export const x = 1\n")
    const trivialUrl = pathToFileURL(trivial).href
    const bun = bunPath()
    const s = { trivial: [], plugin: [], init: [], core: [], bunTrivial: [], bunPlugin: [], empty: [], help: [], helpUncached: [] }
    // one unmeasured round warms the OS file cache, so "cold" means a cold process, not a cold disk
    cold(process.execPath, TIMER(PLUGIN_URL))
    cold(process.execPath, TIMER_INIT(PLUGIN_URL), t.dir)
    if (bun) cold(bun, TIMER(PLUGIN_URL))
    wall([CLI_PATH, "--help"])
    for (let i = 0; i < runs; i++) {
      s.trivial.push(cold(process.execPath, TIMER(trivialUrl)))
      s.plugin.push(cold(process.execPath, TIMER(PLUGIN_URL)))
      s.init.push(cold(process.execPath, TIMER_INIT(PLUGIN_URL), t.dir))
      s.core.push(cold(process.execPath, TIMER(CORE_URL)))
      if (bun) {
        s.bunTrivial.push(cold(bun, TIMER(trivialUrl)))
        s.bunPlugin.push(cold(bun, TIMER(PLUGIN_URL)))
      }
      s.empty.push(wall(["-e", ""]))
      s.help.push(wall([CLI_PATH, "--help"]))
      s.helpUncached.push(wall([CLI_PATH, "--help"], { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1" }))
    }
    const row = (name, xs, floorXs, target, floorName) => ({
      name,
      median_us: median(xs),
      p95_us: percentile(xs, 95),
      floor_us: median(floorXs),
      ratio: median(xs) / median(floorXs),
      target,
      note: `${runs} cold processes; floor: ${floorName}; difference ${fmtTime(median(xs) - median(floorXs))}`,
    })
    const rows = [
      row("plugin cold import, Node (dist/index.js)", s.plugin, s.trivial, "≤ 5x", "importing a one-line module"),
      bun
        ? row("plugin cold import, Bun (dist/index.js)", s.bunPlugin, s.bunTrivial, "≤ 5x", "Bun importing a one-line module")
        : {
            name: "plugin cold import, Bun",
            verdict: "-",
            target: "≤ 5x",
            note: "not measured: Bun does not run here (neither node_modules/.bin/bun nor the binary of the platform package @oven/bun-<os>-<arch>, which the dev dependency bun installs)",
          },
      row("plugin import + first call, Node (AlloyPlugin(input))", s.init, s.trivial, "info", "importing a one-line module"),
      row("library cold import (dist/library.js)", s.core, s.trivial, "info", "importing a one-line module"),
      row("`opencode-alloy --help`, whole process", s.help, s.empty, "≤ 1.5x", 'a cold `node -e ""`'),
      row("`opencode-alloy --help`, code cache off", s.helpUncached, s.empty, "info", 'a cold `node -e ""` (NODE_DISABLE_COMPILE_CACHE=1: the first run after an install)'),
    ]
    return rows
  } finally {
    t.cleanup()
  }
}
