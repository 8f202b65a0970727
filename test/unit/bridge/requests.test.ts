/** Queue, abort, answer and list bridge requests: the use cases the CLI and the UI share (src/bridge/requests.ts). */
import { afterEach, describe, expect, test } from "vitest"
import fc from "fast-check"
import { abortRequest, answerAsk, listRequests, normaliseAnswers, queueRequest } from "../../../src/bridge/requests.js"
import { Ledger } from "../../../src/bridge/ledger.js"
import { REQUEST_TYPE, type Ask } from "../../../src/bridge/request.js"
import { orphaned } from "../../../src/bridge/bridge.js"
import { makePinnedProject, type PinnedProject } from "../../helpers/project.js"
import { gitInitCommitAll } from "../../helpers/git.js"
import { readEvents } from "../../../src/store/outbox.js"

const projects: PinnedProject[] = []
afterEach(() => {
  for (const p of projects.splice(0)) p.cleanup()
})
async function project(): Promise<PinnedProject> {
  const p = await makePinnedProject()
  projects.push(p)
  gitInitCommitAll(p.dir)
  return p
}

const ask = (key: string, over: Partial<Ask> = {}): Ask => ({
  $type: REQUEST_TYPE,
  kind: "ask",
  key,
  id: "que_1",
  ask: "question",
  session: "ses_1",
  questions: [
    {
      question: "Which tone?",
      header: "Tone",
      options: [{ label: "friendly" }, { label: "formal" }],
      custom: true,
    },
  ],
  asked_at: new Date().toISOString(),
  ...over,
})

describe("queueRequest", () => {
  test("queues once: the same request again is the same key, nothing new; a running bridge would take it (nobody owns it)", async () => {
    const p = await project()
    const a = queueRequest({ root: p.dir, brief: p.briefId, goal: "Announce the redesign" })
    expect(a).toMatchObject({ created: true, state: "accepted" })
    const b = queueRequest({ root: p.dir, brief: p.briefId, goal: "Announce the redesign" })
    expect(b).toEqual({ key: a.key, created: false, state: "accepted" })
    const e = new Ledger(p.dir).get(a.key)!
    expect(e.status?.owner).toBeUndefined()
    expect(orphaned(e, Date.now())).toBe(true)
    expect(listRequests(p.dir).map((r) => r.key)).toEqual([a.key])
    expect(readEvents(p.dir).events.filter((x) => x.kind === "request_state" && x.request === a.key)).toHaveLength(1)
  })

  test("another goal under a given key is idempotency_conflict; an unpinned brief is a pin error, and nothing is queued", async () => {
    const p = await project()
    queueRequest({ root: p.dir, brief: p.briefId, goal: "one", key: "ui-1" })
    expect(() => queueRequest({ root: p.dir, brief: p.briefId, goal: "two", key: "ui-1" })).toThrow(expect.objectContaining({ code: "idempotency_conflict" }))
    expect(() => queueRequest({ root: p.dir, brief: "no-such-brief", goal: "x" })).toThrow(expect.objectContaining({ code: "brief_not_found" }))
    expect(() => queueRequest({ root: p.dir, brief: p.briefId, key: "../evil" })).toThrow(expect.objectContaining({ code: "usage" }))
    expect(listRequests(p.dir)).toHaveLength(1)
  })
})

describe("abortRequest", () => {
  test("a queued request that never started ends aborted at once, with nothing spent; aborting again says it had ended", async () => {
    const p = await project()
    const q = queueRequest({ root: p.dir, brief: p.briefId, goal: "abort me" })
    expect(await abortRequest(p.dir, q.key.slice(0, 10))).toEqual({ key: q.key, state: "aborted", already: false })
    const e = new Ledger(p.dir).get(q.key)!
    expect(e.result).toMatchObject({ state: "aborted", sessions: [], cost: 0 })
    expect(orphaned(e, Date.now())).toBe(false)
    expect(await abortRequest(p.dir, q.key)).toEqual({ key: q.key, state: "aborted", already: true })
  })

  test("an unknown request is a usage error", async () => {
    const p = await project()
    await expect(abortRequest(p.dir, "nope")).rejects.toMatchObject({ code: "usage" })
  })
})

describe("answers", () => {
  test("the first answer wins; a second is refused; an ask that does not exist cannot be answered", async () => {
    const p = await project()
    const q = queueRequest({ root: p.dir, brief: p.briefId, goal: "ask me" })
    const l = new Ledger(p.dir)
    expect(l.ask(ask(q.key))).toBe(true)
    expect(l.ask(ask(q.key))).toBe(false)
    expect(listRequests(p.dir)[0]!.open.map((a) => a.id)).toEqual(["que_1"])
    const r = answerAsk(p.dir, q.key, "que_1", [["2"]], "ui")
    expect(r.answer).toMatchObject({ answers: [["formal"]], by: "ui" })
    expect(() => answerAsk(p.dir, q.key, "que_1", [["friendly"]], "terminal")).toThrow(expect.objectContaining({ code: "already_exists" }))
    expect(l.answerOf(q.key, "que_1")?.by).toBe("ui")
    expect(listRequests(p.dir)[0]!.open).toEqual([])
    expect(() => answerAsk(p.dir, q.key, "que_9", [["x"]], "ui")).toThrow(expect.objectContaining({ code: "usage" }))
    expect(() => l.answer({ $type: REQUEST_TYPE, kind: "answer", key: q.key, id: "que_9", answers: null, by: "ui", at: "" })).toThrow(expect.objectContaining({ code: "usage" }))
  })

  test("a finished request's questions are not open and cannot be answered", async () => {
    const p = await project()
    const q = queueRequest({ root: p.dir, brief: p.briefId, goal: "ends" })
    new Ledger(p.dir).ask(ask(q.key))
    await abortRequest(p.dir, q.key)
    expect(listRequests(p.dir)[0]!.open).toEqual([])
    expect(() => answerAsk(p.dir, q.key, "que_1", [["friendly"]], "ui")).toThrow(expect.objectContaining({ code: "usage" }))
  })

  test("normalise: a label or its number maps to the label; free text only where the question takes it; every part answered", () => {
    const a = ask("k")
    expect(normaliseAnswers(a, [["friendly"]])).toEqual([["friendly"]])
    expect(normaliseAnswers(a, [["1"]])).toEqual([["friendly"]])
    expect(normaliseAnswers(a, [["  warmer  "]])).toEqual([["warmer"]])
    expect(() => normaliseAnswers(a, [])).toThrow(expect.objectContaining({ code: "usage" }))
    expect(() => normaliseAnswers(a, [[" "]])).toThrow(expect.objectContaining({ code: "usage" }))
    expect(() => normaliseAnswers(a, [["friendly", "formal"]])).toThrow(expect.objectContaining({ code: "usage" }))
    const perm = ask("k", { ask: "permission", questions: [{ question: "Allow bash?", header: "bash", options: [{ label: "once" }, { label: "always" }, { label: "reject" }], custom: false }] })
    expect(normaliseAnswers(perm, [["2"]])).toEqual([["always"]])
    expect(() => normaliseAnswers(perm, [["sure"]])).toThrow(expect.objectContaining({ code: "usage" }))
    // whatever is typed, an answer is one of the options or the (bounded) text itself
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 5000 }), (t) => {
        if (!t.trim()) return
        const [[out]] = normaliseAnswers(a, [[t]]) as [[string]]
        expect(["friendly", "formal"].includes(out) || (out === t.trim().slice(0, 4000) && out.length <= 4000)).toBe(true)
      }),
    )
  })
})
