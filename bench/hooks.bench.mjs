/**
 * Cost of the plugin's tool hooks (dist/index.js, the built plugin as OpenCode loads it).
 *
 * non-Foundry call  = `await hooks["tool.execute.after"]({tool: "bash", ...}, output)`: what every
 *                     tool call in a session pays. Floor: awaiting an empty async function.
 * pinned dispatch   = the after-hook on a recorded `foundry_orchestrate` forge dispatch of a pinned
 *                     cycle, warm (pin and rendered block cached; the object's bytes are still read
 *                     and hashed on every call, and a `dispatch` event is appended). Floor: read +
 *                     sha256 of the object, plus JSON.parse + JSON.stringify of the result.
 * stage-end export  = before-hook (reads .foundry/active-stage.json) + after-hook (reads
 *                     last-stage.json, summarises WORK.feedback.yaml, writes the record atomically,
 *                     appends the event) for a new stage run each time. Floor: parsing the same
 *                     WORK.feedback.yaml with js-yaml (the summary cannot avoid it).
 *
 * Standalone: `node bench/hooks.bench.mjs [--quick]` prints the rows as a table (after `npm run build`).
 */
import { createHash } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { PLUGIN_URL, REPO_ROOT, fmtRatio, fmtTime, makeBenchProject, measureAsync, median, nowNs, percentile, readAndHash, timing } from "./lib.mjs"

const RECORDED = path.join(REPO_ROOT, "examples", "acme-shop", "orchestrate-results", "dispatch.forge.json")

/** A WORK.feedback.yaml of `n` items in the layout Foundry's js-yaml dump writes (CONTRACTS §3.2). */
export function feedbackYaml(n) {
  const lines = ["items:"]
  for (let i = 0; i < n; i++) {
    const alloy = i % 4 === 0
    const tag = alloy ? `law:alloy--release-note-voice--ac-${(i % 3) + 2}` : i % 4 === 1 ? "law:word-limit:count-words" : "law:customer-benefit-first"
    const resolved = i % 2 === 0
    lines.push(
      `  - id: 01KSF9HJJPKJHQQYVC7C${String(i).padStart(6, "0")}`,
      "    file: release-notes/2026-05-checkout-redesign.md",
      `    tag: ${tag}`,
      `    text: Item ${i} — the opening sentence describes the page layout change; lead with what the shopper gains before explaining how.`,
      "    source: appraise:draft-release-note",
      "    history:",
      ...(resolved
        ? [
            "      - state: resolved",
            "        stage: sort",
            "        cycle: draft-release-note",
            "        timestamp: '2026-05-25T10:03:11.225Z'",
            "        reason: superseded by forge revision 6f29217821c9a24866bfcc8c917569c2a28e1266f6f6b3181c8b237feb2f9567",
          ]
        : []),
      "      - state: open",
      "        stage: appraise:draft-release-note",
      "        cycle: draft-release-note",
      "        timestamp: '2026-05-25T10:05:32.669Z'",
      "    artefact_version: 6f29217821c9a24866bfcc8c917569c2a28e1266f6f6b3181c8b237feb2f9567",
    )
  }
  return `${lines.join("\n")}\n`
}

async function loadHooks(dir) {
  const { AlloyPlugin } = await import(PLUGIN_URL)
  const client = { app: { log: async () => true } }
  const hooks = await AlloyPlugin({ directory: dir, worktree: dir, client }, { hooks: true })
  return { before: hooks["tool.execute.before"], after: hooks["tool.execute.after"] }
}

/** Time `fn` once per sample, `setup` (untimed) before each; bounded by `samples` and `maxMs`. */
async function sampled(setup, fn, { samples, maxMs, warmup }) {
  for (let i = 0; i < warmup; i++) {
    setup(i)
    await fn(i)
  }
  const out = []
  const end = Date.now() + maxMs
  for (let i = warmup; out.length < samples && (out.length < 5 || Date.now() < end); i++) {
    setup(i)
    const t0 = nowNs()
    await fn(i)
    out.push(Number(nowNs() - t0) / 1000)
  }
  return { median_us: median(out), p95_us: percentile(out, 95), n: out.length }
}

export async function run({ quick = false } = {}) {
  const rows = []
  const p = await makeBenchProject({ prefix: "alloy-bench-hooks-" })
  try {
    const { before, after } = await loadHooks(p.dir)
    const t = timing(quick)

    // 1. a non-Foundry tool call
    const input = { tool: "bash", sessionID: "ses_bench", callID: "call_bench", args: { command: "ls" } }
    const out = { title: "ls", output: "README.md\nfoundry\n", metadata: {} }
    const noop = async () => {}
    const floor = await measureAsync(() => noop(input, out), { ...t, minSampleUs: 200 })
    const subject = await measureAsync(() => after(input, out), { ...t, minSampleUs: 200 })
    const both = await measureAsync(
      async () => {
        await before(input, out)
        await after(input, out)
      },
      { ...t, minSampleUs: 200 },
    )
    if (out.output !== "README.md\nfoundry\n") throw new Error("hooks bench: a non-Foundry result was changed")
    rows.push({
      name: "hook overhead, non-Foundry tool call (after)",
      median_us: subject.median_us,
      p95_us: subject.p95_us,
      floor_us: floor.median_us,
      ratio: subject.median_us / floor.median_us,
      target: "≤ 5 us",
      note: `floor: awaiting an empty async function; batches of ${subject.batch} calls; before + after together: ${fmtTime(both.median_us)}`,
    })

    // 2. pinned dispatch, warm cache
    const dispatchText = JSON.stringify(JSON.parse(readFileSync(RECORDED, "utf8")))
    const orchestrate = { tool: "foundry_orchestrate", sessionID: "ses_bench", callID: "call_orch", args: {} }
    const first = { title: "", output: dispatchText, metadata: {} }
    await after(orchestrate, first)
    const injected = JSON.parse(first.output)
    if (!injected.alloy || injected.alloy.digest !== p.digest || !injected.prompt.includes("## Alloy")) {
      throw new Error(`hooks bench: the pinned dispatch was not injected: ${first.output.slice(0, 300)}`)
    }
    const dispatchFloor = await measureAsync(
      () => {
        readAndHash(p.objectPath)
        return JSON.stringify({ ...JSON.parse(dispatchText), extra: true })
      },
      { ...t, maxMs: quick ? 250 : 1500 },
    )
    const dispatch = await measureAsync(() => after(orchestrate, { title: "", output: dispatchText, metadata: {} }), { ...t, maxMs: quick ? 250 : 1500 })
    rows.push({
      name: "pinned dispatch injection, warm cache",
      median_us: dispatch.median_us,
      p95_us: dispatch.p95_us,
      floor_us: dispatchFloor.median_us,
      ratio: dispatch.median_us / dispatchFloor.median_us,
      target: "≤ 2 ms",
      note: "verifies the object bytes every call, appends a dispatch event; floor: read + sha256 of the object + JSON parse/stringify of the result",
    })

    // 3. stage-end export with a 1,000-item (and the sample's 2-item) WORK.feedback.yaml
    const feedbackFile = path.join(p.dir, "WORK.feedback.yaml")
    const sampleFeedback = readFileSync(feedbackFile, "utf8")
    const activeFile = path.join(p.dir, ".foundry", "active-stage.json")
    const lastFile = path.join(p.dir, ".foundry", "last-stage.json")
    const stageEnd = { tool: "foundry_stage_end", sessionID: "ses_bench", args: { summary: "bench" } }
    const endText = JSON.stringify({ ok: true, summary: "bench" })
    let round = 0
    const setupStage = (i) => {
      const tokenHash = createHash("sha256").update(`bench-${round}-${i}`).digest("hex")
      const active = { cycle: p.cycle, stage: `forge:${p.cycle}`, tokenHash, baseSha: "4e1f0c9b7a2d3e5f60718293a4b5c6d7e8f90a1b", startedAt: new Date().toISOString() }
      writeFileSync(activeFile, JSON.stringify(active))
      writeFileSync(lastFile, JSON.stringify({ cycle: active.cycle, stage: active.stage, baseSha: active.baseSha, summary: "bench" }))
    }
    const exportOnce = async (i) => {
      const callID = `call_end_${round}_${i}`
      await before({ ...stageEnd, callID }, { args: stageEnd.args })
      const o = { title: "", output: endText, metadata: {} }
      await after({ ...stageEnd, callID }, o)
      if (o.output !== endText) throw new Error("hooks bench: stage_end's output changed")
    }
    const require = createRequire(pathToFileURL(path.join(REPO_ROOT, "package.json")))
    const jsyaml = require("js-yaml")
    for (const [label, text, samples] of [
      ["1,000-item", feedbackYaml(1000), quick ? 3 : 15],
      ["2-item (sample)", sampleFeedback, quick ? 10 : 200],
    ]) {
      round++
      writeFileSync(feedbackFile, text)
      const parseFloor = await sampled(
        () => {},
        () => jsyaml.load(readFileSync(feedbackFile, "utf8"), { schema: jsyaml.CORE_SCHEMA }),
        { samples, maxMs: quick ? 2000 : 20_000, warmup: 2 },
      )
      const exp = await sampled(setupStage, exportOnce, { samples, maxMs: quick ? 2000 : 20_000, warmup: 2 })
      rows.push({
        name: `stage-end export, ${label} WORK.feedback.yaml`,
        median_us: exp.median_us,
        p95_us: exp.p95_us,
        floor_us: parseFloor.median_us,
        ratio: exp.median_us / parseFloor.median_us,
        target: "info",
        note: `${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB of YAML, ${exp.n} runs; floor: reading the file and parsing it with js-yaml`,
      })
    }
    writeFileSync(feedbackFile, sampleFeedback)
  } finally {
    p.cleanup()
  }
  return rows
}

function printTable(rows) {
  const head = ["benchmark", "median", "p95", "floor", "ratio", "target"]
  const body = rows.map((r) => [r.name, fmtTime(r.median_us), fmtTime(r.p95_us), fmtTime(r.floor_us), fmtRatio(r.ratio), r.target ?? "-"])
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)))
  const line = (c) => `| ${c.map((x, i) => String(x).padEnd(w[i])).join(" | ")} |`
  process.stdout.write(`${[line(head), `|${w.map((n) => "-".repeat(n + 2)).join("|")}|`, ...body.map(line)].join("\n")}\n\n`)
  for (const r of rows) if (r.note) process.stdout.write(`- ${r.name}: ${r.note}\n`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  run({ quick: process.argv.includes("--quick") }).then(printTable, (e) => {
    process.stderr.write(`hooks bench: ${e instanceof Error ? e.stack : String(e)}\n`)
    process.exitCode = 1
  })
}
