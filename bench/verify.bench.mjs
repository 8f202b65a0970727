/**
 * `verify` over 1 000 pinned cycles: the CI gate.
 *
 * Two projects, each with 1 000 extra cycle files (copies of the example cycle) carrying a pin:
 *  - shared:   every cycle pins the one real build of the brief (the common case: one brief, many cycles);
 *  - distinct: every cycle pins its own valid build (1 000 distinct objects, each parsed and
 *              schema-checked: more than the in-process parse cache holds).
 *
 * in-process: verifyAllPins(ctx) from dist/core (a fresh context each call, as a CLI run has).
 *             floor = read + sha256 of every cycle file and of every object they pin.
 * CLI:        `node dist/cli/opencode-alloy.cjs verify --json` as a child process, after one untimed run (the
 *             CLI's code cache warm, as on every run after the first; see src/cli/launch.ts), and
 *             for the distinct objects also with the code cache off (NODE_DISABLE_COMPILE_CACHE).
 *             floor = a child `node` that reads + hashes the same files (process start included).
 * peer:       `openspec validate --all --json` over an OpenSpec tree of 1 000 specs (one requirement
 *             and one scenario each), run alternately with the CLI on the same machine; the dev
 *             dependency @fission-ai/openspec is used for this comparison only.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { createHash } from "node:crypto"
import path from "node:path"
import { CLI_PATH, REPO_ROOT, makeBenchProject, measurePair, median, nowNs, objectsDir, pairRow, percentile, timing, writeBundleVariants, writePinnedCycles } from "./lib.mjs"

const CYCLES = 1000

/** "0.51x–0.74x": the lowest and highest of some ratios. */
const spread = (ratios) => `${Math.min(...ratios).toFixed(2)}x–${Math.max(...ratios).toFixed(2)}x`

/** Every file verify must read: cycle and flow files, and the object each pin names (once per pin). */
function floorFiles(dir, ids, digestFor) {
  const files = []
  for (let i = 0; i < ids.length; i++) {
    files.push(path.join(dir, "foundry", "cycles", `${ids[i]}.md`))
    files.push(path.join(objectsDir(dir), `${digestFor(i).slice("sha256:".length)}.json`))
  }
  return files
}

function readAndHashAll(files) {
  let n = 0
  for (const f of files) n += createHash("sha256").update(readFileSync(f)).digest()[0]
  return n
}

/** A child process that reads + hashes the same files: the floor for the CLI run. */
const FLOOR_SCRIPT = `
const { readFileSync } = require("node:fs"); const { createHash } = require("node:crypto")
const files = JSON.parse(readFileSync(process.argv[1], "utf8")); let n = 0
for (const f of files) n += createHash("sha256").update(readFileSync(f)).digest()[0]
process.stdout.write(String(n))
`

const OPENSPEC = path.join(REPO_ROOT, "node_modules", "@fission-ai", "openspec", "bin", "openspec.js")

/** An OpenSpec project with `n` valid specs, the size of the Alloy project verify checks. */
function writeOpenSpecTree(root, n) {
  for (let i = 0; i < n; i++) {
    const d = path.join(root, "openspec", "specs", `item-${i}`)
    mkdirSync(d, { recursive: true })
    writeFileSync(
      path.join(d, "spec.md"),
      `# item-${i} Specification\n\n## Purpose\nRelease note ${i} tells a shopper what changed for them and what, if anything, they have to do.\n\n` +
        `## Requirements\n### Requirement: Word limit\nThe note SHALL be at most 150 words, title included.\n\n` +
        `#### Scenario: A short note\n- **WHEN** a note of 120 words is written\n- **THEN** it passes the word limit\n`,
    )
  }
}

function timeChild(args, cwd, env = process.env) {
  const t0 = nowNs()
  const r = spawnSync(process.execPath, args, { cwd, env, encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 })
  const us = Number(nowNs() - t0) / 1000
  if (r.error) throw r.error
  return { us, status: r.status, stdout: r.stdout, stderr: r.stderr }
}

async function scenario(kind, quick) {
  const p = await makeBenchProject({ prefix: `alloy-bench-verify-${kind}-` })
  try {
    const { core, dir, briefId, digest, bundle } = p
    const digests = kind === "shared" ? [digest] : writeBundleVariants(core, dir, bundle, CYCLES)
    const digestFor = (i) => digests[i % digests.length]
    const ids = writePinnedCycles(dir, CYCLES, (i) => ({ brief_id: briefId, digest: digestFor(i) }))
    const files = floorFiles(dir, ids, digestFor)

    const report = core.verifyAllPins(new core.AlloyContext(dir))
    if (!report.ok || report.checked < CYCLES) {
      throw new Error(`verify bench (${kind}): expected ${CYCLES}+ passing pins, got ${report.checked} checked, ${report.failed} failed`)
    }
    const checked = report.checked
    const rows = []
    const pair = measurePair(
      () => readAndHashAll(files),
      () => core.verifyAllPins(new core.AlloyContext(dir)),
      timing(quick, quick ? { batch: 1, samples: 2, minSamples: 2, warmup: 1, maxMs: 2000 } : { batch: 1, samples: 15, minSamples: 5, warmup: 2, maxMs: 15_000 }),
    )
    rows.push(
      pairRow(`verify in-process, ${CYCLES} cycles, ${kind === "shared" ? "1 shared object" : `${CYCLES} distinct objects`}`, pair, {
        target: "info",
        note: `${checked} pins checked; floor: read + sha256 of ${files.length} files (cycles + pinned objects)`,
      }),
    )

    // the CLI as CI runs it: cold process, --json
    const listFile = path.join(dir, "..", "floor-files.json")
    writeFileSync(listFile, JSON.stringify(files))
    const runs = quick ? 1 : 9
    const cli = []
    const uncached = []
    const floor = []
    const peer = []
    const checkCli = (c) => {
      if (c.status !== 0) throw new Error(`verify bench: \`verify --json\` exited ${c.status}: ${c.stderr || c.stdout.slice(0, 500)}`)
      const out = JSON.parse(c.stdout)
      if (out.ok !== true) throw new Error(`verify bench: \`verify --json\` did not report ok: ${c.stdout.slice(0, 500)}`)
      return c.us
    }
    const noCache = { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1" }
    // OpenSpec's telemetry and version check would reach out to the network: its own switches keep it
    // local (runs here measured the same with and without them)
    const peerEnv = { ...process.env, DO_NOT_TRACK: "1", OPENSPEC_TELEMETRY: "0" }
    checkCli(timeChild([CLI_PATH, "verify", "--json"], dir))
    const peerDir = path.join(dir, "..", "openspec-peer")
    const withPeer = kind === "distinct" && existsSync(OPENSPEC)
    if (withPeer) {
      writeOpenSpecTree(peerDir, CYCLES)
      const warm = timeChild([OPENSPEC, "validate", "--all", "--json", "--no-interactive"], peerDir, peerEnv)
      const items = warm.status === 0 ? JSON.parse(warm.stdout)?.summary?.totals?.passed : undefined
      if (items !== CYCLES) throw new Error(`verify bench: openspec validated ${items} of ${CYCLES} items: ${warm.stderr.slice(0, 300)}`)
    }
    for (let i = 0; i < runs; i++) {
      if (withPeer) peer.push(timeChild([OPENSPEC, "validate", "--all", "--json", "--no-interactive"], peerDir, peerEnv).us)
      const f = timeChild(["-e", FLOOR_SCRIPT, listFile], dir)
      if (f.status !== 0) throw new Error(`verify bench: floor process failed: ${f.stderr}`)
      floor.push(f.us)
      cli.push(checkCli(timeChild([CLI_PATH, "verify", "--json"], dir)))
      if (kind === "distinct") uncached.push(checkCli(timeChild([CLI_PATH, "verify", "--json"], dir, noCache)))
    }
    rows.push({
      name: `verify CLI --json, ${CYCLES} cycles, ${kind === "shared" ? "1 shared object" : `${CYCLES} distinct objects`}`,
      median_us: median(cli),
      p95_us: percentile(cli, 95),
      floor_us: median(floor),
      ratio: median(cli) / median(floor),
      target: kind === "shared" ? "≤ 1000 ms" : "≤ 4x",
      note: `${runs} cold run(s); floor: a node process reading + hashing the same ${files.length} files`,
    })
    if (kind === "distinct") {
      rows.push({
        name: `verify CLI --json, ${CYCLES} distinct objects, code cache off`,
        median_us: median(uncached),
        p95_us: percentile(uncached, 95),
        floor_us: median(floor),
        ratio: median(uncached) / median(floor),
        target: "info",
        note: `${runs} cold run(s) with NODE_DISABLE_COMPILE_CACHE=1: what the first run after an install pays (or every run where the CLI's folder cannot be written)`,
      })
    }
    if (withPeer) {
      rows.push({
        name: `verify CLI --json vs openspec validate --all --json, ${CYCLES} items`,
        median_us: median(cli),
        p95_us: percentile(cli, 95),
        floor_us: median(peer),
        ratio: median(cli) / median(peer),
        target: "≤ 0.5x",
        // the machine's noise moves this ratio more than most changes do: the pairs' spread says how much
        note: `${runs} cold run(s) each, alternating (pair by pair ${spread(cli.map((c, i) => c / peer[i]))}); the "floor" column is OpenSpec's median over ${CYCLES} specs (one requirement and one scenario each)`,
      })
    } else if (kind === "distinct") {
      rows.push({
        name: `verify CLI --json vs openspec validate --all --json, ${CYCLES} items`,
        target: "≤ 0.5x",
        verdict: "-",
        note: "@fission-ai/openspec is not installed (npm install installs it as a dev dependency)",
      })
    }
    return rows
  } finally {
    p.cleanup()
  }
}

export async function run({ quick = false } = {}) {
  return [...(await scenario("shared", quick)), ...(await scenario("distinct", quick))]
}
