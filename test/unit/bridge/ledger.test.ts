/** The bridge's pure parts and its ledger: keys, create-once claims, conflicts, completion, mapping. */
import { describe, expect, test, afterEach, vi } from "vitest"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { MAX_RECORD_BYTES } from "../../../src/store/outbox.js"
import fc from "fast-check"
import { contentKey, effectiveState, fingerprint, foundryPrompt, goalText, REQUEST_TYPE, RequestStatusSchema, type RequestSpec } from "../../../src/bridge/request.js"
import { Ledger } from "../../../src/bridge/ledger.js"
import { mapRequest, terminalAction, turnComplete } from "../../../src/bridge/run.js"
import { makePinnedProject, type PinnedProject } from "../../helpers/project.js"
import { AlloyContext } from "../../../src/service/context.js"

const spec = (over: Partial<RequestSpec> = {}): RequestSpec => ({
  brief_id: "release-note-voice",
  digest: "sha256:" + "a".repeat(64),
  flow: null,
  cycle: "draft-release-note",
  goal: "Write the note",
  goal_hash: "1".repeat(64),
  base_commit: "b".repeat(40),
  criteria: ["release-note-voice#AC-1"],
  ...over,
})

const projects: PinnedProject[] = []
afterEach(() => {
  for (const p of projects.splice(0)) p.cleanup()
})
async function project(opts: { tamper?: boolean } = {}): Promise<PinnedProject> {
  const p = await makePinnedProject(opts)
  projects.push(p)
  return p
}

describe("the idempotency key", () => {
  test("is the same for the same content and differs when any keyed field differs", () => {
    expect(contentKey(spec())).toBe(contentKey(spec({ criteria: [] }))) // criteria follow from the digest
    fc.assert(
      fc.property(fc.constantFrom("digest", "flow", "cycle", "goal_hash", "base_commit", "brief_id"), fc.string({ minLength: 1 }), (field, v) => {
        const other = spec({ [field]: `${v}!` } as Partial<RequestSpec>)
        expect(contentKey(other)).not.toBe(contentKey(spec()))
      }),
    )
  })
})

describe("the ledger", () => {
  test("a claim is created once; the same request attaches; another request under the key is idempotency_conflict", async () => {
    const p = await project()
    const l = new Ledger(p.dir)
    const first = l.claim("k1", "given", spec())
    expect(first.created).toBe(true)
    expect(first.entry.status?.state).toBe("accepted")
    const again = l.claim("k1", "given", spec())
    expect(again.created).toBe(false)
    expect(fingerprint(again.entry.request.spec)).toBe(fingerprint(spec()))
    expect(() => l.claim("k1", "given", spec({ goal_hash: "2".repeat(64) }))).toThrow(expect.objectContaining({ code: "idempotency_conflict" }))
  })

  test("a queued request is started by one taker only: the first start mark wins, the others see whose it is", async () => {
    const p = await project()
    const a = new Ledger(p.dir)
    const b = new Ledger(p.dir)
    a.claim("k-start", "given", spec())
    const takers = [a, b, a, b].map((l, i) => l.takeStart("k-start", { host: "h", pid: 1000 + i, runner: `r${i}` }))
    expect(takers.filter(Boolean)).toHaveLength(1)
    expect(takers[0]).toBe(true)
    expect(b.startMark("k-start")).toMatchObject({ host: "h", pid: 1000 })
    expect(a.startMark("k-none")).toBeUndefined()
    // a start file that is not what Alloy writes (here: over 4 KiB) is no start mark, and is not read whole
    const start = path.join(p.dir, ".alloy", "runs", "requests", "k-start", "start")
    rmSync(start, { force: true })
    writeFileSync(start, JSON.stringify({ host: "h", pid: 1, at: "x", pad: "p".repeat(8192) }))
    expect(a.startMark("k-start")).toBeUndefined()
  })

  test("a result is posted once", async () => {
    const p = await project()
    const l = new Ledger(p.dir)
    l.claim("k2", "given", spec())
    const result = {
      $type: REQUEST_TYPE,
      kind: "result" as const,
      key: "k2",
      request: spec(),
      state: "succeeded" as const,
      sessions: ["s1"],
      terminal_action: { tool: "foundry_orchestrate", action: "done" },
      stage_records: [],
      tokens: { input: 1, output: 1, reasoning: 0, cache_read: 0, cache_write: 0 },
      cost: 0,
      ended_at: new Date().toISOString(),
    }
    expect(l.postResult(result)).toBe(true)
    expect(l.postResult({ ...result, state: "failed" })).toBe(false)
    expect(l.get("k2")?.result?.state).toBe("succeeded")
  })

  test("a ledger file made to be expensive is malformed at once: over the record limit, or millions of wrong values", async () => {
    const p = await project()
    const l = new Ledger(p.dir)
    l.claim("k3", "given", spec())
    const status = path.join(p.dir, ".alloy", "runs", "requests", "k3", "status.json")
    // read whole and handed to zod whole before: 2 million wrong values held the reader for seconds and gigabytes
    writeFileSync(status, JSON.stringify({ $type: REQUEST_TYPE, key: "k3", state: "running", updated_at: new Array(2_000_000).fill(1) }))
    const zod = vi.spyOn(RequestStatusSchema, "safeParse")
    try {
      expect(() => l.get("k3")).toThrow(expect.objectContaining({ code: "malformed", message: ".alloy/runs/requests/k3/status.json is not a valid alloy.request/v1 file" }))
      expect(zod).not.toHaveBeenCalled()
    } finally {
      zod.mockRestore()
    }
    writeFileSync(status, `"${"x".repeat(MAX_RECORD_BYTES)}"`)
    expect(() => l.get("k3")).toThrow(expect.objectContaining({ code: "malformed" }))
    rmSync(status)
    expect(l.get("k3")?.request.key).toBe("k3")
    // a runner registration of that kind is left out of the list, like any unreadable one
    mkdirSync(path.join(p.dir, ".alloy", "runs", "runners"), { recursive: true })
    writeFileSync(path.join(p.dir, ".alloy", "runs", "runners", "r1.json"), JSON.stringify({ id: new Array(2_000_000).fill(1) }))
    expect(l.runners()).toEqual([])
  })

  test("a running request past its lease is shown as lost", () => {
    const s = { $type: REQUEST_TYPE, key: "k", state: "running" as const, updated_at: "", lease_until: "2026-01-01T00:00:00.000Z" }
    expect(effectiveState(s, Date.parse("2026-01-01T00:00:01.000Z"))).toBe("lost")
    expect(effectiveState(s, Date.parse("2025-12-31T23:59:59.000Z"))).toBe("running")
    expect(effectiveState({ ...s, state: "succeeded" }, Date.parse("2027-01-01T00:00:00.000Z"))).toBe("succeeded")
  })
})

type Msgs = Parameters<typeof turnComplete>[0]
const user = { info: { role: "user", id: "u" }, parts: [] }
const asst = (over: Record<string, unknown>, parts: unknown[] = []) => ({
  info: { role: "assistant", id: "a", time: { created: 1, completed: 2 }, finish: "stop", tokens: { input: 1, output: 1, reasoning: 0, cache: { read: 0, write: 0 } }, cost: 0, ...over },
  parts,
})
const orchestrate = (output: unknown) => ({ type: "tool", tool: "foundry_orchestrate", state: { status: "completed", output: JSON.stringify(output) } })

describe("completion is read from the messages, not the event stream", () => {
  test("an idle before the prompt was taken up is not completion", () => {
    expect(turnComplete([] as unknown as Msgs)).toMatchObject({ done: false, prompted: false })
    expect(turnComplete([user] as unknown as Msgs)).toMatchObject({ done: false, prompted: true })
  })
  test("a step that ended in tool calls, or has not completed, is not the end of the turn", () => {
    expect(turnComplete([user, asst({ finish: "tool-calls" })] as unknown as Msgs).done).toBe(false)
    expect(turnComplete([user, asst({ time: { created: 1 } })] as unknown as Msgs).done).toBe(false)
    expect(turnComplete([user, asst({ finish: "tool-calls" }), asst({})] as unknown as Msgs).done).toBe(true)
  })
  test("an aborted turn is aborted; an errored one carries its error", () => {
    expect(turnComplete([user, asst({ error: { name: "MessageAbortedError" } })] as unknown as Msgs)).toMatchObject({ done: true, aborted: true })
    expect(turnComplete([user, asst({ error: { name: "APIError" } })] as unknown as Msgs)).toMatchObject({ done: true, error: "APIError" })
  })
  test("the terminal action is the last done / blocked / violation a Foundry driver returned", () => {
    const msgs = [
      user,
      asst({ finish: "tool-calls" }, [orchestrate({ action: "dispatch", stage: "forge:x" })]),
      asst({ finish: "tool-calls" }, [orchestrate({ action: "blocked", reason: "r" })]),
      asst({}),
    ]
    expect(terminalAction(msgs as unknown as Msgs)).toEqual({ tool: "foundry_orchestrate", action: "blocked", reason: "r" })
    expect(terminalAction([user, asst({}, [orchestrate({ action: "dispatch" })])] as unknown as Msgs)).toBeNull()
  })
})

describe("pre-flight and project mapping (no session, no tokens)", () => {
  test("the pinned brief maps to its cycle, with its criteria", async () => {
    const p = await project()
    const m = mapRequest(new AlloyContext(p.dir), p.briefId, {})
    expect(m).toMatchObject({ digest: p.digest, cycle: p.cycle, flow: null })
    expect(m.criteria.length).toBeGreaterThan(0)
    expect(goalText({ brief_id: p.briefId, digest: m.digest, goal: "G", criteria: m.criteria })).toContain(m.criteria[0]!)
    expect(foundryPrompt("orchestrate", { flow: null, cycle: p.cycle }, "G")).toContain("foundry_orchestrate")
    expect(foundryPrompt("run", { flow: "release-notes", cycle: null }, "G")).toContain("foundry_run")
  })
  test("a digest no cycle or flow pins is a pin error (not_pinned) with a fix", async () => {
    const p = await project()
    let err: { code?: string; fix?: string } = {}
    try {
      mapRequest(new AlloyContext(p.dir), p.briefId, { digest: "sha256:" + "0".repeat(64) })
    } catch (e) {
      err = e as typeof err
    }
    expect(err.code).toBe("not_pinned")
    expect(err.fix).toContain("opencode-alloy pin")
  })
  test("a tampered pinned bundle fails verification before anything runs", async () => {
    const p = await project({ tamper: true })
    expect(() => mapRequest(new AlloyContext(p.dir), p.briefId, {})).toThrow(expect.objectContaining({ code: "digest_mismatch" }))
  })
})

describe("which requests a bridge takes over", async () => {
  const { orphaned } = await import("../../../src/bridge/bridge.js")
  const entry = (status: Record<string, unknown> | undefined, result?: unknown) =>
    ({ request: { key: "k" }, status: status ? { $type: REQUEST_TYPE, key: "k", updated_at: "", ...status } : undefined, result }) as never
  const now = Date.parse("2026-01-01T00:00:00.000Z")
  const later = "2026-01-01T00:01:00.000Z"
  test("queued (no owner), a dead owner on this host, or a missed lease: taken over", () => {
    expect(orphaned(entry({ state: "accepted" }), now, "h")).toBe(true)
    expect(orphaned(entry({ state: "running", owner: { host: "h", pid: 2 ** 22 + 12345 }, lease_until: later }), now, "h")).toBe(true)
    expect(orphaned(entry({ state: "running", owner: { host: "other", pid: 1 }, lease_until: "2025-12-31T23:59:00.000Z" }), now, "h")).toBe(true)
  })
  test("a live owner within its lease, or a finished request: left alone", () => {
    expect(orphaned(entry({ state: "running", owner: { host: "h", pid: process.pid }, lease_until: later }), now, "h")).toBe(false)
    expect(orphaned(entry({ state: "running", owner: { host: "other", pid: 1 }, lease_until: later }), now, "h")).toBe(false)
    expect(orphaned(entry({ state: "succeeded" }), now, "h")).toBe(false)
    expect(orphaned(entry({ state: "running" }, { state: "succeeded" }), now, "h")).toBe(false)
  })
})
