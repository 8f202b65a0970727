/**
 * The run event stream `.alloy/runs/events.jsonl` (`alloy.event/v1`, one JSON object per line, appended
 * by the hooks) and `runs watch`, a tail-style reader:
 *
 * - reading is incremental by byte offset and only ever consumes complete lines, so a line being written
 *   is picked up on the next poll; a file that shrank (rotated, truncated) is read again from the start;
 * - following is poll-based (no fs.watch: it behaves differently across platforms and network drives),
 *   bounded by an idle timeout and a hard maximum, and stops at once on abort (Ctrl-C);
 * - heartbeats: the watcher never writes to the stream. `heartbeat` events written by the hooks are
 *   shown as they come; besides, while a stage is open (a `stage_begun` without its `stage_ended` /
 *   `stage_blocked`), the watcher prints a synthesised "still open for Ns" line whenever nothing was
 *   printed for `heartbeatMs`. Those lines say `(watch)` so nobody mistakes them for recorded events.
 */
import type { RunEvent } from "../core/run-record.js"
import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from "node:fs"
import { MAX_EVENT_CHUNK, readEventsFrom, runPaths } from "../store/outbox.js"
import type { AlloyContext } from "../service/context.js"

export function eventsFile(ctx: AlloyContext): string {
  return runPaths(ctx.root).events
}

/**
 * Where a follower is in the stream: the offset, and the bytes just before it. A file that was
 * truncated and written again past the old offset (copytruncate), or replaced (rotation), no
 * longer has those bytes there; the follower then finishes the old content from the rotated copy
 * (`events.jsonl.1`, when its bytes match) and reads the new file from the start, so no event is
 * lost or repeated.
 */
export interface TailPosition {
  readonly offset: number
  /** up to TAIL_BYTES bytes before `offset`, base64 */
  readonly tail: string
}
export const TAIL_BYTES = 64
export const START: TailPosition = { offset: 0, tail: "" }

function bytesBefore(file: string, offset: number): Buffer | undefined {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY)
  } catch {
    return undefined
  }
  try {
    const len = Math.min(offset, TAIL_BYTES)
    if (fstatSync(fd).size < offset) return undefined
    const buf = Buffer.alloc(len)
    const n = len ? readSync(fd, buf, 0, len, offset - len) : 0
    return n === len ? buf : undefined
  } finally {
    closeSync(fd)
  }
}

function samePlace(file: string, pos: TailPosition): boolean {
  if (pos.offset === 0) return true
  const b = bytesBefore(file, pos.offset)
  return b !== undefined && b.toString("base64") === pos.tail
}

function positionAt(file: string, offset: number): TailPosition {
  return { offset, tail: bytesBefore(file, offset)?.toString("base64") ?? "" }
}

/** Read new events after `pos`, across truncation and rotation (see TailPosition). */
export function readEventsTail(file: string, pos: TailPosition, maxBytes = MAX_EVENT_CHUNK): { events: RunEvent[]; pos: TailPosition; skipped: number; restarted: boolean } {
  if (samePlace(file, pos)) {
    const r = readEventsFrom(file, pos.offset, maxBytes)
    return { events: r.events, pos: r.next === pos.offset ? pos : positionAt(file, r.next), skipped: r.skipped, restarted: false }
  }
  if (!existsSync(file)) return { events: [], pos, skipped: 0, restarted: false } // rotated, new file not there yet
  const events: RunEvent[] = []
  let skipped = 0
  const rotated = `${file}.1`
  if (pos.offset > 0 && samePlace(rotated, pos)) {
    let off = pos.offset
    for (let i = 0; i < 10_000; i++) {
      const r = readEventsFrom(rotated, off, maxBytes)
      events.push(...r.events)
      skipped += r.skipped
      if (r.next === off) break
      off = r.next
    }
  }
  const r = readEventsFrom(file, 0, maxBytes)
  events.push(...r.events)
  return { events, pos: positionAt(file, r.next), skipped: skipped + r.skipped, restarted: true }
}

const key = (e: { cycle?: string | undefined; stage?: string | undefined }) => `${e.cycle ?? ""} ${e.stage ?? ""}`

/** Which stages are open: a `stage_begun` not yet followed by `stage_ended` or `stage_blocked` of the same cycle and stage. */
export class OpenStages {
  private readonly open = new Map<string, { cycle?: string; stage?: string; since: string; pin?: RunEvent["pin"] }>()

  apply(e: RunEvent): void {
    if (e.kind === "stage_begun") this.open.set(key(e), { ...(e.cycle ? { cycle: e.cycle } : {}), ...(e.stage ? { stage: e.stage } : {}), since: e.at, pin: e.pin })
    else if (e.kind === "stage_ended" || e.kind === "stage_blocked") this.open.delete(key(e))
  }

  list(): Array<{ cycle?: string; stage?: string; since: string }> {
    return [...this.open.values()]
  }

  get size(): number {
    return this.open.size
  }
}

function hhmmss(iso: string): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(11, 19)
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
}

const LABEL: Record<RunEvent["kind"], string> = {
  stage_begun: "begun",
  stage_ended: "ended",
  stage_blocked: "BLOCKED",
  dispatch: "dispatch",
  heartbeat: "heartbeat",
  cycle_done: "DONE",
  cycle_blocked: "BLOCKED",
  violation: "VIOLATION",
  request_state: "request",
}

/** One event as a line for people: time, kind, stage (cycle), pin, reason. */
export function formatEvent(e: RunEvent, open?: OpenStages, now?: number): string {
  const pin = e.pin ? ` ${e.pin.brief_id}@${e.pin.digest.replace(/^sha256:/, "").slice(0, 12)}` : ""
  const bridge =
    e.request || e.runner
      ? `${e.request ? `request ${e.request.slice(0, 12)}` : `runner ${e.runner}`}${e.state ? ` ${e.state}` : ""}${e.lease_until ? ` lease until ${hhmmss(e.lease_until)}` : ""}`
      : ""
  const what = bridge && !e.stage ? bridge : `${e.stage ?? "-"}${e.cycle && !(e.stage ?? "").endsWith(`:${e.cycle}`) ? ` (${e.cycle})` : ""}`
  let extra = ""
  if (e.kind === "heartbeat" && open && now !== undefined) {
    const o = open.list().find((s) => key(s) === key(e))
    if (o) extra = ` open for ${duration(now - Date.parse(o.since))}`
  }
  const reason = e.reason ? ` — ${e.reason}${e.code ? ` [${e.code}]` : ""}` : ""
  return `${hhmmss(e.at)}  ${LABEL[e.kind].padEnd(9)} ${what}${pin}${extra}${reason}`
}

export interface WatchOptions {
  readonly file: string
  readonly follow: boolean
  readonly out: (line: string) => void
  /** print each event as its JSON line instead of text */
  readonly json?: boolean
  readonly pollMs?: number
  /** stop following after this long without a new event */
  readonly idleMs?: number
  /** stop following after this long in any case */
  readonly maxMs?: number
  /** print a synthesised "still open" line after this long without output while a stage is open */
  readonly heartbeatMs?: number
  readonly signal?: AbortSignal
  readonly now?: () => number
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

export interface WatchResult {
  readonly events: number
  readonly skipped: number
  readonly open: Array<{ cycle?: string; stage?: string; since: string }>
  /** why following stopped: `eof` (no --follow), `idle`, `max`, `aborted` */
  readonly stopped: "eof" | "idle" | "max" | "aborted"
}

/** Wait `ms`, or less when `signal` aborts; never rejects. Shared by the watcher and the bridge. */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener("abort", done)
      resolve()
    }
    signal?.addEventListener("abort", done, { once: true })
  })
}

/** Print the stream (and with `follow`, keep printing new events). */
export async function watchEvents(opts: WatchOptions): Promise<WatchResult> {
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? sleepUnlessAborted
  const pollMs = Math.max(50, opts.pollMs ?? 500)
  const idleMs = opts.idleMs ?? 10 * 60_000
  const maxMs = Math.min(opts.maxMs ?? 24 * 3600_000, 24 * 3600_000)
  const heartbeatMs = opts.heartbeatMs ?? 30_000
  const open = new OpenStages()
  let pos = START
  let count = 0
  let skipped = 0
  const print = (e: RunEvent) => {
    open.apply(e)
    opts.out(opts.json ? JSON.stringify(e) : formatEvent(e, open, now()))
    count++
  }
  // the backlog, in bounded chunks
  for (let i = 0; i < 10_000; i++) {
    const r = readEventsTail(opts.file, pos)
    skipped += r.skipped
    for (const e of r.events) print(e)
    if (r.pos.offset === pos.offset && !r.restarted) break
    pos = r.pos
  }
  if (!opts.follow) {
    if (!opts.json) {
      for (const o of open.list()) opts.out(`          open      ${o.stage ?? "-"}${o.cycle ? ` (${o.cycle})` : ""} since ${hhmmss(o.since)} (${duration(now() - Date.parse(o.since))})`)
    }
    return { events: count, skipped, open: open.list(), stopped: "eof" }
  }
  const started = now()
  let lastEvent = now()
  let lastOutput = now()
  for (;;) {
    if (opts.signal?.aborted) return { events: count, skipped, open: open.list(), stopped: "aborted" }
    if (now() - started >= maxMs) return { events: count, skipped, open: open.list(), stopped: "max" }
    if (now() - lastEvent >= idleMs) return { events: count, skipped, open: open.list(), stopped: "idle" }
    await sleep(pollMs, opts.signal)
    if (opts.signal?.aborted) return { events: count, skipped, open: open.list(), stopped: "aborted" }
    const r = readEventsTail(opts.file, pos)
    if (r.restarted && !opts.json) opts.out("          (events.jsonl was rotated or truncated; following the new file)")
    pos = r.pos
    skipped += r.skipped
    if (r.events.length) {
      for (const e of r.events) print(e)
      lastEvent = lastOutput = now()
    } else if (!opts.json && open.size && now() - lastOutput >= heartbeatMs) {
      for (const o of open.list()) {
        opts.out(`${new Date(now()).toISOString().slice(11, 19)}  open      ${o.stage ?? "-"}${o.cycle ? ` (${o.cycle})` : ""} for ${duration(now() - Date.parse(o.since))} (watch)`)
      }
      lastOutput = now()
    }
  }
}
