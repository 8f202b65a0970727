/** The bridge's answer path and the run era's human appraisal (src/bridge/run.ts): pure parts and the ledger round trip. */
import { afterEach, describe, expect, test } from "vitest"
import fc from "fast-check"
import type { PermissionRequest, QuestionRequest } from "@opencode-ai/sdk/v2/client"
import { appraisalAsk, appraisalOutputs, appraisalReply, openAsk, promptUserOf, sendAnswered, type Asking, type BridgeEvent, type RunUi } from "../../../src/bridge/run.js"
import { Ledger } from "../../../src/bridge/ledger.js"
import { REQUEST_TYPE, type RequestSpec } from "../../../src/bridge/request.js"
import { answerAsk } from "../../../src/bridge/requests.js"
import { makePinnedProject, type PinnedProject } from "../../helpers/project.js"

const projects: PinnedProject[] = []
afterEach(() => {
  for (const p of projects.splice(0)) p.cleanup()
})

// a session's messages as the bridge reads them, reduced to what promptUserOf looks at
const msgs = (...outputs: Array<[string, unknown]>) =>
  outputs.map(([tool, out], i) => ({
    info: { role: "assistant" },
    parts: [{ type: "tool", id: `prt_${i}`, tool, state: { status: "completed", output: JSON.stringify(out) } }],
  })) as never

const PU = { action: "prompt_user", stage: "human-appraise", artefact: "notes/a.md", feedback: [], goal: "g" }

describe("prompt_user", () => {
  test("is the last driver call's action, or nothing", () => {
    expect(promptUserOf(msgs(["foundry_run", PU]))).toMatchObject({ id: "apr_prt_0", stage: "human-appraise", artefact: "notes/a.md", feedback: [] })
    expect(promptUserOf(msgs(["foundry_run", PU], ["foundry_continue", { action: "done" }]))).toBeUndefined()
    expect(promptUserOf(msgs(["foundry_run", PU], ["read", { action: "done" }]))?.id).toBe("apr_prt_0")
    expect(promptUserOf(msgs(["foundry_run", { action: "done" }]))).toBeUndefined()
  })

  test("always mode: approve / reject / words become Foundry's human-appraise stage outputs", () => {
    const pu = promptUserOf(msgs(["foundry_run", PU]))!
    expect(appraisalAsk("k", "ses", pu).questions).toHaveLength(1)
    expect(appraisalOutputs(pu, [["approve"]])).toEqual([{ verdict: "approved" }])
    expect(appraisalOutputs(pu, [["reject"]])).toEqual([{ verdict: "rejected" }])
    expect(appraisalOutputs(pu, [["Lead with the benefit"]])).toEqual([{ verdict: "rejected", feedback: "Lead with the benefit" }])
  })

  test("deadlock mode: one question per deadlocked item, answered per item", () => {
    const pu = promptUserOf(
      msgs([
        "foundry_continue",
        {
          ...PU,
          feedback: [
            { id: "fb-1", text: "too long", history: [{ state: "deadlocked" }] },
            { id: "fb-2", text: "tone" },
          ],
        },
      ]),
    )!
    expect(pu.feedback[0]).toEqual({ id: "fb-1", text: "too long", state: "deadlocked" })
    expect(appraisalAsk("k", "ses", pu).questions.map((q) => q.header)).toEqual(["Feedback fb-1", "Feedback fb-2"])
    expect(appraisalOutputs(pu, [["resolve"], ["keep it short"]])).toEqual([
      { itemId: "fb-1", verdict: "resolved" },
      { itemId: "fb-2", verdict: "rejected", feedback: "keep it short" },
    ])
  })

  test("the reply quotes the person's words as JSON data the block cannot be closed from", () => {
    const pu = promptUserOf(msgs(["foundry_run", PU]))!
    fc.assert(
      fc.property(fc.string(), (words) => {
        const reply = appraisalReply(pu, [[words || "x"]])
        const inner = reply.slice(reply.indexOf("<stage_outputs>\n") + 16, reply.lastIndexOf("\n</stage_outputs>"))
        expect(inner).not.toContain("<")
        const parsed = inner.split("\n").map((l) => JSON.parse(l) as Record<string, string>)
        expect(parsed).toEqual(appraisalOutputs(pu, [[words || "x"]]))
      }),
    )
    expect(appraisalReply(pu, null)).toContain("Do not call foundry_continue")
  })
})

describe("the answer path: ledger first, then OpenCode", () => {
  const spec: RequestSpec = { brief_id: "b", digest: `sha256:${"a".repeat(64)}`, flow: null, cycle: "c", goal: "g", goal_hash: "1".repeat(64), base_commit: "b".repeat(40), criteria: [] }
  const ask = (id: string) => ({
    $type: REQUEST_TYPE,
    kind: "ask" as const,
    key: "k1",
    id,
    ask: "question" as const,
    session: "ses",
    questions: [{ question: "Which tone?", header: "Tone", options: [{ label: "friendly" }, { label: "formal" }], custom: true }],
    asked_at: new Date().toISOString(),
  })
  function ui(terminal: (q: QuestionRequest, signal?: AbortSignal) => Promise<string[][] | undefined>): RunUi & { events: BridgeEvent[] } {
    const events: BridgeEvent[] = []
    return { events, event: (e) => events.push(e), question: terminal, permission: async (_p: PermissionRequest) => undefined }
  }

  test("an answer from elsewhere (the UI) is sent once and stops the terminal's prompt", async () => {
    const p = await makePinnedProject()
    projects.push(p)
    const l = new Ledger(p.dir)
    l.claim("k1", "given", spec)
    let stopped = false
    const u = ui(
      (_q, signal) =>
        new Promise((resolve) =>
          signal?.addEventListener("abort", () => {
            stopped = true
            resolve(undefined)
          }),
        ),
    )
    const asking: Asking = { open: new Map(), sent: new Set() }
    const sent: Array<string[][] | null> = []
    openAsk(l, asking, ask("que_1"), async (a) => void sent.push(a), u, true)
    await sendAnswered(l, asking, "k1", u)
    expect(sent).toEqual([])
    answerAsk(p.dir, "k1", "que_1", [["formal"]], "ui")
    await sendAnswered(l, asking, "k1", u)
    await sendAnswered(l, asking, "k1", u)
    expect(sent).toEqual([[["formal"]]])
    expect(stopped).toBe(true)
    expect(u.events).toContainEqual(expect.objectContaining({ type: "answered", id: "que_1", by: "ui" }))
    // asked again (a restarted bridge lists it again): nothing is sent twice
    openAsk(l, asking, ask("que_1"), async (a) => void sent.push(a), u, true)
    await sendAnswered(l, asking, "k1", u)
    expect(sent).toHaveLength(1)
  })

  test("the terminal's answer goes through the ledger too; a bridge with nobody at its terminal leaves the question open, `run` dismisses it", async () => {
    const p = await makePinnedProject()
    projects.push(p)
    const l = new Ledger(p.dir)
    l.claim("k1", "given", spec)
    const asking: Asking = { open: new Map(), sent: new Set() }
    const sent: Array<string[][] | null> = []
    openAsk(
      l,
      asking,
      ask("que_t"),
      async (a) => void sent.push(a),
      ui(async () => [["friendly"]]),
      true,
    )
    openAsk(
      l,
      asking,
      ask("que_eof_bridge"),
      async (a) => void sent.push(a),
      ui(async () => undefined),
      true,
    )
    openAsk(
      l,
      asking,
      ask("que_eof_run"),
      async (a) => void sent.push(a),
      ui(async () => undefined),
      false,
    )
    await new Promise((r) => setImmediate(r))
    expect(l.answerOf("k1", "que_t")).toMatchObject({ answers: [["friendly"]], by: "terminal" })
    expect(l.answerOf("k1", "que_eof_bridge")).toBeUndefined()
    expect(l.answerOf("k1", "que_eof_run")).toMatchObject({ answers: null, by: "terminal" })
    await sendAnswered(
      l,
      asking,
      "k1",
      ui(async () => undefined),
    )
    expect(sent).toEqual([[["friendly"]], null])
  })
})
