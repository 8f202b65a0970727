/**
 * Linear at scale: the commands a project runs over everything it holds — `brief build` of every
 * brief, `status`, `verify`, `import` of every snapshot, `report` and `report --html` — at N = 100
 * 1,000 and 10,000 (about 5 minutes of work on two cores; ALLOY_BENCH_SCALE_FULL=0 stops at 1,000) cycles,
 * intents, briefs and snapshots. Each command runs once per size as a fresh process (so start-up
 * is included), with its peak resident memory.
 *
 * Each row past the first size: time at N and the ratio to N/10. Linear is about 10x; a step above
 * 12x is flagged as missed. Every run checks that the command saw all N (no silent cap).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { CYCLE_ID, fmtTime, makeBenchProject, runCliMeasured as runCli } from "./lib.mjs"

const MAX_STEP = 12

/** 100, 1,000 and 10,000 (about 5 minutes on two cores); `--quick` 30 and 300; ALLOY_BENCH_SCALE_FULL=0 stops at 1,000. */
function sizes(quick) {
  if (quick) return [30, 300]
  return process.env.ALLOY_BENCH_SCALE_FULL === "0" ? [100, 1000] : [100, 1000, 10_000]
}

const fail = (what, r) => new Error(`scale bench: ${what} exited ${r.status}: ${(r.stderr || r.stdout).slice(0, 400)}`)

/** n intents, briefs (one intent, one cycle each) and cycles, copied from the example ones with their own ids. */
export function writeProject(dir, n) {
  const alloy = path.join(dir, ".alloy")
  const intent = readFileSync(path.join(alloy, "intents", "release-note-voice.md"), "utf8")
  const recipe = readFileSync(path.join(alloy, "briefs", "release-note-voice.md"), "utf8")
  const cycle = readFileSync(path.join(dir, "foundry", "cycles", `${CYCLE_ID}.md`), "utf8").replace(/^alloy:.*(\n[ \t]+.*)*\n/m, "")
  const ids = []
  for (let i = 0; i < n; i++) {
    const id = `scale-${String(i).padStart(5, "0")}`
    ids.push(id)
    writeFileSync(path.join(alloy, "intents", `${id}.md`), intent.replace(/^id: .*$/m, `id: ${id}`))
    writeFileSync(
      path.join(alloy, "briefs", `${id}.md`),
      recipe
        .replace(/^id: .*$/m, `id: ${id}`)
        .replace(/^intents:\n( {2}- .*\n)+/m, `intents:\n  - ${id}\n`)
        .replace(/^formation:\n( {2}.*\n)+/m, `formation:\n  cycles:\n    - ${id}\n`),
    )
    writeFileSync(path.join(dir, "foundry", "cycles", `${id}.md`), cycle.replace(/^id: .*$/m, `id: ${id}`))
  }
  return ids
}

/** Pin each brief's current build into its cycle (plain file writes, as `pin` would leave them). */
export function pinAll(dir, ids) {
  for (const id of ids) {
    const digest = readFileSync(path.join(dir, ".alloy", "refs", "briefs", id), "utf8").trim()
    const file = path.join(dir, "foundry", "cycles", `${id}.md`)
    const text = readFileSync(file, "utf8")
    writeFileSync(file, text.replace(/^---\n/, `---\nalloy:\n  brief_id: ${id}\n  digest: "${digest}"\n`))
  }
}

/** n Foundry dry-run snapshots of the example cycle, each with a forge and an appraise stage. */
export function writeSnapshots(dir, n, digest) {
  const c = CYCLE_ID
  const base = Date.parse("2026-05-01T09:00:00Z")
  for (let i = 0; i < n; i++) {
    const s = path.join(dir, ".snapshots", `dry-run-scale-${String(i).padStart(5, "0")}`)
    mkdirSync(path.join(s, "work"), { recursive: true })
    const at = (ms) => new Date(base + i * 60_000 + ms).toISOString()
    writeFileSync(
      path.join(s, "README.md"),
      `---\nbranch: dry-run/scale-${i}/release-notes\nparent: main\nflow: release-notes\ngoal: "Scale note ${i}"\nstartedAt: ${at(0)}\nfinishedAt: ${at(50_000)}\nexitReason: unknown\n---\n\n# Dry-run snapshot\n`,
    )
    writeFileSync(path.join(s, "work", "WORK.md"), `---\nflow: release-notes\ncycle: ${c}\nstages:\n  - forge:${c}\n  - appraise:${c}\nmax-iterations: 3\n---\n# Goal\n\nScale note ${i}.\n`)
    writeFileSync(
      path.join(s, "work", "WORK.history.yaml"),
      [
        `- cycle: ${c}\n  stage: forge:${c}\n  iteration: 0\n  comment: Drafted the note.\n  timestamp: "${at(10_000)}"\n  seq: 0\n  open_feedback: 0\n  changed_files: []\n  artefact_version: v1\n  contract_passed: true`,
        `- cycle: ${c}\n  stage: appraise:${c}\n  iteration: 1\n  comment: 0 issue(s) found by appraisers\n  timestamp: "${at(20_000)}"\n  seq: 1\n  open_feedback: 0\n  changed_files: []`,
      ].join("\n") + "\n",
    )
    writeFileSync(path.join(s, "work", "WORK.feedback.yaml"), "items: []\n")
    writeFileSync(
      path.join(s, "trace.jsonl"),
      `${JSON.stringify({ ts: at(5_000), tool: "foundry_config_cycle", args: { cycleId: c }, result: { frontmatter: { id: c, alloy: { brief_id: "release-note-voice", digest } }, body: "" }, duration_ms: 2 })}\n`,
    )
  }
}

/** Run every command once at size n; returns { command: { us, rssMiB, seen } }. */
async function atSize(n, timeoutMs) {
  const p = await makeBenchProject({ prefix: `alloy-bench-scale-${n}-` })
  try {
    const { dir } = p
    const ids = writeProject(dir, n)
    const out = {}
    const json = (r, what) => {
      if (r.status !== 0) throw fail(what, r)
      return JSON.parse(r.stdout)
    }
    let r = runCli(dir, ["brief", "build", ...ids, "--json"], timeoutMs)
    const built = json(r, "brief build")
    out["brief build (all)"] = { ...r, seen: Array.isArray(built) ? built.length : (built.built?.length ?? built.results?.length ?? ids.length) }
    pinAll(dir, ids)
    r = runCli(dir, ["status", "--json"], timeoutMs)
    const st = json(r, "status")
    out["status"] = { ...r, seen: st.briefs?.length ?? st.pins?.length }
    r = runCli(dir, ["verify", "--json"], timeoutMs)
    const v = JSON.parse(r.stdout)
    if (v.failed !== 0) throw fail("verify (a pin failed)", r)
    out["verify"] = { ...r, seen: v.checked }
    writeSnapshots(dir, n, p.digest)
    r = runCli(dir, ["import", "--json"], timeoutMs)
    const imp = json(r, "import")
    out["import"] = { ...r, seen: imp.sources?.length ?? imp.results?.length }
    if ((imp.sources?.length ?? imp.results?.length ?? n) < n) throw new Error(`scale bench: import saw ${imp.sources?.length ?? imp.results?.length} of ${n} snapshots`)
    r = runCli(dir, ["report", "--json"], timeoutMs)
    const rep = json(r, "report")
    const count = (v) => (Array.isArray(v) ? v.length : typeof v === "number" ? v : undefined)
    out["report"] = { ...r, seen: count(rep.records) ?? count(rep.summary?.records) }
    r = runCli(dir, ["report", "--html", path.join(dir, "..", "report.html")], timeoutMs)
    if (r.status !== 0) throw fail("report --html", r)
    out["report --html"] = { ...r, seen: undefined }
    return out
  } finally {
    p.cleanup()
  }
}

export async function run({ quick = false } = {}) {
  const ns = sizes(quick)
  const timeoutMs = 20 * 60_000
  const results = []
  for (const n of ns) results.push({ n, out: await atSize(n, timeoutMs) })
  const rows = []
  const which = `sizes ${ns.join(", ")}${ns.includes(10_000) ? "" : " (10,000 runs unless --quick or ALLOY_BENCH_SCALE_FULL=0)"}`
  for (const cmd of Object.keys(results[0].out)) {
    for (let i = 0; i < results.length; i++) {
      const { n, out } = results[i]
      const cur = out[cmd]
      const prev = i > 0 ? results[i - 1].out[cmd] : undefined
      const step = prev ? n / results[i - 1].n : undefined
      const seen = cur.seen === undefined ? "" : `, saw ${cur.seen}`
      rows.push({
        name: `scale: ${cmd}, N=${n.toLocaleString("en")}`,
        median_us: cur.us,
        ...(prev ? { floor_us: prev.us, ratio: cur.us / prev.us, target: `≤ ${MAX_STEP}x` } : { target: "info" }),
        note: `peak RSS ${cur.rssMiB.toFixed(0)} MiB${seen}${prev ? `; ${step}x more than N=${results[i - 1].n} (the floor column), ${fmtTime(prev.us)}` : `; ${which}`}`,
      })
    }
  }
  return rows
}
