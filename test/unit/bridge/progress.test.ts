/** What a person sees: plain lines off a TTY, one rewritten status line on a TTY, JSON with --json; answers from stdin. */
import { PassThrough } from "node:stream"
import { describe, expect, test } from "vitest"
import { Progress } from "../../../src/bridge/progress.js"
import type { QuestionRequest } from "@opencode-ai/sdk/v2/client"

const q: QuestionRequest = {
  id: "que_1",
  sessionID: "ses_1",
  questions: [
    {
      question: "Which tone?",
      header: "Tone",
      options: [
        { label: "friendly", description: "" },
        { label: "formal", description: "" },
      ],
    },
  ],
}

function io(over: { tty?: boolean; json?: boolean } = {}) {
  const out: string[] = []
  const err: string[] = []
  const raw: string[] = []
  const input = new PassThrough()
  const p = new Progress({ out: (s) => out.push(s), err: (s) => err.push(s), json: over.json ?? false, tty: over.tty ?? false, write: (s) => raw.push(s), input })
  return { p, out, err, raw, input }
}

describe("progress", () => {
  test("plain: stages and the result as lines; heartbeats are silent", () => {
    const { p, out } = io()
    p.event({ type: "tool", key: "k", tool: "foundry_orchestrate", status: "completed", stage: "forge:draft-release-note", action: "dispatch" })
    p.event({ type: "heartbeat", key: "k", lease_until: "2026-01-01T00:00:00.000Z" })
    expect(out).toEqual(["foundry_orchestrate completed stage forge:draft-release-note → dispatch"])
    p.close()
  })

  test("TTY: one status line with stage, iteration, elapsed and open questions, rewritten in place", async () => {
    const { p, raw, input } = io({ tty: true })
    p.event({ type: "tool", key: "k", tool: "foundry_orchestrate", status: "completed", stage: "forge:x" })
    p.event({ type: "tool", key: "k", tool: "foundry_orchestrate", status: "completed", stage: "forge:x" })
    expect(raw.at(-1)).toMatch(/^\r\x1b\[2K.*\[alloy\] stage forge:x · iteration 2 · \d+s$/s)
    const answer = p.question(q)
    p.event({ type: "heartbeat", key: "k", lease_until: "" })
    expect(raw.at(-1)).toContain("1 open question")
    input.write("2\n")
    expect(await answer).toEqual([["formal"]])
    p.close()
  })

  test("answers: a number picks an option, other text is a custom answer, end of input rejects", async () => {
    const { p, input } = io()
    const a = p.question(q)
    input.write("louder, please\n")
    expect(await a).toEqual([["louder, please"]])
    const b = p.question(q)
    input.end()
    expect(await b).toBeUndefined()
  })

  test("--json: every event as one JSON line", () => {
    const { p, out } = io({ json: true })
    p.event({ type: "request", key: "k", state: "accepted" })
    expect(JSON.parse(out[0]!)).toEqual({ type: "request", key: "k", state: "accepted" })
  })
})
