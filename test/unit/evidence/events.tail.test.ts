/** `runs watch --follow` across copytruncate and rotation of events.jsonl: nothing lost, nothing repeated. */
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { START, readEventsTail, watchEvents } from "../../../src/evidence/events.js"
import { RUN_EVENT_TYPE, type RunEvent } from "../../../src/core/run-record.js"

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tmpFile(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "alloy-tail-"))
  dirs.push(d)
  return path.join(d, "events.jsonl")
}
const ev = (n: number): RunEvent => ({ $type: RUN_EVENT_TYPE, kind: "heartbeat", at: new Date(Date.UTC(2026, 4, 27, 10, 0, n)).toISOString(), request: `r${n}` })
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => JSON.stringify(ev(from + i)) + "\n").join("")
const ids = (es: RunEvent[]) => es.map((e) => e.request)
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `r${from + i}`)

describe("readEventsTail", () => {
  test("copytruncate, with the new file already longer than the old offset: the missed tail comes from .1, then the new file from its start", () => {
    const f = tmpFile()
    writeFileSync(f, lines(0, 3))
    const a = readEventsTail(f, START)
    expect(ids(a.events)).toEqual(range(0, 3))
    appendFileSync(f, lines(3, 4)) // written after our read, before the rotation
    copyFileSync(f, `${f}.1`)
    truncateSync(f, 0)
    appendFileSync(f, lines(4, 12)) // grows past the old offset before the next poll
    const b = readEventsTail(f, a.pos)
    expect(b.restarted).toBe(true)
    expect(ids(b.events)).toEqual(range(3, 12))
    const c = readEventsTail(f, b.pos)
    expect(c.events).toEqual([])
  })

  test("rotation by rename: the old file's rest, then the new file", () => {
    const f = tmpFile()
    writeFileSync(f, lines(0, 2))
    const a = readEventsTail(f, START)
    appendFileSync(f, lines(2, 3))
    renameSync(f, `${f}.1`)
    const gap = readEventsTail(f, a.pos) // new file not created yet
    expect(gap.events).toEqual([])
    writeFileSync(f, lines(3, 5))
    const b = readEventsTail(f, gap.pos)
    expect(ids(b.events)).toEqual(range(2, 5))
  })

  test("plain truncation without a rotated copy: the new content once, from the start", () => {
    const f = tmpFile()
    writeFileSync(f, lines(0, 5))
    const a = readEventsTail(f, START)
    truncateSync(f, 0)
    appendFileSync(f, lines(5, 20))
    const b = readEventsTail(f, a.pos)
    expect(ids(b.events)).toEqual(range(5, 20))
    appendFileSync(f, lines(20, 21))
    expect(ids(readEventsTail(f, b.pos).events)).toEqual(["r20"])
  })
})

test("watch --follow across a copytruncate prints every event exactly once", async () => {
  const f = tmpFile()
  writeFileSync(f, lines(0, 3))
  let clock = Date.parse("2026-05-27T10:00:00.000Z")
  let polls = 0
  const out: string[] = []
  await watchEvents({
    file: f,
    follow: true,
    json: true,
    out: (s) => out.push(s),
    pollMs: 1000,
    idleMs: 20_000,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms
      polls++
      if (polls === 2) {
        appendFileSync(f, lines(3, 5))
        copyFileSync(f, `${f}.1`)
        truncateSync(f, 0)
        appendFileSync(f, lines(5, 15))
      }
      if (polls === 4) appendFileSync(f, lines(15, 16))
    },
  })
  expect(out.map((l) => (JSON.parse(l) as RunEvent).request)).toEqual(range(0, 16))
})
