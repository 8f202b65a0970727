/** The event stream reader and `runs watch` (bounded, poll-based, synthesised "still open" lines). */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { duration, formatEvent, OpenStages, watchEvents } from "../../../src/evidence/events.js"
import { readEventsFrom } from "../../../src/store/outbox.js"
import { RUN_EVENT_TYPE, type RunEvent } from "../../../src/core/run-record.js"

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tmpFile(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "alloy-events-"))
  dirs.push(d)
  return path.join(d, "events.jsonl")
}
const ev = (kind: RunEvent["kind"], at: string, extra: Partial<RunEvent> = {}): RunEvent => ({
  $type: RUN_EVENT_TYPE,
  kind,
  at,
  cycle: "draft-release-note",
  stage: "forge:draft-release-note",
  ...extra,
})
const line = (e: RunEvent) => JSON.stringify(e) + "\n"

describe("reading", () => {
  test("complete lines only; a half-written line waits for the next read", () => {
    const f = tmpFile()
    const a = line(ev("stage_begun", "2026-05-27T10:00:00.000Z"))
    const b = line(ev("stage_ended", "2026-05-27T10:01:00.000Z"))
    writeFileSync(f, a + b.slice(0, 20))
    const r1 = readEventsFrom(f, 0)
    expect(r1.events.map((e) => e.kind)).toEqual(["stage_begun"])
    expect(r1.next).toBe(Buffer.byteLength(a))
    appendFileSync(f, b.slice(20))
    const r2 = readEventsFrom(f, r1.next)
    expect(r2.events.map((e) => e.kind)).toEqual(["stage_ended"])
  })

  test("foreign and torn lines are skipped and counted; a truncated file is read again", () => {
    const f = tmpFile()
    writeFileSync(f, `{"not":"an event"}\nnot json\n${line(ev("dispatch", "2026-05-27T10:00:00.000Z"))}`)
    const r = readEventsFrom(f, 0)
    expect(r.events).toHaveLength(1)
    expect(r.skipped).toBe(2)
    writeFileSync(f, line(ev("heartbeat", "2026-05-27T10:00:00.000Z")))
    const again = readEventsFrom(f, r.next)
    expect(again.restarted).toBe(true)
    expect(again.events.map((e) => e.kind)).toEqual(["heartbeat"])
    expect(readEventsFrom(path.join(path.dirname(f), "missing.jsonl"), 7)).toMatchObject({ events: [], next: 7 })
  })

  test("open stages", () => {
    const o = new OpenStages()
    o.apply(ev("stage_begun", "2026-05-27T10:00:00.000Z"))
    o.apply(ev("stage_begun", "2026-05-27T10:00:00.000Z", { stage: "human-appraise:draft-release-note" }))
    o.apply(ev("stage_ended", "2026-05-27T10:01:00.000Z"))
    expect(o.list().map((s) => s.stage)).toEqual(["human-appraise:draft-release-note"])
    o.apply(ev("stage_blocked", "2026-05-27T10:02:00.000Z", { stage: "human-appraise:draft-release-note" }))
    expect(o.size).toBe(0)
  })

  test("formatting", () => {
    const s = formatEvent(ev("stage_blocked", "2026-05-27T10:00:00.000Z", { pin: { brief_id: "b", digest: `sha256:${"a".repeat(64)}` }, reason: "digest mismatch", code: "digest_mismatch" }))
    expect(s).toBe("10:00:00  BLOCKED   forge:draft-release-note b@aaaaaaaaaaaa — digest mismatch [digest_mismatch]")
    expect(duration(59_000)).toBe("59s")
    expect(duration(95_000)).toBe("1m35s")
    expect(duration(3_700_000)).toBe("1h01m")
  })
})

describe("watch", () => {
  test("without --follow: prints the stream, then the stages still open", async () => {
    const f = tmpFile()
    writeFileSync(f, line(ev("dispatch", "2026-05-27T10:00:00.000Z")) + line(ev("stage_begun", "2026-05-27T10:00:05.000Z")))
    const out: string[] = []
    const r = await watchEvents({ file: f, follow: false, out: (s) => out.push(s), now: () => Date.parse("2026-05-27T10:02:05.000Z") })
    expect(r).toMatchObject({ events: 2, stopped: "eof" })
    expect(out[0]).toMatch(/^10:00:00 {2}dispatch {2}forge:draft-release-note/)
    expect(out[2]).toMatch(/open\s+forge:draft-release-note .*since 10:00:05 \(2m00s\)/)
  })

  test("--follow: new events appear, a synthesised line marks a long-open stage, idle timeout stops", async () => {
    const f = tmpFile()
    writeFileSync(f, line(ev("stage_begun", "2026-05-27T10:00:00.000Z")))
    let clock = Date.parse("2026-05-27T10:00:00.000Z")
    let polls = 0
    const out: string[] = []
    const r = await watchEvents({
      file: f,
      follow: true,
      out: (s) => out.push(s),
      pollMs: 1000,
      heartbeatMs: 30_000,
      idleMs: 120_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms
        polls++
        if (polls === 10) appendFileSync(f, line(ev("heartbeat", new Date(clock).toISOString())))
        if (polls === 20) appendFileSync(f, line(ev("stage_ended", new Date(clock).toISOString())))
      },
    })
    expect(r.stopped).toBe("idle")
    expect(r.events).toBe(3)
    expect(out.some((l) => /heartbeat .* open for 10s/.test(l))).toBe(true)
    expect(out.some((l) => /ended\s+forge:draft-release-note/.test(l))).toBe(true)
    // the open stage never went 30 s without output, so no synthesised line
    expect(out.filter((l) => l.endsWith("(watch)")).length).toBe(0)
    expect(polls).toBeLessThan(200)
  })

  test("--follow: a stage open long enough gets a (watch) line; abort stops at once", async () => {
    const f = tmpFile()
    writeFileSync(f, line(ev("stage_begun", "2026-05-27T10:00:00.000Z")))
    let clock = Date.parse("2026-05-27T10:00:00.000Z")
    const ac = new AbortController()
    const out: string[] = []
    const r = await watchEvents({
      file: f,
      follow: true,
      out: (s) => out.push(s),
      pollMs: 1000,
      heartbeatMs: 30_000,
      now: () => clock,
      signal: ac.signal,
      sleep: async (ms) => {
        clock += ms
        if (clock - Date.parse("2026-05-27T10:00:00.000Z") >= 65_000) ac.abort()
      },
    })
    expect(r.stopped).toBe("aborted")
    const watchLines = out.filter((l) => l.endsWith("(watch)"))
    expect(watchLines).toHaveLength(2)
    expect(watchLines[0]).toMatch(/open\s+forge:draft-release-note \(draft-release-note\) for 30s \(watch\)$/)
  })

  test("--json prints the events as JSON lines", async () => {
    const f = tmpFile()
    const e = ev("dispatch", "2026-05-27T10:00:00.000Z")
    writeFileSync(f, line(e))
    const out: string[] = []
    await watchEvents({ file: f, follow: false, json: true, out: (s) => out.push(s) })
    expect(out.map((l) => JSON.parse(l))).toEqual([e])
  })
})
