// Scripted OpenAI-compatible chat-completions server for the OpenCode e2e tests.
// No dependencies; listens on 127.0.0.1 only. Adapted from the shared opencode-e2e kit.
//
// The reply to POST /v1/chat/completions (streamed or not) depends only on the request body, so
// OpenCode's concurrent title-generation request can arrive in any order:
//   * k = number of `tool` messages in the request (results of earlier tool calls).
//   * k < script.length and the request offers script[k].tool  -> one call of script[k].tool
//   * k < script.length but the tool is not offered           -> plain text saying so (the test
//     then fails on its tool_use assertions, with this text in the output)
//   * k >= script.length (script done, k > 0)                   -> plain text echoing the last tool result
//   * no tools offered and no tool results (title generation)   -> plain text
// Errors are answered with 4xx, never 5xx: OpenCode retries 5xx and connection errors with
// back-off for ~70 s before failing, but fails a 4xx at once.
import http from "node:http"
import type { AddressInfo } from "node:net"

export interface ScriptStep {
  tool: string
  args: Record<string, unknown>
  /**
   * issue this step only once the latest user message contains this text; until then answer with
   * plain text, ending the turn (as a model does that waits on a person's answer)
   */
  waitFor?: string
}

export interface MockLlmOptions {
  /** tool calls to issue, in order; the n-th is issued once n-1 tool results are in the request */
  script?: ScriptStep[]
  /** prefix of the final text answer (followed by the last tool result) */
  finalPrefix?: string
  /** answer when no tool is offered and there is no tool result (e.g. title generation) */
  plainText?: string
  /**
   * other scripts by name: a conversation whose first user message contains `[mock-script:<name>]`
   * follows that script instead of `script` (so one server can play several scenarios)
   */
  scripts?: Record<string, ScriptStep[]>
}

export type PlannedReply = { kind: "tool_call"; name: string; args: Record<string, unknown> } | { kind: "text"; text: string }

interface ChatMessage {
  role?: string
  content?: unknown
  tool_call_id?: string
  tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }>
}

interface ChatBody {
  model?: string
  stream?: boolean
  messages?: ChatMessage[]
  tools?: Array<{ function?: { name?: string; parameters?: unknown } }>
  unparsable?: string
}

export interface RecordedRequest {
  seq: number
  method: string
  url: string
  body: ChatBody
  reply: PlannedReply | undefined
}

/** A tool result message as the runtime sent it back to the model. */
export interface ToolResultMessage {
  toolCallId: string | undefined
  /** tool name, resolved through the assistant message's tool_calls */
  tool: string | undefined
  content: string
}

/** Text of a message `content` (a string or an array of `{type:"text", text}` parts). */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => {
        if (typeof p === "string") return p
        if (p && typeof p === "object" && "text" in p && typeof (p as { text: unknown }).text === "string") {
          return (p as { text: string }).text
        }
        return JSON.stringify(p)
      })
      .join("")
  }
  return content === undefined || content === null ? "" : JSON.stringify(content)
}

/** Tool result messages in one request body, in order, with the tool name of each. */
export function toolResultsOf(body: ChatBody): ToolResultMessage[] {
  const messages = Array.isArray(body.messages) ? body.messages : []
  const names = new Map<string, string>()
  for (const m of messages) {
    for (const c of m.tool_calls ?? []) if (c.id && c.function?.name) names.set(c.id, c.function.name)
  }
  return messages
    .filter((m) => m.role === "tool")
    .map((m) => ({
      toolCallId: m.tool_call_id,
      tool: m.tool_call_id ? names.get(m.tool_call_id) : undefined,
      content: contentText(m.content),
    }))
}

/** Decide what to answer for one chat-completions request body. */
export function planReply(body: ChatBody, opts: Required<MockLlmOptions>): PlannedReply {
  const tools = Array.isArray(body.tools) ? body.tools : []
  const results = toolResultsOf(body)
  const k = results.length
  const firstUser = (Array.isArray(body.messages) ? body.messages : []).find((m) => m.role === "user")
  const named = /\[mock-script:([a-z0-9-]+)\]/.exec(contentText(firstUser?.content))?.[1]
  const script = (named && opts.scripts[named]) || opts.script
  const step = script[k]
  if (step?.waitFor !== undefined) {
    const lastUser = (Array.isArray(body.messages) ? body.messages : []).filter((m) => m.role === "user").at(-1)
    if (!contentText(lastUser?.content).includes(step.waitFor)) return { kind: "text", text: `${opts.finalPrefix}${results[k - 1]?.content ?? ""}` }
  }
  if (step) {
    if (tools.some((t) => t?.function?.name === step.tool)) return { kind: "tool_call", name: step.tool, args: step.args }
    if (k > 0 || tools.length > 0) {
      const offered = tools.map((t) => t?.function?.name).join(",")
      return { kind: "text", text: `MOCK-ERROR: script step ${k + 1} wants tool ${step.tool}, not offered (offered: ${offered})` }
    }
    return { kind: "text", text: opts.plainText }
  }
  const last = results[k - 1]
  if (last) return { kind: "text", text: `${opts.finalPrefix}${last.content}` }
  return { kind: "text", text: opts.plainText }
}

function chunk(id: string, model: string, delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    id,
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  }
}

function usageChunk(id: string, model: string) {
  return {
    id,
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [],
    usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
  }
}

function sendStream(res: http.ServerResponse, reply: PlannedReply, model: string, seq: number): void {
  const id = `chatcmpl-mock-${seq}`
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
  const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`)
  if (reply.kind === "tool_call") {
    const callId = `call_mock_${seq}`
    const argText = JSON.stringify(reply.args)
    const half = Math.floor(argText.length / 2)
    send(
      chunk(id, model, {
        role: "assistant",
        content: null,
        tool_calls: [{ index: 0, id: callId, type: "function", function: { name: reply.name, arguments: "" } }],
      }),
    )
    // Arguments are streamed in two pieces, as real providers do.
    send(chunk(id, model, { tool_calls: [{ index: 0, function: { arguments: argText.slice(0, half) } }] }))
    send(chunk(id, model, { tool_calls: [{ index: 0, function: { arguments: argText.slice(half) } }] }))
    send(chunk(id, model, {}, "tool_calls"))
  } else {
    send(chunk(id, model, { role: "assistant", content: "" }))
    for (const w of reply.text.split(/(?<= )/)) send(chunk(id, model, { content: w }))
    send(chunk(id, model, {}, "stop"))
  }
  send(usageChunk(id, model))
  res.write("data: [DONE]\n\n")
  res.end()
}

function sendJson(res: http.ServerResponse, reply: PlannedReply, model: string, seq: number): void {
  const message =
    reply.kind === "tool_call"
      ? {
          role: "assistant",
          content: null,
          tool_calls: [{ id: `call_mock_${seq}`, type: "function", function: { name: reply.name, arguments: JSON.stringify(reply.args) } }],
        }
      : { role: "assistant", content: reply.text }
  res.writeHead(200, { "content-type": "application/json" })
  res.end(
    JSON.stringify({
      id: `chatcmpl-mock-${seq}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message, finish_reason: reply.kind === "tool_call" ? "tool_calls" : "stop" }],
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
    }),
  )
}

export interface MockLlm {
  port: number
  /** base URL for the provider config: http://127.0.0.1:<port>/v1 */
  url: string
  /** every request received, in arrival order */
  requests: RecordedRequest[]
  chatRequests(): RecordedRequest[]
  /** tool result messages of the chat request that carried the most of them (what the model finally saw) */
  toolResults(): ToolResultMessage[]
  close(): Promise<void>
}

export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const opts: Required<MockLlmOptions> = {
    script: [],
    finalPrefix: "MOCK-FINAL: last tool result: ",
    plainText: "MOCK-TEXT",
    scripts: {},
    ...options,
  }
  const requests: RecordedRequest[] = []
  let seq = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8")
      let body: ChatBody = {}
      try {
        body = raw ? (JSON.parse(raw) as ChatBody) : {}
      } catch {
        body = { unparsable: raw.slice(0, 200) }
      }
      const entry: RecordedRequest = { seq: ++seq, method: req.method ?? "", url: req.url ?? "", body, reply: undefined }
      requests.push(entry)
      const path = entry.url.split("?")[0] ?? ""
      if (req.method === "POST" && path.endsWith("/chat/completions")) {
        let reply: PlannedReply
        try {
          reply = planReply(body, opts)
        } catch (err) {
          res.writeHead(400, { "content-type": "application/json" })
          res.end(JSON.stringify({ error: { message: `mock: cannot plan a reply: ${String(err)}` } }))
          return
        }
        entry.reply = reply
        const model = body.model ?? "mock-model"
        if (body.stream) sendStream(res, reply, model, entry.seq)
        else sendJson(res, reply, model, entry.seq)
        return
      }
      if (req.method === "GET" && path.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ object: "list", data: [{ id: "mock-model", object: "model", owned_by: "mock" }] }))
        return
      }
      res.writeHead(404, { "content-type": "application/json" })
      res.end(JSON.stringify({ error: { message: `mock: no route for ${req.method} ${req.url}` } }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const chatRequests = () => requests.filter((r) => r.url.includes("/chat/completions"))
  return {
    port,
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests,
    toolResults() {
      let best: ToolResultMessage[] = []
      for (const r of chatRequests()) {
        const results = toolResultsOf(r.body)
        if (results.length > best.length) best = results
      }
      return best
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
