/**
 * Shared by the fault tests: the store invariants that must hold after any crash, race or failed
 * write, the worker processes (plain ESM importing the BUILT package) and their bounded control.
 *
 * Invariants: every object hashes to its name and is a canonical bundle; every ref holds one digest
 * whose object exists and verifies for that brief; every intent and recipe parses; every cycle
 * and flow parses and its pin (if any) verifies; every run record validates with RunRecordSchema
 * and every complete event line with RunEventSchema. The only strays allowed are temp files named
 * `.<name>.<pid>.<rand>.tmp`, which are counted.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { digestOf } from "../../src/core/digest.js"
import { parseBundle, verifyObjectBytes } from "../../src/core/verify.js"
import { parseIntentBytes } from "../../src/core/intent.js"
import { parseRecipeBytes } from "../../src/core/recipe.js"
import { decodeText, parseMarkdown } from "../../src/core/frontmatter.js"
import { readPinBlock } from "../../src/core/pin.js"
import { isDigest } from "../../src/core/ids.js"
import { RunEventSchema, RunRecordSchema } from "../../src/core/run-record.js"
import { REPO_ROOT } from "../helpers/project.js"

export const WORKERS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "workers")
export const DIST = path.join(REPO_ROOT, "dist")
export const TEMP_RE = /^\..+\.\d+\.[0-9a-f]+\.tmp$/

export interface StoreReport {
  readonly problems: string[]
  readonly tempFiles: string[]
  readonly objects: number
  readonly refs: Map<string, string>
  readonly records: number
  readonly events: number
  /** an unterminated last line of events.jsonl (a crash between the bytes of one append) */
  readonly tornEvents: number
  /** the pin of each cycle/flow that has one: `<kind> <id>` -> digest */
  readonly pins: Map<string, string>
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    return []
  }
}

/** Check every invariant of a project's store; never throws for a broken store (returns problems). */
export function checkStore(root: string): StoreReport {
  const problems: string[] = []
  const tempFiles: string[] = []
  const refs = new Map<string, string>()
  const pins = new Map<string, string>()
  const alloy = path.join(root, ".alloy")
  const rel = (p: string) => path.relative(root, p)
  const isTemp = (dir: string, n: string) => {
    if (TEMP_RE.test(n)) {
      tempFiles.push(rel(path.join(dir, n)))
      return true
    }
    return false
  }

  // objects
  const objDir = path.join(alloy, "objects", "sha256")
  let objects = 0
  for (const n of list(objDir)) {
    if (isTemp(objDir, n)) continue
    const m = /^([0-9a-f]{64})\.json$/.exec(n)
    if (!m) {
      problems.push(`unexpected file in objects: ${n}`)
      continue
    }
    objects++
    const bytes = readFileSync(path.join(objDir, n))
    if (digestOf(bytes) !== `sha256:${m[1]}`) {
      problems.push(`object ${n} does not hash to its name (${bytes.length} bytes)`)
      continue
    }
    try {
      parseBundle(bytes, n)
    } catch (e) {
      problems.push(`object ${n}: ${(e as Error).message}`)
    }
  }
  const verifies = (digest: string, brief: string, what: string) => {
    const f = path.join(objDir, `${digest.slice(7)}.json`)
    if (!existsSync(f)) return problems.push(`${what}: object ${digest} is missing`)
    try {
      verifyObjectBytes(readFileSync(f), { brief_id: brief, digest }, rel(f))
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`)
    }
  }

  // refs
  const refDir = path.join(alloy, "refs", "briefs")
  for (const n of list(refDir)) {
    if (isTemp(refDir, n)) continue
    const text = readFileSync(path.join(refDir, n), "utf8")
    const d = text.trim()
    if (!isDigest(d) || text !== `${d}\n`) {
      problems.push(`ref ${n} does not hold one digest line: ${JSON.stringify(text.slice(0, 80))}`)
      continue
    }
    refs.set(n, d)
    verifies(d, n, `ref ${n}`)
  }

  // sources
  for (const [sub, parse] of [
    ["intents", parseIntentBytes],
    ["briefs", parseRecipeBytes],
  ] as const) {
    const dir = path.join(alloy, sub)
    for (const n of list(dir)) {
      if (isTemp(dir, n)) continue
      if (!n.endsWith(".md")) {
        problems.push(`unexpected file in ${sub}: ${n}`)
        continue
      }
      try {
        parse(readFileSync(path.join(dir, n)), `${sub}/${n}`, n.slice(0, -3))
      } catch (e) {
        problems.push(`${sub}/${n}: ${(e as Error).message}`)
      }
    }
  }

  // cycles and flows with their pins
  for (const [kind, sub] of [
    ["cycle", "cycles"],
    ["flow", "flows"],
  ] as const) {
    const dir = path.join(root, "foundry", sub)
    for (const n of list(dir)) {
      if (isTemp(dir, n)) continue
      if (!n.endsWith(".md")) continue
      const f = path.join(dir, n)
      try {
        const { data } = parseMarkdown(decodeText(readFileSync(f), rel(f)), rel(f))
        const pin = readPinBlock(data, rel(f))
        if (pin) {
          pins.set(`${kind} ${n.slice(0, -3)}`, pin.digest)
          verifies(pin.digest, pin.brief_id, `${kind} ${n}`)
        }
      } catch (e) {
        problems.push(`${kind} ${n}: ${(e as Error).message}`)
      }
    }
  }

  // run records and events
  let records = 0
  const recDir = path.join(alloy, "runs", "records")
  for (const n of list(recDir)) {
    if (isTemp(recDir, n)) continue
    if (!/^[0-9a-f]{64}\.json$/.test(n)) {
      problems.push(`unexpected file in runs/records: ${n}`)
      continue
    }
    records++
    try {
      const r = RunRecordSchema.safeParse(JSON.parse(readFileSync(path.join(recDir, n), "utf8")))
      if (!r.success) problems.push(`run record ${n}: ${r.error.issues[0]?.message}`)
      else if (`${r.data.idempotency_key}.json` !== n) problems.push(`run record ${n} holds key ${r.data.idempotency_key}`)
    } catch (e) {
      problems.push(`run record ${n}: ${(e as Error).message}`)
    }
  }
  let events = 0
  let tornEvents = 0
  const evFile = path.join(alloy, "runs", "events.jsonl")
  if (existsSync(evFile)) {
    const text = readFileSync(evFile, "utf8")
    const lines = text.split("\n")
    const last = lines.pop()!
    if (last !== "") tornEvents++ // a last line without its newline
    for (const line of lines) {
      try {
        const r = RunEventSchema.safeParse(JSON.parse(line))
        if (r.success) events++
        else problems.push(`event line does not validate: ${line.slice(0, 120)}`)
      } catch {
        problems.push(`event line is not JSON: ${line.slice(0, 120)}`)
      }
    }
  }
  for (const d of ["", "runs"]) {
    for (const n of list(path.join(alloy, d))) if (TEMP_RE.test(n)) tempFiles.push(path.join(".alloy", d, n))
  }
  return { problems, tempFiles, objects, refs, records, events, tornEvents, pins }
}

// ---- workers -----------------------------------------------------------------------------------

export interface Worker {
  readonly child: ChildProcess
  /** start the work (workers started with `waitGo` wait for this after `ready`) */
  go(): void
  /** resolves when the worker printed `ready` (its imports are done) */
  readonly ready: Promise<void>
  /** resolves with the exit code / signal and everything printed */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/**
 * Start `node [--import preload] workers/<script> ...args`, bounded by `timeoutMs` (then SIGKILL
 * by pid). The worker prints `ready` once it has imported the built package.
 */
export function startWorker(script: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; preload?: string; waitGo?: boolean } = {}): Worker {
  const argv = [...(opts.preload ? ["--import", opts.preload] : []), path.join(WORKERS_DIR, script), ...args]
  const env = { ...process.env, ...opts.env, ...(opts.waitGo ? { ALLOY_WORKER_WAIT_GO: "1" } : {}) }
  const child = spawn(process.execPath, argv, { stdio: [opts.waitGo ? "pipe" : "ignore", "pipe", "pipe"], env })
  let stdout = ""
  let stderr = ""
  let markReady: () => void = () => undefined
  const ready = new Promise<void>((r) => (markReady = r))
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    stdout += d
    if (stdout.includes("ready\n")) markReady()
  })
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 20_000)
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      markReady()
      resolve({ code, signal, stdout, stderr })
    })
  })
  const go = () => {
    if (child.stdin && !child.stdin.destroyed) child.stdin.end("go\n")
  }
  return { child, go, ready, done }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Does the built package exist? The fault workers import it, not the TypeScript sources. */
export function assertBuilt(...files: string[]): void {
  for (const f of ["library.js", ...files]) {
    if (!existsSync(path.join(DIST, f))) throw new Error(`dist/${f} is missing: run \`npm run build\` before the fault tests`)
  }
}
