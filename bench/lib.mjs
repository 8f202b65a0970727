/**
 * Shared helpers for the benchmarks in bench/: timing (warm-up, median and p95 over samples,
 * bounded by a sample count AND wall time), paired floor/subject measurement, and temporary
 * Foundry projects with a real built + pinned brief and N objects in the store.
 *
 * Benchmarks use the BUILT package (dist/), so run `npm run build` first (`npm run bench` does).
 *
 * A bench module (`bench/<name>.bench.mjs`) exports `async function run(opts)` where opts is
 * `{ quick: boolean }` and returns rows:
 *   { name, median_us, p95_us?, floor_us?, ratio?, target?, note? }
 * `target` is a number (largest acceptable ratio) or a string: "≤ 2x" / "<= 2x" (ratio),
 * "≤ 50 ms" / "≤ 300 us" (absolute median); any other string is informational (no verdict).
 */
import { spawnSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
export const REPO_ROOT = path.resolve(BENCH_DIR, "..")
export const DIST_DIR = path.join(REPO_ROOT, "dist")
export const CORE_URL = pathToFileURL(path.join(DIST_DIR, "library.js")).href
export const PLUGIN_URL = pathToFileURL(path.join(DIST_DIR, "index.js")).href
export const CLI_PATH = path.join(DIST_DIR, "cli", "opencode-alloy.cjs")
export const EXAMPLE_PROJECT_URL = pathToFileURL(path.join(DIST_DIR, "demo", "example-project.js")).href
export const BRIEF_ID = "release-note-voice"
export const CYCLE_ID = "draft-release-note"

/** The library API from dist/core (loaded lazily so importing lib.mjs stays cheap). */
export async function core() {
  return import(CORE_URL)
}

// ---- timing ------------------------------------------------------------------------------

/** Monotonic clock in nanoseconds (bigint). */
export const nowNs = () => process.hrtime.bigint()

export function median(xs) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))
  return s[i]
}

function summarize(samples) {
  return { median_us: median(samples), p95_us: percentile(samples, 95), n: samples.length, samples }
}

/** Time `batch` calls of a sync function; returns µs per call. */
function sampleSync(fn, batch) {
  const t0 = nowNs()
  for (let i = 0; i < batch; i++) fn()
  return Number(nowNs() - t0) / 1000 / batch
}

async function sampleAsync(fn, batch) {
  const t0 = nowNs()
  for (let i = 0; i < batch; i++) await fn()
  return Number(nowNs() - t0) / 1000 / batch
}

/** Calls per sample so one sample lasts at least `minSampleUs` (short operations are batched). */
function calibrate(perCallUs, minSampleUs) {
  if (!(perCallUs > 0)) return 1
  return Math.max(1, Math.min(10_000, Math.ceil(minSampleUs / perCallUs)))
}

const DEFAULTS = { warmup: 200, warmupMs: 300, samples: 3000, maxMs: 2000, minSampleUs: 20, minSamples: 5 }
const QUICK_DEFAULTS = { warmup: 20, warmupMs: 50, samples: 60, maxMs: 250, minSampleUs: 20, minSamples: 5 }

/** Default timing options, reduced when `quick`. Any field may be overridden. */
export function timing(quick, over = {}) {
  return { ...(quick ? QUICK_DEFAULTS : DEFAULTS), ...over }
}

/**
 * Measure a synchronous function: warm up (`warmup` calls or `warmupMs`, whichever ends
 * first), then take up to `samples` samples, stopping early after `maxMs` of wall time (but
 * never with fewer than `minSamples`). Returns µs per call: { median_us, p95_us, n, batch }.
 */
export function measure(fn, opts = {}) {
  const o = { ...DEFAULTS, ...opts }
  const wEnd = nowNs() + BigInt(Math.round(o.warmupMs * 1e6))
  for (let i = 0; i < o.warmup && nowNs() < wEnd; i++) fn()
  const batch = o.batch ?? calibrate(sampleSync(fn, 3), o.minSampleUs)
  const samples = []
  const end = nowNs() + BigInt(Math.round(o.maxMs * 1e6))
  while (samples.length < o.samples && (samples.length < o.minSamples || nowNs() < end)) samples.push(sampleSync(fn, batch))
  return { ...summarize(samples), batch }
}

/** `measure` for an async function (each call awaited before the next). */
export async function measureAsync(fn, opts = {}) {
  const o = { ...DEFAULTS, ...opts }
  const wEnd = nowNs() + BigInt(Math.round(o.warmupMs * 1e6))
  for (let i = 0; i < o.warmup && nowNs() < wEnd; i++) await fn()
  const batch = o.batch ?? calibrate(await sampleAsync(fn, 3), o.minSampleUs)
  const samples = []
  const end = nowNs() + BigInt(Math.round(o.maxMs * 1e6))
  while (samples.length < o.samples && (samples.length < o.minSamples || nowNs() < end)) samples.push(await sampleAsync(fn, batch))
  return { ...summarize(samples), batch }
}

/**
 * Measure a floor and a subject INTERLEAVED (floor sample, subject sample, floor sample...),
 * so drift in CPU frequency, page cache or GC pressure hits both alike. Both are warmed up
 * first. Returns { floor, subject, ratio } with ratio = subject median / floor median.
 */
export function measurePair(floorFn, subjectFn, opts = {}) {
  const o = { ...DEFAULTS, ...opts }
  const wEnd = nowNs() + BigInt(Math.round(o.warmupMs * 1e6))
  for (let i = 0; i < o.warmup && nowNs() < wEnd; i++) {
    floorFn()
    subjectFn()
  }
  const fb = o.batch ?? calibrate(sampleSync(floorFn, 3), o.minSampleUs)
  const sb = o.batch ?? calibrate(sampleSync(subjectFn, 3), o.minSampleUs)
  const fs = []
  const ss = []
  const end = nowNs() + BigInt(Math.round(o.maxMs * 1e6))
  while (fs.length < o.samples && (fs.length < o.minSamples || nowNs() < end)) {
    fs.push(sampleSync(floorFn, fb))
    ss.push(sampleSync(subjectFn, sb))
  }
  const floor = { ...summarize(fs), batch: fb }
  const subject = { ...summarize(ss), batch: sb }
  return { floor, subject, ratio: subject.median_us / floor.median_us }
}

/**
 * Pool several paired measurements of the same thing (e.g. taken in rounds, alternating with
 * other cases so that order effects cancel out) into one.
 */
export function mergePairs(pairs) {
  const floor = summarize(pairs.flatMap((p) => p.floor.samples))
  const subject = summarize(pairs.flatMap((p) => p.subject.samples))
  return { floor, subject, ratio: subject.median_us / floor.median_us }
}

/** A result row from a paired measurement. */
export function pairRow(name, pair, extra = {}) {
  return {
    name,
    median_us: pair.subject.median_us,
    p95_us: pair.subject.p95_us,
    floor_us: pair.floor.median_us,
    ratio: pair.ratio,
    ...extra,
  }
}

// ---- floors ------------------------------------------------------------------------------

/** The physical floor for a verified read: read the file, sha256 the bytes. Returns the hex digest. */
export function readAndHash(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex")
}

// ---- temporary projects --------------------------------------------------------------------

const cleanups = new Set()
process.once("exit", () => {
  for (const c of cleanups) c()
})

/** A fresh temp folder, removed by `cleanup()` or at process exit. */
export function tempDir(prefix = "alloy-bench-") {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  const cleanup = () => {
    cleanups.delete(cleanup)
    rmSync(dir, { recursive: true, force: true })
  }
  cleanups.add(cleanup)
  return { dir, cleanup }
}

/**
 * A copy of the embedded example Foundry project (examples/acme-shop) with the example
 * intent and brief (examples/alloy) built into `.alloy/` and pinned into `draft-release-note`,
 * through the real store and services. Then `objects - 1` synthetic objects are added so the
 * store holds `objects` objects in all (see addSyntheticObjects).
 *
 * Returns { dir, ctx, core, briefId, cycle, digest, objectPath, bundle, cleanup }.
 */
export async function makeBenchProject({ objects = 1, prefix = "alloy-bench-" } = {}) {
  const c = await core()
  const { copyExampleProject, EXAMPLES_DIR } = await import(EXAMPLE_PROJECT_URL)
  const t = tempDir(prefix)
  const dir = path.join(t.dir, "project")
  copyExampleProject(dir)
  const setup = new c.AlloyContext(dir)
  setup.store.init()
  for (const sub of ["intents", "briefs"]) {
    mkdirSync(path.join(dir, ".alloy", sub), { recursive: true })
    cpSync(path.join(EXAMPLES_DIR, "alloy", sub), path.join(dir, ".alloy", sub), { recursive: true })
  }
  const built = c.buildBrief(setup, BRIEF_ID)
  c.pinBrief(setup, { cycle: CYCLE_ID, brief_id: BRIEF_ID })
  const objectPath = path.join(dir, built.object)
  const bundle = JSON.parse(readFileSync(objectPath, "utf8"))
  if (objects > 1) addSyntheticObjects(dir, objects - 1)
  // a fresh context, so no cache from the setup calls leaks into the measurement
  const ctx = new c.AlloyContext(dir)
  return { dir, ctx, core: c, briefId: BRIEF_ID, cycle: CYCLE_ID, digest: built.digest, objectPath, bundle, cleanup: t.cleanup }
}

/** The object folder of a project's store. */
export function objectsDir(dir) {
  return path.join(dir, ".alloy", "objects", "sha256")
}

/**
 * Write `n` distinct synthetic objects (random bytes named by their sha256) into the store
 * with plain fs writes. The resolver never reads them: they exist to grow the directory the
 * pinned object is looked up in. Each is `size` bytes (default: about a real bundle's size).
 */
export function addSyntheticObjects(dir, n, size = 4096) {
  const d = objectsDir(dir)
  mkdirSync(d, { recursive: true })
  const pool = randomBytes(size + n)
  for (let i = 0; i < n; i++) {
    const bytes = pool.subarray(i, i + size)
    const hex = createHash("sha256").update(bytes).digest("hex")
    writeFileSync(path.join(d, `${hex}.json`), bytes, { mode: 0o444, flag: "wx" })
  }
}

/**
 * `n` valid, distinct `alloy.bundle/v1` objects of the same brief: the real bundle with a
 * varying line in `brief.notes`, encoded canonically through the library. Written into the
 * store; returns their digests in order.
 */
export function writeBundleVariants(c, dir, bundle, n) {
  const d = objectsDir(dir)
  mkdirSync(d, { recursive: true })
  const digests = []
  for (let i = 0; i < n; i++) {
    const v = { ...bundle, brief: { ...bundle.brief, notes: `${bundle.brief.notes}\n\nbench variant ${i}` } }
    const { bytes, digest } = c.encodeCanonical(v)
    writeFileSync(path.join(d, `${digest.slice("sha256:".length)}.json`), bytes, { mode: 0o444 })
    digests.push(digest)
  }
  return digests
}

/**
 * Write `n` cycle files `foundry/cycles/bench-cycle-<i>.md`, copies of the example cycle
 * `draft-release-note` with their own id and the pin `pinFor(i)` ({ brief_id, digest }).
 * Returns the cycle ids.
 */
export function writePinnedCycles(dir, n, pinFor) {
  const cyclesDir = path.join(dir, "foundry", "cycles")
  const template = readFileSync(path.join(cyclesDir, `${CYCLE_ID}.md`), "utf8")
  const ids = []
  for (let i = 0; i < n; i++) {
    const id = `bench-cycle-${String(i).padStart(4, "0")}`
    const pin = pinFor(i)
    const text = template.replace(/^id: .*$/m, `id: ${id}`).replace(/^alloy:.*(\n[ \t]+.*)*$/m, `alloy:\n  brief_id: ${pin.brief_id}\n  digest: "${pin.digest}"`)
    writeFileSync(path.join(cyclesDir, `${id}.md`), text)
    ids.push(id)
  }
  return ids
}

// ---- formatting --------------------------------------------------------------------------

/** µs as a short human string (ns / µs / ms / s). */
export function fmtTime(us) {
  if (us === undefined || us === null || Number.isNaN(us)) return "-"
  if (us < 0) return `-${fmtTime(-us)}`
  if (us < 1) return `${(us * 1000).toFixed(0)} ns`
  if (us < 1000) return `${us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0)} µs`
  if (us < 1e6) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`
  return `${(us / 1e6).toFixed(2)} s`
}

export function fmtRatio(r) {
  if (r === undefined || r === null || Number.isNaN(r)) return "-"
  return `${r < 10 ? r.toFixed(2) : r.toFixed(1)}x`
}

/**
 * One fresh CLI process in `dir`: wall time (µs), peak RSS (MiB, from rss-preload.mjs), exit status
 * and output. With `stdoutFile` the output goes to that file (its size in `bytes`) instead of memory.
 */
export function runCliMeasured(dir, args, timeoutMs, { stdoutFile } = {}) {
  const rssFile = path.join(dir, "..", `rss-${process.pid}.txt`)
  rmSync(rssFile, { force: true })
  const fd = stdoutFile ? openSync(stdoutFile, "w") : undefined
  const t0 = nowNs()
  let r
  try {
    r = spawnSync(process.execPath, ["--import", path.join(BENCH_DIR, "rss-preload.mjs"), CLI_PATH, ...args], {
      cwd: dir,
      encoding: "utf8",
      timeout: timeoutMs,
      maxBuffer: 1024 * 1024 * 1024,
      stdio: ["ignore", fd ?? "pipe", "pipe"],
      env: { ...process.env, ALLOY_BENCH_RSS_FILE: rssFile, NO_COLOR: "1" },
    })
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
  const us = Number(nowNs() - t0) / 1000
  if (r.error) throw new Error(`bench: \`${args.join(" ")}\` did not finish: ${r.error.message}`)
  let rssMiB
  try {
    rssMiB = Number(readFileSync(rssFile, "utf8")) / 1024
  } catch {
    rssMiB = Number.NaN
  }
  const bytes = stdoutFile ? statSync(stdoutFile).size : Buffer.byteLength(r.stdout ?? "")
  return { us, rssMiB, bytes, status: r.status, stdout: r.stdout ?? "", stderr: r.stderr }
}
