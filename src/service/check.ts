/**
 * Running check gates (`opencode-alloy check`, the `alloy_check` tool): the `kind: check` commands
 * of the built briefs' criteria, in the project root, each bounded in time and output, never through
 * a shell unless the criterion says `shell: true` (core/check-command.ts splits the words). With
 * `record`, each gate's run becomes a run record (stage `check`) under the bundle the pinning cycles
 * use, one per cycle the criterion applies to: the evidence a check gate needs when its command is
 * no Foundry validator's. Refused on a flow branch: the work tree holds the flow's work files there.
 */
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { readdirSync } from "node:fs"
import path from "node:path"
import type { Bundle } from "../core/bundle.js"
import { splitCommand } from "../core/check-command.js"
import { unknownNameFix } from "../core/nearest.js"
import { AlloyError } from "../core/errors.js"
import { appliesTo } from "../core/formation.js"
import { globToRegExp } from "../core/glob.js"
import { assertSlug } from "../core/ids.js"
import type { EvidenceKind, Intent } from "../core/intent.js"
import { redactSecrets, secretValues } from "../core/redact.js"
import { CHECK_TAIL_BYTES, RUN_RECORD_TYPE, checkRunPassed, recordKey, runIdFor, type CheckCommandRun, type RunRecord } from "../core/run-record.js"
import { verifyObjectBytes } from "../core/verify.js"
import { writeRecord } from "../store/outbox.js"
import { ALLOY_VERSION } from "../version.js"
import { recordedCapabilitiesDigest } from "./capabilities.js"
import type { AlloyContext } from "./context.js"
import { assertNotOnFlowBranch } from "./guard.js"
import { scanPins } from "./pin-scan.js"

/** How long a check may run when neither the criterion (`timeout:`) nor the caller says. */
export const DEFAULT_CHECK_TIMEOUT_SECONDS = 300
/** Output (stdout and stderr together) past which a check is stopped and fails. */
export const DEFAULT_CHECK_MAX_OUTPUT = 8 * 1024 * 1024
/** Files a glob word may walk before the walk stops (the words stay as they are past it). */
const MAX_GLOB_ENTRIES = 50_000
/** After a stop, how long to wait for the process's pipes to close. */
const KILL_GRACE_MS = 5_000

export interface CheckCommandSpec {
  readonly command: string
  readonly shell: boolean
  readonly timeoutSeconds?: number
}

export interface CheckOptions {
  /** intents whose checks run (all when empty) */
  readonly intents?: readonly string[]
  /** write each gate's run as a run record */
  readonly record?: boolean
  /** seconds for checks whose criterion sets no `timeout:` */
  readonly timeoutSeconds?: number
  readonly maxOutputBytes?: number
  readonly now?: () => Date
}

export interface CheckRecorded {
  readonly brief_id: string
  readonly digest: string
  readonly cycle: string
  readonly file: string
  readonly run_id: string
}

export interface CheckResult {
  readonly intent: string
  readonly criterion: string
  readonly gate: string
  /** the gate's command as the bundle (or the authored intent) states it */
  readonly command: string
  readonly passed: boolean
  readonly commands: CheckCommandRun[]
  readonly recorded: CheckRecorded[]
  /** why the run was not recorded (when `record` was asked) */
  readonly not_recorded?: string
}

export interface CheckReport {
  readonly results: CheckResult[]
  readonly passed: number
  readonly failed: number
  readonly recorded: number
  readonly warnings: string[]
}

// ---- running one command ----------------------------------------------------------------------

/** Expand an unquoted glob word against the project's files (sorted); no match leaves the word as it is. */
export function expandGlob(root: string, word: string): string[] {
  if (path.isAbsolute(word) || word.split("/").includes("..")) return [word]
  const re = globToRegExp(word)
  const segs = word.split("/")
  const firstGlob = segs.findIndex((s) => /[*?[{]/.test(s))
  const baseRel = segs.slice(0, Math.max(0, firstGlob)).join("/")
  const out: string[] = []
  let seen = 0
  const walk = (rel: string, depth: number) => {
    if (depth > 32 || seen > MAX_GLOB_ENTRIES) return
    let entries: import("node:fs").Dirent[]
    try {
      entries = readdirSync(path.join(root, rel), { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      if (++seen > MAX_GLOB_ENTRIES) return
      if (e.name === ".git" || e.name === "node_modules") continue
      const p = rel ? `${rel}/${e.name}` : e.name
      if (re.test(p)) out.push(p)
      // symlinked folders are not followed (a check never wanders out of the project)
      if (e.isDirectory()) walk(p, depth + 1)
    }
  }
  walk(baseRel, 0)
  return out.length ? out.sort() : [word]
}

function argvOf(root: string, command: string): string[] {
  return splitCommand(command).flatMap((w) => (w.glob ? expandGlob(root, w.text) : [w.text]))
}

/** The tail as a record keeps it: without the secrets the check's environment holds or its output shows. */
function storedTail(text: string): { tail: string; tail_redacted?: number } {
  const r = redactSecrets(text, secretValues(process.env))
  const bytes = Buffer.from(r.text, "utf8")
  return { tail: bytes.subarray(Math.max(0, bytes.length - CHECK_TAIL_BYTES)).toString("utf8"), ...(r.redacted ? { tail_redacted: r.redacted } : {}) }
}

/**
 * Output kept before the tail is cut, so that a secret the cut would split is still whole when
 * secrets are removed (one longer than this margin can leave its end behind).
 */
const REDACT_MARGIN_BYTES = 4096

/** Keep the last `max` bytes of a stream. */
class Tail {
  private chunks: Buffer[] = []
  private size = 0
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    this.chunks.push(b)
    this.size += b.length
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.max) this.size -= this.chunks.shift()!.length
  }
  text(): string {
    const all = Buffer.concat(this.chunks)
    return all.subarray(Math.max(0, all.length - this.max)).toString("utf8")
  }
}

/** Run one command in `root`: bounded time and output; the output is hashed, only its tail kept. Never throws. */
export function runCheckCommand(root: string, spec: CheckCommandSpec, limits: { timeoutMs: number; maxOutputBytes: number }): Promise<CheckCommandRun> {
  const started = Date.now()
  const outHash = createHash("sha256")
  const errHash = createHash("sha256")
  const tail = new Tail(CHECK_TAIL_BYTES + REDACT_MARGIN_BYTES)
  let bytes = 0
  let argv: string[] | undefined
  const base = { command: spec.command, shell: spec.shell }
  const empty = (error: string): CheckCommandRun => ({
    ...base,
    exit_code: null,
    error,
    duration_ms: 0,
    stdout_sha256: outHash.digest("hex"),
    stderr_sha256: errHash.digest("hex"),
    output_bytes: 0,
    tail: "",
  })
  try {
    if (!spec.shell) argv = argvOf(root, spec.command)
  } catch (e) {
    return Promise.resolve(empty(e instanceof AlloyError ? e.message : String(e)))
  }
  return new Promise((resolve) => {
    let timedOut = false
    let overLimit = false
    let spawnError: string | undefined
    let done = false
    let child: ReturnType<typeof spawn>
    try {
      child = spec.shell
        ? spawn("/bin/sh", ["-c", spec.command], { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true })
        : spawn(argv![0]!, argv!.slice(1), { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true, shell: false })
    } catch (e) {
      // e.g. a word with a NUL byte: refused before anything ran
      resolve(empty(`could not start: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`))
      return
    }
    // the check runs in a process group of its own, so a stop reaches whatever it started
    const stop = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
      } catch {
        try {
          child.kill("SIGKILL")
        } catch {
          /* already gone */
        }
      }
      grace = setTimeout(() => finish(null, "SIGKILL"), KILL_GRACE_MS)
    }
    let grace: NodeJS.Timeout | undefined
    const timer = setTimeout(() => {
      timedOut = true
      stop()
    }, limits.timeoutMs)
    const take = (hash: ReturnType<typeof createHash>) => (chunk: Buffer) => {
      if (overLimit) return
      const room = limits.maxOutputBytes - bytes
      const part = chunk.length > room ? chunk.subarray(0, Math.max(0, room)) : chunk
      hash.update(part)
      tail.push(part)
      bytes += part.length
      if (chunk.length > room) {
        overLimit = true
        clearTimeout(timer)
        stop()
      }
    }
    child.stdout!.on("data", take(outHash))
    child.stderr!.on("data", take(errHash))
    const finish = (code: number | null, signal: NodeJS.Signals | null | string) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (grace) clearTimeout(grace)
      child.stdout?.destroy()
      child.stderr?.destroy()
      resolve({
        ...base,
        ...(argv ? { argv } : {}),
        exit_code: timedOut || overLimit || spawnError ? null : code,
        ...(signal && !spawnError ? { signal: String(signal) } : {}),
        ...(timedOut ? { timed_out: true } : {}),
        ...(overLimit ? { output_over_limit: true } : {}),
        ...(spawnError ? { error: spawnError } : {}),
        duration_ms: Date.now() - started,
        stdout_sha256: outHash.digest("hex"),
        stderr_sha256: errHash.digest("hex"),
        output_bytes: bytes,
        ...storedTail(tail.text()),
      })
    }
    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError = e.code === "ENOENT" ? `${argv?.[0] ?? "/bin/sh"} was not found (is it installed, and on PATH?)` : `could not start: ${e.code ?? e.message}`
      finish(null, null)
    })
    child.on("close", (code, signal) => finish(code, signal))
  })
}

// ---- which checks, under which bundles ----------------------------------------------------------

interface Target {
  readonly brief_id: string
  readonly digest: string
  readonly bundle: Bundle
  /** the cycles that run under this digest */
  readonly cycles: string[]
}

/** The bundles the pinning cycles use (a brief no cycle pins: its current build, for its formation's cycles). */
function targets(ctx: AlloyContext, warnings: string[]): Target[] {
  const scan = scanPins(ctx)
  const byDigest = new Map<string, { brief_id: string; digest: string; cycles: Set<string> }>()
  const add = (brief_id: string, digest: string, cycles: readonly string[]) => {
    const k = `${brief_id} ${digest}`
    const t = byDigest.get(k) ?? { brief_id, digest, cycles: new Set<string>() }
    for (const c of cycles) t.cycles.add(c)
    byDigest.set(k, t)
  }
  for (const p of scan.pins) {
    if (p.state !== "current" && p.state !== "behind") continue
    add(p.brief_id, p.digest, p.kind === "cycle" ? [p.id] : (p.covers ?? []))
  }
  const pinned = new Set([...byDigest.values()].map((t) => t.brief_id))
  for (const id of ctx.store.listRefIds()) {
    if (pinned.has(id)) continue
    let digest: string | undefined
    try {
      digest = ctx.store.readRef(id)
    } catch (e) {
      warnings.push(`brief ${id}: ${e instanceof AlloyError ? e.describe() : String(e)}`)
    }
    if (digest) add(id, digest, [])
  }
  const out: Target[] = []
  for (const t of byDigest.values()) {
    try {
      const bytes = ctx.store.readObject(t.digest)
      if (!bytes) {
        warnings.push(`brief ${t.brief_id} @ ${t.digest}: the object is not in .alloy/objects/; its checks are not run`)
        continue
      }
      const bundle = verifyObjectBytes(bytes, { brief_id: t.brief_id, digest: t.digest }, ctx.store.rel(ctx.store.objectFile(t.digest)))
      const cycles = t.cycles.size ? [...t.cycles].sort() : [...bundle.brief.formation.cycles]
      out.push({ brief_id: t.brief_id, digest: t.digest, bundle, cycles })
    } catch (e) {
      warnings.push(`brief ${t.brief_id} @ ${t.digest}: ${e instanceof AlloyError ? e.describe() : String(e)}; its checks are not run`)
    }
  }
  return out.sort((a, b) => a.brief_id.localeCompare(b.brief_id) || a.digest.localeCompare(b.digest))
}

type Evidence = { kind: EvidenceKind; command?: string; shell?: boolean; timeout?: number }

function specsOf(evidence: readonly Evidence[]): CheckCommandSpec[] {
  return evidence.filter((e) => e.kind === "check" && e.command).map((e) => ({ command: e.command!, shell: e.shell === true, ...(e.timeout !== undefined ? { timeoutSeconds: e.timeout } : {}) }))
}

/** Run the check gates of the given intents (all when none); with `record`, write each run as evidence. */
export async function runChecks(ctx: AlloyContext, opts: CheckOptions = {}): Promise<CheckReport> {
  assertNotOnFlowBranch(ctx, "run check gates")
  ctx.store.requireInit()
  const now = opts.now ?? (() => new Date())
  const wanted = opts.intents?.length ? new Set(opts.intents.map((i) => assertSlug(i, "intent id"))) : undefined
  const warnings: string[] = []
  const tgs = targets(ctx, warnings)
  const authored = ctx.store.listIntentIds()
  if (wanted) {
    const known = new Set([...authored, ...tgs.flatMap((t) => t.bundle.intents.map((i) => i.id))])
    for (const id of wanted) {
      if (known.has(id)) continue
      throw new AlloyError("intent_not_found", `no intent ${id} in .alloy/intents/ or in a built brief`, { fix: unknownNameFix(id, known, { kind: "intent" }) })
    }
  }
  const limits = (s: CheckCommandSpec) => ({
    timeoutMs: (s.timeoutSeconds ?? opts.timeoutSeconds ?? DEFAULT_CHECK_TIMEOUT_SECONDS) * 1000,
    maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_CHECK_MAX_OUTPUT,
  })
  // the same commands are run once per call, whichever bundles carry them
  const ran = new Map<string, { commands: CheckCommandRun[]; started: Date }>()
  const run = async (specs: CheckCommandSpec[]) => {
    const key = JSON.stringify(specs)
    let r = ran.get(key)
    if (!r) {
      const started = now()
      const commands: CheckCommandRun[] = []
      for (const s of specs) commands.push(await runCheckCommand(ctx.root, s, limits(s)))
      r = { commands, started }
      ran.set(key, r)
    }
    return r
  }
  const results = new Map<string, CheckResult & { recorded: CheckRecorded[]; skipped: string[] }>()
  const capabilities = opts.record ? recordedCapabilitiesDigest(ctx) : undefined
  let recordedCount = 0
  for (const t of tgs) {
    for (const intent of t.bundle.intents) {
      if (wanted && !wanted.has(intent.id)) continue
      for (const c of intent.acceptance_criteria) {
        const specs = specsOf(c.evidence)
        if (!specs.length) continue
        const gate = t.bundle.overlay.gates.find((g) => g.kind === "check" && g.criterion === c.ref)
        if (!gate?.command) continue
        const { commands, started } = await run(specs)
        const passed = checkRunPassed({ gate: gate.id, criterion: c.ref, command: gate.command, commands })
        const key = `${c.ref} ${gate.command}`
        const res = results.get(key) ?? { intent: intent.id, criterion: c.ref, gate: gate.id, command: gate.command, passed, commands, recorded: [], skipped: [] }
        results.set(key, res)
        if (!opts.record) continue
        const cycles = t.cycles.filter((cy) => appliesTo(t.bundle, c.ref, cy))
        if (!cycles.length) {
          res.skipped.push(`no cycle that runs brief ${t.brief_id} @ ${t.digest.slice(0, 19)}… is one ${c.ref} applies to`)
          continue
        }
        const ended = new Date(started.getTime() + commands.reduce((n, x) => n + x.duration_ms, 0))
        for (const cycle of cycles) {
          const idem = recordKey(["check", t.brief_id, t.digest, cycle, gate.id, started.toISOString()])
          const record: RunRecord = {
            $type: RUN_RECORD_TYPE,
            run_id: runIdFor(idem, started.getTime()),
            idempotency_key: idem,
            pin: { brief_id: t.brief_id, digest: t.digest },
            pin_source: "explicit",
            cycle,
            stage: "check",
            ...(t.bundle.brief.formation.flow ? { flow: t.bundle.brief.formation.flow } : {}),
            summary: `${passed ? "passed" : "failed"}: ${gate.command}`,
            started_at: started.toISOString(),
            ended_at: ended.toISOString(),
            alloy_version: ALLOY_VERSION,
            source: "cli",
            origin: { kind: "cli", ref: "check" },
            session: `check@${started.toISOString()}`,
            check: { gate: gate.id, criterion: c.ref, command: gate.command, commands },
            ...(capabilities ? { capabilities } : {}),
            outcome: "ok",
          }
          const w = writeRecord(ctx.root, record)
          if (w.warning) warnings.push(w.warning)
          res.recorded.push({ brief_id: t.brief_id, digest: t.digest, cycle, file: w.file, run_id: w.record.run_id })
          recordedCount++
        }
      }
    }
  }
  // authored intents no built brief carries: run and report, nothing to record under
  const inBundles = new Set(tgs.flatMap((t) => t.bundle.intents.map((i) => i.id)))
  for (const id of authored) {
    if (inBundles.has(id) || (wanted && !wanted.has(id))) continue
    let intent: Intent
    try {
      intent = ctx.store.readIntent(id).value
    } catch (e) {
      warnings.push(`intent ${id}: ${e instanceof AlloyError ? e.describe() : String(e)}`)
      continue
    }
    for (const c of intent.acceptance_criteria) {
      const specs = specsOf(c.evidence)
      if (!specs.length) continue
      const ref = `${id}#${c.id}`
      const command = specs.map((s) => s.command).join(" && ")
      const { commands } = await run(specs)
      results.set(`${ref} ${command}`, {
        intent: id,
        criterion: ref,
        gate: `${ref}/check`,
        command,
        passed: checkRunPassed({ gate: `${ref}/check`, criterion: ref, command, commands }),
        commands,
        recorded: [],
        skipped: opts.record ? [`no built brief carries intent ${id} (build one: \`opencode-alloy brief build <brief-id>\`)`] : [],
      })
    }
  }
  const list: CheckResult[] = [...results.values()]
    .map(({ skipped, ...r }) => (r.recorded.length || !skipped.length ? r : { ...r, not_recorded: skipped.join("; ") }))
    .sort((a, b) => a.criterion.localeCompare(b.criterion, "en", { numeric: true }) || a.command.localeCompare(b.command))
  return { results: list, passed: list.filter((r) => r.passed).length, failed: list.filter((r) => !r.passed).length, recorded: recordedCount, warnings }
}
