/**
 * Cold import time of the plugin (dist/index.js), as OpenCode pays it at start-up, and of the
 * library (dist/library.js), as every CLI run pays it.
 *
 * Each sample is a fresh `node` process that times `await import(<module>)` with
 * process.hrtime.bigint() around it and prints the nanoseconds. Floor: the same process
 * importing a trivial module (an ES module that exports one constant), so the ratio and the
 * difference are the cost of loading our module graph (and its dependencies: zod, yaml, ...).
 * A second row compares whole-process wall time against a cold `node -e ""`.
 */
import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { CORE_URL, PLUGIN_URL, fmtTime, median, nowNs, percentile, tempDir } from "./lib.mjs"

const TIMER = (url) =>
  `const t = process.hrtime.bigint(); await import(${JSON.stringify(url)}); process.stdout.write(String(process.hrtime.bigint() - t))`

/** One cold process importing `url`: { import_us, wall_us }. */
function coldImport(url) {
  const t0 = nowNs()
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", TIMER(url)], { encoding: "utf8", timeout: 30_000 })
  const wall_us = Number(nowNs() - t0) / 1000
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`import bench: importing ${url} failed: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`)
  return { import_us: Number(r.stdout.trim()) / 1000, wall_us }
}

function coldEmpty() {
  const t0 = nowNs()
  const r = spawnSync(process.execPath, ["-e", ""], { encoding: "utf8", timeout: 30_000 })
  if (r.error || r.status !== 0) throw new Error(`import bench: \`node -e ""\` failed: ${r.error ?? r.stderr}`)
  return Number(nowNs() - t0) / 1000
}

export async function run({ quick = false } = {}) {
  const runs = quick ? 3 : 15
  const t = tempDir("alloy-bench-import-")
  try {
    const trivial = path.join(t.dir, "trivial.mjs")
    writeFileSync(trivial, "export const x = 1\n")
    const trivialUrl = pathToFileURL(trivial).href
    const samples = { trivial: [], plugin: [], core: [], empty: [], pluginWall: [] }
    // one unmeasured round warms the OS file cache for every module, so "cold" means a cold
    // process (no V8 code cache, no module cache), not a cold disk
    coldImport(PLUGIN_URL)
    coldImport(CORE_URL)
    coldEmpty()
    for (let i = 0; i < runs; i++) {
      // interleaved so load on the machine hits every variant alike
      samples.trivial.push(coldImport(trivialUrl).import_us)
      const p = coldImport(PLUGIN_URL)
      samples.plugin.push(p.import_us)
      samples.pluginWall.push(p.wall_us)
      samples.core.push(coldImport(CORE_URL).import_us)
      samples.empty.push(coldEmpty())
    }
    const floor = median(samples.trivial)
    const row = (name, xs, target, extra = "") => ({
      name,
      median_us: median(xs),
      p95_us: percentile(xs, 95),
      floor_us: floor,
      ratio: median(xs) / floor,
      target,
      note: `${runs} cold processes; floor: importing a one-line module; difference ${fmtTime(median(xs) - floor)}${extra}`,
    })
    const wall = median(samples.pluginWall)
    const empty = median(samples.empty)
    return [
      row("plugin cold import (dist/index.js)", samples.plugin, "≤ 150 ms"),
      row("library cold import (dist/library.js)", samples.core, "info"),
      {
        name: "node process + plugin import, wall",
        median_us: wall,
        p95_us: percentile(samples.pluginWall, 95),
        floor_us: empty,
        ratio: wall / empty,
        target: "info",
        note: `${runs} cold processes; floor: a cold \`node -e ""\`; difference ${fmtTime(wall - empty)}`,
      },
    ]
  } finally {
    t.cleanup()
  }
}
