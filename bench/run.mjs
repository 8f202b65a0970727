#!/usr/bin/env node
/**
 * Run every benchmark in bench/ (`bench/*.bench.mjs`), print one table of results against
 * their physical floors, the machine they ran on, and write bench/results/latest.json.
 *
 *   npm run bench                 # builds, then runs everything (minutes: the scale curve to 10,000 took 5 and the records bench 4 on two cores)
 *   npm run bench -- --quick      # fewer iterations: a smoke test
 *   npm run bench -- --only resolve,import   # only the modules whose file name contains a word
 *   npm run bench -- --strict     # exit 1 when a target is missed
 *
 * Exit code: 0, or 1 when a benchmark failed to run (or, with --strict, missed its target).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { parseArgs } from "node:util"
import { pathToFileURL } from "node:url"
import { BENCH_DIR, CORE_URL, DIST_DIR, fmtRatio, fmtTime } from "./lib.mjs"

/** Modules run in this order first (the order of the README table), then any others by name. */
const ORDER = ["resolve", "hooks", "verify", "import"]

function parse() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      only: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  })
  return values
}

function benchModules(only) {
  const words = only
    ? only
        .split(",")
        .map((w) => w.trim())
        .filter(Boolean)
    : []
  const names = readdirSync(BENCH_DIR)
    .filter((n) => n.endsWith(".bench.mjs"))
    .filter((n) => words.length === 0 || words.some((w) => n.includes(w)))
  const rank = (n) => {
    const i = ORDER.indexOf(n.slice(0, -".bench.mjs".length))
    return i === -1 ? ORDER.length : i
  }
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}

function machine() {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

function machineLine(m) {
  return `${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB RAM, Node ${m.node}, ${m.platform} (load average at start ${m.loadavg.join(" / ")})`
}

const UNIT_US = { ns: 1e-3, us: 1, µs: 1, ms: 1e3, s: 1e6 }

/** "met" | "missed" | "-" (no target, or an informational one). */
function verdict(row) {
  if (typeof row.met === "boolean") return row.met ? "met" : "missed"
  const t = row.target
  if (typeof t === "number") return ok(row.ratio, t)
  if (typeof t !== "string") return "-"
  let m = /^(?:≤|<=)\s*([\d.]+)\s*x$/i.exec(t.trim())
  if (m) return ok(row.ratio, Number(m[1]))
  m = /^(?:≤|<=)\s*([\d.]+)\s*(ns|us|µs|ms|s)$/i.exec(t.trim())
  if (m) return ok(row.median_us, Number(m[1]) * UNIT_US[m[2].toLowerCase()])
  return "-"
}

function ok(value, limit) {
  if (typeof value !== "number" || Number.isNaN(value)) return "-"
  return value <= limit ? "met" : "missed"
}

/** The results as a Markdown table (ready to paste into docs), with notes below it. */
function renderTable(rows) {
  const head = ["benchmark", "median", "p95", "floor", "ratio", "target", "verdict"]
  const body = rows.map((r) => [
    r.name,
    fmtTime(r.median_us),
    fmtTime(r.p95_us),
    fmtTime(r.floor_us),
    fmtRatio(r.ratio),
    r.target === undefined ? "-" : typeof r.target === "number" ? `≤ ${r.target}x` : String(r.target),
    r.verdict,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const right = [false, true, true, true, true, false, false]
  const line = (cells) => `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`
  const sep = `|${widths.map((w, i) => (right[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`)
  return [line(head), sep, ...body.map(line), "", ...notes].join("\n")
}

async function main() {
  const opts = parse()
  if (opts.help) {
    process.stdout.write("usage: node bench/run.mjs [--quick] [--only word,word] [--strict]\n")
    return 0
  }
  if (!existsSync(path.join(DIST_DIR, "library.js"))) {
    process.stderr.write("bench: dist/ is missing; run `npm run build` first (or `npm run bench`, which builds)\n")
    return 1
  }
  await import(CORE_URL) // fail early, with the real error, when dist/ is broken
  const files = benchModules(opts.only)
  if (files.length === 0) {
    process.stderr.write(`bench: no bench/*.bench.mjs matches --only ${opts.only}\n`)
    return 1
  }
  const m = machine()
  if (m.loadavg[0] > m.cores * 0.5) {
    process.stderr.write(`bench: warning: the machine is busy (load average ${m.loadavg[0]} on ${m.cores} cores); the numbers will be noisy\n`)
  }
  const started = Date.now()
  const rows = []
  const errors = []
  for (const f of files) {
    const t0 = Date.now()
    process.stderr.write(`bench: ${f}${opts.quick ? " (quick)" : ""} ...`)
    try {
      const mod = await import(pathToFileURL(path.join(BENCH_DIR, f)).href)
      if (typeof mod.run !== "function") throw new Error(`${f} does not export run(opts)`)
      const out = await mod.run({ quick: opts.quick })
      if (!Array.isArray(out)) throw new Error(`${f}: run() did not return an array of rows`)
      for (const r of out) rows.push({ module: f, ...r, verdict: verdict(r) })
      process.stderr.write(` ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
    } catch (e) {
      process.stderr.write(` FAILED\n`)
      const message = e instanceof Error ? e.message : String(e)
      errors.push({ module: f, error: message })
      rows.push({ module: f, name: `${f}: failed to run`, verdict: "error", note: message })
    }
  }
  const elapsed_s = Math.round((Date.now() - started) / 100) / 10
  const table = renderTable(rows)
  process.stdout.write(`\n${table}\n\nMachine: ${machineLine(m)}\n`)
  if (m.loadavg[0] > m.cores * 0.5) process.stdout.write(`Warning: the machine was busy when the run started (load average ${m.loadavg[0]} on ${m.cores} cores).\n`)
  process.stdout.write(`${opts.quick ? "Quick run (fewer iterations; a smoke test, not a measurement)" : "Full run"}, ${elapsed_s} s.\n`)

  const missed = rows.filter((r) => r.verdict === "missed")
  if (missed.length) process.stdout.write(`Missed targets: ${missed.map((r) => r.name).join("; ")}\n`)
  if (errors.length) process.stdout.write(`Failed: ${errors.map((e) => `${e.module} (${e.error})`).join("; ")}\n`)

  const dir = path.join(BENCH_DIR, "results")
  mkdirSync(dir, { recursive: true })
  const result = { taken_at: new Date().toISOString(), quick: opts.quick, elapsed_s, machine: m, rows, errors, table }
  writeFileSync(path.join(dir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`)
  process.stdout.write(`Results written to bench/results/latest.json\n`)
  return errors.length > 0 || (opts.strict && missed.length > 0) ? 1 : 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exitCode = 1
  },
)
