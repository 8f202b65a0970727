/**
 * Evidence at scale: `status`, `report --html` and `export` over 1,000 / 10,000 / 100,000 run records
 * (the issue's limit: linear and complete). Records are written straight into the outbox of a pinned
 * example project (a quarter of them appraise runs with feedback items citing the brief's gates, eight
 * stage runs per cycle run), then each size is measured in a fresh process (bench/records-child.mjs).
 *
 * Each row: time at that size, and the ratio to the size ten times smaller (linear = about 10x). A
 * reader that left records out would show in `records read`, which must equal the count written.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import path from "node:path"
import { BENCH_DIR, makeBenchProject, runCliMeasured } from "./lib.mjs"

const hex = (n, w = 64) => n.toString(16).padStart(w, "0")
const C32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
const ulid = (ms, n) => {
  let t = ms
  let s = ""
  for (let i = 0; i < 10; i++) {
    s = C32[t % 32] + s
    t = Math.floor(t / 32)
  }
  let r = ""
  let x = n
  for (let i = 0; i < 16; i++) {
    r = C32[x % 32] + r
    x = Math.floor(x / 32)
  }
  return s + r
}

export function writeRecords(dir, from, to, pin) {
  const recs = path.join(dir, ".alloy", "runs", "records")
  mkdirSync(recs, { recursive: true })
  const stages = ["forge", "quench", "appraise", "forge", "quench", "appraise", "human-appraise", "observe"]
  const base = Date.parse("2026-06-01T00:00:00Z")
  for (let i = from; i < to; i++) {
    const at = base + i * 1000
    const stage = stages[i % 8] === "observe" ? "observe" : `${stages[i % 8]}:draft-release-note`
    const session = `draft-release-note@${new Date(base + Math.floor(i / 8) * 8000).toISOString()}`
    const item = (n, tag, state) => ({
      id: `I${i}-${n}`,
      file: "release-notes/n.md",
      tag,
      state,
      source: "appraise:draft-release-note",
      text: "The note buries the benefit.",
      history: [{ state, stage: "appraise:draft-release-note", timestamp: new Date(at).toISOString() }],
    })
    const items = stage.startsWith("appraise") ? [item(1, "law:alloy--release-note-voice--ac-3", i % 16 === 2 ? "open" : "resolved"), item(2, "law:customer-benefit-first", "resolved")] : []
    const r = {
      $type: "alloy.run/v1",
      run_id: ulid(at, i),
      idempotency_key: hex(i + 1),
      pin,
      cycle: "draft-release-note",
      stage,
      ended_at: new Date(at).toISOString(),
      alloy_version: "bench",
      source: "import",
      session,
      feedback: { total: items.length, by_state: {}, by_tag: {}, alloy_items: items.filter((x) => x.tag.startsWith("law:alloy")), items },
      ...(stage.startsWith("quench") ? { quench: { issues: [] } } : {}),
      ...(stage === "observe" ? { artefacts: [{ path: `release-notes/n${i}.md`, state: "changed" }] } : {}),
      outcome: "ok",
    }
    writeFileSync(path.join(recs, `${r.idempotency_key}.json`), JSON.stringify(r))
  }
}

function measureOnce(dir) {
  const r = spawnSync(process.execPath, ["--max-old-space-size=4096", path.join(BENCH_DIR, "records-child.mjs"), dir], { encoding: "utf8", timeout: 600_000, maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`records bench child failed: ${(r.stderr || String(r.error)).trim().split("\n").slice(-3).join(" ")}`)
  return JSON.parse(r.stdout)
}

/**
 * `runs` fresh processes, each figure the median (peak memory: the largest). One process a size
 * made a step's ratio swing with one quick or slow run of the smaller size: export over 10,000
 * records took 0.60 s in one whole run and 0.84–1.30 s in others, which put the 10,000 → 100,000
 * step at 17.3x in that run and 7.2x–9.3x in the rest.
 */
function measure(dir, runs) {
  const all = Array.from({ length: runs }, () => measureOnce(dir))
  const med = (k) => all.map((m) => m[k]).sort((a, b) => a - b)[Math.floor(runs / 2)]
  return { ...all[0], runs, status_us: med("status_us"), html_us: med("html_us"), export_us: med("export_us"), max_rss_mib: Math.max(...all.map((m) => m.max_rss_mib)) }
}

export async function run({ quick = false } = {}) {
  const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]
  const p = await makeBenchProject({ prefix: "alloy-bench-records-" })
  const rows = []
  try {
    const pin = { brief_id: p.briefId, digest: p.digest }
    let written = 0
    const results = []
    for (const n of sizes) {
      writeRecords(p.dir, written, n, pin)
      written = n
      // the sizes below 100,000 take a second or two each: three runs there, one at 100,000
      const m = measure(p.dir, n < 100_000 ? 3 : 1)
      if (m.records !== n || m.model_records !== n) throw new Error(`records bench: wrote ${n} records, the readers read ${m.records} (model ${m.model_records})`)
      // the CLI itself, a fresh process each: the summary (the default) and every record (--full, to a file)
      const summary = runCliMeasured(p.dir, ["report", "--json"], 600_000)
      if (summary.status !== 0) throw new Error(`records bench: report --json exited ${summary.status}: ${summary.stderr.slice(0, 300)}`)
      const sj = JSON.parse(summary.stdout)
      if (sj.records !== n || sj.omitted?.records !== n) throw new Error(`records bench: report --json counted ${sj.records} of ${n} records`)
      const fullFile = path.join(p.dir, "..", "report-full.json")
      const full = runCliMeasured(p.dir, ["report", "--json", "--full"], 600_000, { stdoutFile: fullFile })
      if (full.status !== 0) throw new Error(`records bench: report --json --full exited ${full.status}: ${full.stderr.slice(0, 300)}`)
      // the OTLP export as a user runs it, printed to a file: written a span at a time
      const otelFile = path.join(p.dir, "..", "traces.json")
      const otel = runCliMeasured(p.dir, ["export", "--format", "otel"], 600_000, { stdoutFile: otelFile })
      if (otel.status !== 0) throw new Error(`records bench: export --format otel exited ${otel.status}: ${otel.stderr.slice(0, 300)}`)
      results.push({
        n,
        ...m,
        json_us: summary.us,
        json_rss: summary.rssMiB,
        json_bytes: summary.bytes,
        full_us: full.us,
        full_rss: full.rssMiB,
        full_bytes: full.bytes,
        otel_us: otel.us,
        otel_rss: otel.rssMiB,
        otel_bytes: otel.bytes,
      })
    }
    for (const [i, m] of results.entries()) {
      const prev = results[i - 1]
      for (const [key, label] of [
        ["status_us", "status"],
        ["html_us", "report --html"],
        ["export_us", "export otel + in-toto"],
      ]) {
        rows.push({
          name: `${label}, ${m.n.toLocaleString("en")} records`,
          median_us: m[key],
          p95_us: m[key],
          ...(prev ? { floor_us: prev[key], ratio: m[key] / prev[key], target: "≤ 15x" } : {}),
          note: `records read ${m.records} of ${m.n}, ${m.runs === 1 ? "one fresh process" : `median of ${m.runs} fresh processes`}, peak memory ${m.max_rss_mib} MiB${prev ? ` (${(m.max_rss_mib / prev.max_rss_mib).toFixed(1)}x the ${prev.n.toLocaleString("en")}-record run); floor = the same at ${prev.n.toLocaleString("en")} records, ratio linear = 10x` : ""}`,
        })
      }
      for (const [key, label] of [
        ["json", "CLI report --json (summary)"],
        ["full", "CLI report --json --full"],
        ["otel", "CLI export --format otel"],
      ]) {
        const mib = (b) => (b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1)
        rows.push({
          name: `${label}, ${m.n.toLocaleString("en")} records`,
          median_us: m[`${key}_us`],
          p95_us: m[`${key}_us`],
          ...(prev ? { floor_us: prev[`${key}_us`], ratio: m[`${key}_us`] / prev[`${key}_us`], target: "≤ 15x" } : {}),
          note: `a fresh process: peak RSS ${m[`${key}_rss`].toFixed(0)} MiB, wrote ${mib(m[`${key}_bytes`])} MiB${prev ? ` (${prev.n.toLocaleString("en")} records: ${prev[`${key}_rss`].toFixed(0)} MiB RSS, ${mib(prev[`${key}_bytes`])} MiB written)` : ""}`,
        })
      }
    }
    return rows
  } finally {
    p.cleanup()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run({ quick: process.argv.includes("--quick") })
  for (const r of rows) process.stdout.write(`${r.name.padEnd(40)} ${(r.median_us / 1000).toFixed(1).padStart(10)} ms  ${r.ratio ? `${r.ratio.toFixed(1)}x` : "    "}  ${r.note}\n`)
}
