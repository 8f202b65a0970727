/**
 * `opencode-alloy run`: one request, from a pinned brief to a posted result.
 *
 *   verify (no tokens on unverified context) → map the brief to the checkout's pin → derive the
 *   key → claim it in the ledger (or attach to / replay what is there) → a git worktree per
 *   request → an OpenCode server (attached or started) → its capabilities (Foundry generation,
 *   agent) → one tagged session (`metadata.alloy_request`) with an explicit permission ruleset →
 *   the Foundry prompt → follow until done → the result, once.
 *
 * Completion is confirmed by polling `session.status` and the messages, never by the event stream
 * alone: the stream can close mid-turn and `idle` can arrive before the prompt was taken up.
 * Questions and permission requests are found by polling their lists too, so a dropped stream
 * never leaves the agent waiting on an answer nobody saw.
 */
import { sleepUnlessAborted } from "../evidence/events.js"
import { appendFileSync, existsSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { OpencodeClient, PermissionRequest, PermissionRuleset, QuestionRequest, Part, Message } from "@opencode-ai/sdk/v2/client"
import { AlloyError } from "../core/errors.js"
import { jsonData } from "../core/prompt-safety.js"
import { AlloyContext } from "../service/context.js"
import { verifyAllPins, type PinCheck } from "../service/verify-pins.js"
import { resolvePin } from "../service/resolve.js"
import { appendEvent } from "../store/outbox.js"
import { importAll } from "../evidence/import.js"
import { readRecords } from "../store/outbox.js"
import { loadEvidence, verdictChanges } from "../evidence/model.js"
import { readRunAttestation } from "../foundry/attestations.js"
import { Ledger, pidAlive, type LedgerEntry } from "./ledger.js"
import {
  GIVEN_KEY_RE,
  REQUEST_TYPE,
  TERMINAL_STATES,
  abortedUnstarted,
  contentKey,
  effectiveState,
  foundryPrompt,
  goalText,
  sha256,
  stateForAction,
  type Ask,
  type RequestResult,
  type RequestSpec,
  type RequestStatus,
  type Tokens,
} from "./request.js"
import { attach, capabilities, startServer, clientFor, type Server } from "./server.js"
import { headCommit, worktreeFor } from "./worktree.js"

/** What the bridge tells the person (or the UI) while a run goes on. */
export type BridgeEvent =
  | { type: "request"; key: string; state: string; attached?: boolean; replay?: boolean }
  | { type: "session"; key: string; session: string; worktree: string; agent: string; generation: string }
  | { type: "tool"; key: string; tool: string; status: string; stage?: string; action?: string }
  | { type: "question"; key: string; id: string; questions: Array<{ question: string; header: string; options: string[] }> }
  | { type: "permission"; key: string; id: string; permission: string; patterns: string[] }
  | { type: "appraisal"; key: string; id: string; stage: string; artefact: string; feedback: number }
  | { type: "answered"; key: string; id: string; ask: string; by: string; answers: string[][] | null }
  | { type: "heartbeat"; key: string; lease_until: string }
  | { type: "stream"; key: string; state: "connected" | "dropped" }
  | { type: "result"; key: string; result: RequestResult }

export interface RunUi {
  event(e: BridgeEvent): void
  /**
   * The terminal's answers per question (each a list of labels or custom text), or undefined when it
   * has none (no input left). `signal` aborts when the question was answered elsewhere (the UI).
   */
  question(q: QuestionRequest, signal?: AbortSignal): Promise<string[][] | undefined>
  permission(p: PermissionRequest, signal?: AbortSignal): Promise<"once" | "always" | "reject" | undefined>
}

export interface RunOptions {
  readonly root: string
  readonly brief: string
  readonly flow?: string | undefined
  readonly digest?: string | undefined
  readonly goal?: string | undefined
  readonly attach?: string | undefined
  readonly key?: string | undefined
  readonly ui: RunUi
  readonly signal?: AbortSignal | undefined
  readonly leaseMs?: number
  readonly pollMs?: number
  readonly timeoutMs?: number
  readonly runner?: string | undefined
}

/**
 * The session's permission ruleset: what a Foundry flow needs inside its own worktree is allowed,
 * anything that reaches outside it (other directories, the web) is refused, and a shell command is
 * asked, so it reaches the person.
 */
export const PERMISSION_RULES: PermissionRuleset = [
  { permission: "*", pattern: "*", action: "ask" },
  ...["read", "edit", "glob", "grep", "list", "task", "todowrite", "todoread", "question", "skill"].map((p) => ({ permission: p, pattern: "*", action: "allow" as const })),
  { permission: "foundry_*", pattern: "*", action: "allow" },
  { permission: "alloy_*", pattern: "*", action: "allow" },
  { permission: "bash", pattern: "git *", action: "allow" },
  { permission: "external_directory", pattern: "*", action: "deny" },
  { permission: "webfetch", pattern: "*", action: "deny" },
  { permission: "websearch", pattern: "*", action: "deny" },
]

const TERMINAL_ACTIONS = new Set(["done", "blocked", "violation"])
const FOUNDRY_DRIVERS = new Set(["foundry_orchestrate", "foundry_run", "foundry_continue"])

const sleep = sleepUnlessAborted

function pinError(check: PinCheck): AlloyError {
  return new AlloyError((check.code as never) ?? "malformed", check.message ?? `${check.file} does not verify`, check.fix ? { fix: check.fix, file: check.file } : { file: check.file })
}

/** Pre-flight: every pin verifies, and some cycle or flow of this checkout pins the requested digest. */
export function mapRequest(
  ctx: AlloyContext,
  brief: string,
  opts: { flow?: string | undefined; digest?: string | undefined },
): { digest: string; flow: string | null; cycle: string | null; criteria: string[]; goals: string[] } {
  ctx.store.requireInit()
  const report = verifyAllPins(ctx)
  const bad = report.pins.find((p) => p.status === "error")
  if (bad) throw pinError(bad)
  const digest = opts.digest ?? ctx.store.readRef(brief)
  if (!digest) throw new AlloyError(ctx.store.hasRecipe(brief) ? "not_pinned" : "brief_not_found", `brief ${brief} has no build yet`, { fix: `opencode-alloy brief build ${brief}` })
  const pins = report.pins.filter((p) => p.brief_id === brief && p.digest === digest && p.status !== "error")
  const flowPin = opts.flow ? pins.find((p) => p.kind === "flow" && p.id === opts.flow) : pins.find((p) => p.kind === "flow")
  const cyclePin = pins.find((p) => p.kind === "cycle")
  const pin = flowPin ?? cyclePin
  if (!pin || (opts.flow && !flowPin && !ctx.project.listFlowIds().includes(opts.flow))) {
    const other = report.pins.find((p) => p.brief_id === brief)
    throw new AlloyError(
      "not_pinned",
      `no cycle or flow in this checkout pins brief ${brief} @ ${digest.slice(0, 19)}…${other?.digest ? ` (${other.file} pins ${other.digest.slice(0, 19)}…)` : ""}, so the request has nowhere to run`,
      { fix: `opencode-alloy pin ${opts.flow ? `--flow ${opts.flow}` : "<cycle>"} ${brief}, commit, and run again` },
    )
  }
  const resolved = resolvePin(ctx, { brief_id: brief, digest, source: { kind: pin.kind, id: pin.id, file: pin.file } })
  const criteria = resolved.bundle.intents.flatMap((i) => i.acceptance_criteria.map((c) => `${i.id}#${c.id}`))
  return {
    digest,
    flow: opts.flow ?? (pin.kind === "flow" ? pin.id : null),
    cycle: opts.flow || pin.kind === "flow" ? null : pin.id,
    criteria,
    goals: resolved.bundle.intents.map((i) => i.goal),
  }
}

export function buildSpec(ctx: AlloyContext, opts: Pick<RunOptions, "brief" | "flow" | "digest" | "goal">): RequestSpec {
  const m = mapRequest(ctx, opts.brief, opts)
  const goal = (opts.goal ?? m.goals.join("\n")).trim()
  return { brief_id: opts.brief, digest: m.digest, flow: m.flow, cycle: m.cycle, goal, goal_hash: sha256(goal), base_commit: headCommit(ctx.root), criteria: m.criteria }
}

interface Follow {
  readonly client: OpencodeClient
  readonly directory: string
  readonly session: string
}

type Msg = { info: Message; parts: Part[] }

async function messagesOf(f: Follow, sessionID: string): Promise<Msg[]> {
  const r = await f.client.session.messages({ sessionID, directory: f.directory })
  return (r.data ?? []) as Msg[]
}

/** The session finished its turn: idle, and the last assistant message after the last prompt has completed. */
export function turnComplete(msgs: Msg[]): { done: boolean; prompted: boolean; aborted: boolean; error?: string } {
  const lastUser = msgs.map((m) => m.info.role).lastIndexOf("user")
  if (lastUser < 0) return { done: false, prompted: false, aborted: false }
  const after = msgs.slice(lastUser + 1).filter((m) => m.info.role === "assistant")
  const last = after[after.length - 1]?.info
  if (last?.role !== "assistant" || !last.time.completed) return { done: false, prompted: true, aborted: false }
  const errName = last.error ? (last.error as { name?: string }).name : undefined
  if (errName === "MessageAbortedError") return { done: true, prompted: true, aborted: true }
  if (last.error) return { done: true, prompted: true, aborted: false, error: errName ?? "error" }
  return { done: last.finish !== "tool-calls" && last.finish !== "unknown", prompted: true, aborted: false }
}

function toolOutputJson(part: Part): Record<string, unknown> | undefined {
  if (part.type !== "tool" || part.state.status !== "completed") return undefined
  try {
    const v: unknown = JSON.parse(part.state.output)
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** The last terminal action a Foundry driver tool returned in these messages. */
export function terminalAction(msgs: Msg[]): RequestResult["terminal_action"] {
  let found: RequestResult["terminal_action"] = null
  for (const m of msgs) {
    for (const p of m.parts) {
      if (p.type !== "tool" || !FOUNDRY_DRIVERS.has(p.tool)) continue
      const out = toolOutputJson(p)
      const action = typeof out?.["action"] === "string" ? (out["action"] as string) : undefined
      if (action && TERMINAL_ACTIONS.has(action)) {
        found = { tool: p.tool, action, ...(typeof out?.["reason"] === "string" ? { reason: (out["reason"] as string).slice(0, 500) } : {}) }
      }
    }
  }
  return found
}

/** The Foundry run id a driver tool named in its output (`run_id`), the last one given. */
export function runIdOf(msgs: Msg[]): string | undefined {
  let id: string | undefined
  for (const m of msgs)
    for (const p of m.parts) {
      if (p.type !== "tool" || !FOUNDRY_DRIVERS.has(p.tool)) continue
      const v = toolOutputJson(p)?.["run_id"]
      if (typeof v === "string" && /^[0-9A-Za-z][0-9A-Za-z_-]{0,127}$/.test(v)) id = v
    }
  return id
}

/** A run-era `prompt_user` (human appraisal) as Foundry returns it: the stage, the artefact, the open feedback items, the goal. */
export interface PromptUser {
  /** the ask id: the tool part that returned it */
  readonly id: string
  readonly stage: string
  readonly artefact: string
  readonly feedback: ReadonlyArray<{ id?: string; text?: string; state?: string }>
  readonly goal: string
}

/** The `prompt_user` the last Foundry driver call returned, if the last one returned that. */
export function promptUserOf(msgs: Msg[]): PromptUser | undefined {
  let last: { id: string; out: Record<string, unknown> | undefined } | undefined
  for (const m of msgs)
    for (const p of m.parts) {
      if (p.type !== "tool" || !FOUNDRY_DRIVERS.has(p.tool) || p.state.status !== "completed") continue
      last = { id: p.id, out: toolOutputJson(p) }
    }
  if (last?.out?.["action"] !== "prompt_user") return undefined
  const o = last.out
  const str = (v: unknown) => (typeof v === "string" ? v.slice(0, 500) : "")
  const feedback = Array.isArray(o["feedback"])
    ? (o["feedback"] as unknown[])
        .filter((x): x is Record<string, unknown> => !!x && typeof x === "object" && !Array.isArray(x))
        .slice(0, 50)
        .map((x) => {
          // Foundry's feedback items keep their state in a history list, newest first
          const hist = Array.isArray(x["history"]) ? (x["history"] as Array<Record<string, unknown>>)[0] : undefined
          const state = str(x["state"]) || str(hist?.["state"])
          return { ...(str(x["id"]) ? { id: str(x["id"]) } : {}), ...(str(x["text"]) ? { text: str(x["text"]) } : {}), ...(state ? { state } : {}) }
        })
    : []
  return { id: `apr_${last.id.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 100)}`, stage: str(o["stage"]) || "human-appraise", artefact: str(o["artefact"]), feedback, goal: str(o["goal"]) }
}

/** Deadlocked items are decided one by one (resolve or reject); otherwise the artefact is approved or rejected as a whole. */
const deadlockItems = (pu: PromptUser) => pu.feedback.filter((f): f is typeof f & { id: string } => typeof f.id === "string" && f.id.length > 0)

export function appraisalAsk(key: string, session: string, pu: PromptUser): Ask {
  const items = deadlockItems(pu)
  const questions: Ask["questions"] = items.length
    ? items.map((it) => ({
        question: `Deadlocked feedback on ${pu.artefact || "the artefact"}: ${it.text ?? it.id}`,
        header: `Feedback ${it.id}`,
        options: [
          { label: "resolve", description: "the item is settled; stop sending it back to forge" },
          { label: "reject", description: "send it back to forge (write text to add your feedback)" },
        ],
        custom: true,
      }))
    : [
        {
          question: `Approve ${pu.artefact || "the artefact"}?`,
          header: "Human appraisal",
          options: [
            { label: "approve", description: "the artefact is good; the run goes on" },
            { label: "reject", description: "send it back to forge (write text to reject with that feedback)" },
          ],
          custom: true,
        },
      ]
  return {
    $type: REQUEST_TYPE,
    kind: "ask",
    key,
    id: pu.id,
    ask: "appraisal",
    session,
    questions,
    context: { stage: pu.stage, artefact: pu.artefact, goal: pu.goal, feedback: pu.feedback },
    asked_at: new Date().toISOString(),
  }
}

/**
 * What Foundry reads back on `foundry_continue()` for a human appraisal: stage outputs of the
 * human-appraise stage — `{verdict: "approved"}` or `{verdict: "rejected", feedback?}` for the
 * artefact, `{itemId, verdict: "resolved" | "rejected", feedback?}` per deadlocked item.
 */
export function appraisalOutputs(pu: PromptUser, answers: string[][]): Array<Record<string, string>> {
  const items = deadlockItems(pu)
  const one = (a: string[] | undefined, yes: string, yesVerdict: string): Record<string, string> => {
    const v = (a ?? [])[0] ?? "reject"
    return v === yes ? { verdict: yesVerdict } : v === "reject" ? { verdict: "rejected" } : { verdict: "rejected", feedback: v }
  }
  if (items.length) return items.map((it, i) => ({ itemId: it.id, ...one(answers[i], "resolve", "resolved") }))
  return [one(answers[0], "approve", "approved")]
}

/** The message that carries the person's appraisal back to the Foundry agent: data to record, then `foundry_continue()`. */
export function appraisalReply(pu: PromptUser, answers: string[][] | null): string {
  if (answers === null) {
    return "The person dismissed Foundry's human appraisal without a verdict. Do not call foundry_continue; stop here and report that the run waits on a human appraisal."
  }
  // the person's words are data: JSON lines (jsonData), so no text can close the block early
  const lines = appraisalOutputs(pu, answers).map(jsonData)
  return `The person answered Foundry's human appraisal (stage ${pu.stage}). Record each line below with foundry_stage_output({data: <the line>}), one call per line, exactly as given, then call foundry_continue() and go on until it reports a terminal action.\n\n<stage_outputs>\n${lines.join("\n")}\n</stage_outputs>`
}

function sumUsage(all: Msg[]): { tokens: Tokens; cost: number } {
  const tokens: Tokens = { input: 0, output: 0, reasoning: 0, cache_read: 0, cache_write: 0 }
  let cost = 0
  for (const m of all) {
    if (m.info.role !== "assistant") continue
    tokens.input += m.info.tokens.input
    tokens.output += m.info.tokens.output
    tokens.reasoning += m.info.tokens.reasoning
    tokens.cache_read += m.info.tokens.cache.read
    tokens.cache_write += m.info.tokens.cache.write
    cost += m.info.cost
  }
  return { tokens, cost }
}

const host = os.hostname()

/** Run one request (or attach to / replay the one already under its key). Returns the result. */
export async function runRequest(opts: RunOptions): Promise<RequestResult> {
  const ctx = new AlloyContext(opts.root)
  const spec = buildSpec(ctx, opts)
  if (opts.key !== undefined && !GIVEN_KEY_RE.test(opts.key)) {
    throw new AlloyError("usage", "an idempotency key is 1–64 letters, digits, `.`, `_` or `-`", { fix: "--idempotency-key <key>" })
  }
  const key = opts.key ?? contentKey(spec)
  const ledger = new Ledger(ctx.root)
  const { created, entry: claimed } = ledger.claim(key, opts.key ? "given" : "content", spec)
  let entry = claimed
  if (!entry.result && entry.status?.state === "accepted" && !entry.status.owner && ledger.takeStart(key, { host, pid: process.pid })) {
    // held from the claim on: a bridge polling the ledger must not take a request this command runs
    // (the start mark decides who runs it; the owner and lease say who is running it now)
    const now = Date.now()
    ledger.setStatus({ ...entry.status, updated_at: new Date(now).toISOString(), owner: { host, pid: process.pid }, lease_until: new Date(now + (opts.leaseMs ?? 30_000)).toISOString() })
    entry = ledger.get(key) ?? entry
  } else if (!entry.result && entry.status?.state === "accepted" && !entry.status.owner) {
    // a bridge took the start mark first: wait (bounded) until it says it owns the request, then follow it
    for (let i = 0; i < 40 && !entry.status?.owner && !entry.result; i++) {
      await sleep(250, opts.signal)
      entry = ledger.get(key) ?? entry
    }
  }
  if (entry.result) {
    opts.ui.event({ type: "request", key, state: entry.result.state, replay: true })
    opts.ui.event({ type: "result", key, result: entry.result })
    return entry.result
  }
  opts.ui.event({ type: "request", key, state: entry.status?.state ?? "accepted", attached: !created })
  return driveRequest(ctx, ledger, entry, opts)
}

/** Drive a claimed request to its end: used by `run` and by a restarted bridge finishing what it had in flight. */
export async function driveRequest(ctx: AlloyContext, ledger: Ledger, entry: LedgerEntry, opts: Omit<RunOptions, "brief" | "root">): Promise<RequestResult> {
  const key = entry.request.key
  const spec = entry.request.spec
  const leaseMs = opts.leaseMs ?? 30_000
  const pollMs = opts.pollMs ?? 500
  const deadline = Date.now() + (opts.timeoutMs ?? 6 * 3600_000)

  // Another live bridge holds this request: follow it until it has a session (bounded).
  let status = entry.status
  for (
    let i = 0;
    i < 120 &&
    status &&
    !status.session_id &&
    status.owner &&
    status.owner.host === host &&
    status.owner.pid !== process.pid &&
    pidAlive(status.owner.pid) &&
    effectiveState(status, Date.now()) === "running";
    i++
  ) {
    await sleep(250, opts.signal)
    status = ledger.get(key)?.status
  }

  const worktree = worktreeFor(ctx.root, key, spec.base_commit)
  // the checkout the run uses must itself pin the requested digest (what is committed, not the work tree's edits)
  const wctx = new AlloyContext(worktree)
  const m = mapRequest(wctx, spec.brief_id, { flow: spec.flow ?? undefined, digest: spec.digest })
  if (m.digest !== spec.digest) throw new AlloyError("not_pinned", `the committed checkout does not pin ${spec.brief_id} @ ${spec.digest}`, { fix: "commit the pin, then run again" })

  const server: Server = opts.attach ? await attach(opts.attach) : status?.server && !opts.attach && (await isUp(status.server)) ? await attach(status.server) : await startServer(ctx.root)
  const ac = new AbortController()
  const stopAll = () => ac.abort()
  opts.signal?.addEventListener("abort", stopAll, { once: true })
  try {
    const caps = await capabilities(server.url, worktree)
    const client = await clientFor(server.url, worktree)
    const setStatus = (patch: Partial<RequestStatus>) => {
      const next: RequestStatus = {
        ...(status ?? { $type: REQUEST_TYPE, key, state: "accepted" as const, updated_at: "" }),
        ...patch,
        updated_at: new Date().toISOString(),
        owner: { host, pid: process.pid, ...(opts.runner ? { runner: opts.runner } : {}) },
        lease_until: new Date(Date.now() + leaseMs).toISOString(),
      }
      // a finished request holds no lease
      if (TERMINAL_STATES.has(next.state)) delete next.lease_until
      status = next
      ledger.setStatus(next)
    }

    // find the session: recorded, or tagged with our key (a bridge killed between create and record)
    let sessionID = status?.session_id
    if (!sessionID) {
      const list = await client.session.list({ directory: worktree })
      sessionID = (list.data ?? []).find((s) => s.metadata?.["alloy_request"] === key && !s.parentID)?.id
    }
    if (!sessionID && ledger.abortRequested(key)) {
      // aborted before it ever got a session: nothing to stop, nothing spent
      const result = abortedUnstarted(key, spec, entry.request.created_at, new Date().toISOString(), "aborted before a session was started")
      ledger.postResult(result)
      setStatus({ state: "aborted" })
      const posted = ledger.get(key)?.result ?? result
      opts.ui.event({ type: "result", key, result: posted })
      return posted
    }
    if (!sessionID) {
      const r = await client.session.create({
        directory: worktree,
        title: `alloy: ${spec.brief_id}${spec.flow ? ` (${spec.flow})` : spec.cycle ? ` (${spec.cycle})` : ""}`,
        metadata: { alloy_request: key, alloy_brief: spec.brief_id, alloy_digest: spec.digest },
        permission: PERMISSION_RULES,
      })
      if (!r.data) throw new AlloyError("bridge_error", `OpenCode did not create a session: ${JSON.stringify(r.error ?? {}).slice(0, 300)}`)
      sessionID = r.data.id
    }
    setStatus({ state: "running", worktree: path.relative(ctx.root, worktree).split(path.sep).join("/"), server: server.url, session_id: sessionID, directory: worktree })
    appendEvent(ctx.root, {
      kind: "request_state",
      request: key,
      state: "running",
      ...(status?.lease_until ? { lease_until: status.lease_until } : {}),
      ...(opts.runner ? { runner: opts.runner } : {}),
    })
    opts.ui.event({ type: "session", key, session: sessionID, worktree: status?.worktree ?? "", agent: caps.agent, generation: caps.generation })

    const f: Follow = { client, directory: worktree, session: sessionID }
    const first = turnComplete(await messagesOf(f, sessionID))
    if (!first.prompted) {
      const text = foundryPrompt(caps.generation, { flow: spec.flow, cycle: spec.cycle }, goalText(spec))
      const r = await client.session.promptAsync({ sessionID, directory: worktree, agent: caps.agent, parts: [{ type: "text", text }] })
      if (r.error) throw new AlloyError("bridge_error", `OpenCode refused the prompt: ${JSON.stringify(r.error).slice(0, 300)}`)
    }

    const sessions = new Set([sessionID])
    const stream = followStream(client, worktree, sessions, key, opts.ui, ctx.root, ac.signal)
    const asking: Asking = { open: new Map(), sent: new Set() }
    // appraisal answers sent, with the number of messages the session had then (a turn after it that ends on the same prompt_user ends the run)
    const appraisalSent = new Map<string, number>()
    // a bridge (a runner) has no person at its terminal: what it waits on stays open for the UI
    const leaveOpen = opts.runner !== undefined
    let aborted = false
    let lastBeat = 0
    let outcome: ReturnType<typeof turnComplete> | undefined
    let idleSeen = 0
    for (;;) {
      if (Date.now() > deadline)
        throw new AlloyError("bridge_error", `the run did not finish within the time limit; it goes on in session ${sessionID}`, {
          fix: `opencode-alloy run again with the same arguments to attach to it, or opencode-alloy runs abort ${key}`,
        })
      if (!aborted && (opts.signal?.aborted || ledger.abortRequested(key))) {
        aborted = true
        ledger.requestAbort(key)
        await client.session.abort({ sessionID, directory: worktree })
      }
      if (Date.now() - lastBeat >= leaseMs / 3) {
        lastBeat = Date.now()
        setStatus({})
        appendEvent(ctx.root, { kind: "heartbeat", request: key, state: "running", lease_until: status!.lease_until!, ...(opts.runner ? { runner: opts.runner } : {}) })
        opts.ui.event({ type: "heartbeat", key, lease_until: status!.lease_until! })
      }
      // children (Foundry's dispatched stages) belong to the run too
      try {
        const kids = await client.session.children({ sessionID, directory: worktree })
        for (const k of kids.data ?? []) sessions.add(k.id)
      } catch {
        /* next poll */
      }
      if (!aborted) await answerPending(client, worktree, sessions, asking, ledger, key, opts.ui, leaveOpen)
      const st = await client.session.status({ directory: worktree })
      const busy = st.data?.[sessionID] && st.data[sessionID]!.type !== "idle"
      if (!busy) {
        const msgs = await messagesOf(f, sessionID)
        const c = turnComplete(msgs)
        // the run era's human appraisal: Foundry's tool returned `prompt_user` and the turn ended waiting on a person
        const pu = c.done && !c.aborted && !c.error && !aborted ? promptUserOf(msgs) : undefined
        if (pu && !(appraisalSent.get(pu.id) !== undefined && msgs.length > appraisalSent.get(pu.id)!)) {
          if (!asking.open.has(pu.id) && !asking.sent.has(pu.id)) {
            opts.ui.event({ type: "appraisal", key, id: pu.id, stage: pu.stage, artefact: pu.artefact, feedback: pu.feedback.length })
            openAsk(
              ledger,
              asking,
              appraisalAsk(key, sessionID, pu),
              async (answers) => {
                appraisalSent.set(pu.id, (await messagesOf(f, sessionID)).length)
                const r = await client.session.promptAsync({ sessionID, directory: worktree, agent: caps.agent, parts: [{ type: "text", text: appraisalReply(pu, answers) }] })
                if (r.error) throw new AlloyError("bridge_error", `OpenCode refused the appraisal answer: ${JSON.stringify(r.error).slice(0, 300)}`)
              },
              opts.ui,
              leaveOpen,
            )
          }
        } else if (c.done) {
          outcome = c
          break
        }
        // idle without a finished turn after an abort: the abort landed before any answer
        if (aborted && ++idleSeen > 6) {
          outcome = { done: true, prompted: true, aborted: true }
          break
        }
      }
      await sleep(pollMs, aborted ? undefined : ac.signal.aborted ? undefined : ac.signal)
    }
    ac.abort()
    await stream.catch(() => undefined)

    const all: Msg[] = []
    for (const s of sessions) all.push(...(await messagesOf(f, s).catch(() => [] as Msg[])))
    const main = await messagesOf(f, sessionID)
    const action = terminalAction(main)
    const usage = sumUsage(all)
    // the stage records the run produced live in its worktree's outbox: bring them home
    const outbox = path.join(worktree, ".alloy", "runs")
    // the verdicts before and after this run's records come home: what the run changed (best effort: a
    // model that cannot be built is no reason to lose the result)
    const verdicts = () => {
      try {
        return loadEvidence(ctx)
      } catch {
        return undefined
      }
    }
    const before = verdicts()
    if (existsSync(outbox)) importAll(ctx, [{ kind: "outbox", ref: outbox }])
    const after = before ? verdicts() : undefined
    const changes = before && after ? verdictChanges(before, after) : undefined
    const records = readRecords(wctx.root).records
    const actionRunId = runIdOf(main)
    const attestation = readRunAttestation(worktree, { runId: actionRunId, since: Date.parse(entry.request.created_at) - 1_000 })
    const foundryRunId = attestation?.run_id ?? actionRunId
    const state = aborted || outcome.aborted ? "aborted" : outcome.error ? "failed" : stateForAction(action?.action)
    const result: RequestResult = {
      $type: REQUEST_TYPE,
      kind: "result",
      key,
      request: spec,
      state,
      sessions: [...sessions],
      terminal_action: action,
      ...(foundryRunId ? { foundry_run_id: foundryRunId } : {}),
      ...(attestation ? { attestation } : {}),
      ...(changes ? { verdict_changes: changes } : {}),
      stage_records: records.map((r) => ({ run_id: r.run_id, stage: r.stage, cycle: r.cycle, outcome: r.outcome })),
      tokens: usage.tokens,
      cost: usage.cost,
      started_at: entry.request.created_at,
      ended_at: new Date().toISOString(),
      ...(outcome.error
        ? { reason: `the model turn failed: ${outcome.error}` }
        : !action && state === "failed"
          ? { reason: "Foundry reported no terminal action (done, blocked or violation)" }
          : action?.reason
            ? { reason: action.reason }
            : {}),
    }
    ledger.postResult(result)
    const posted = ledger.get(key)?.result ?? result
    setStatus({ state: posted.state })
    appendEvent(ctx.root, { kind: "request_state", request: key, state: posted.state, ...(opts.runner ? { runner: opts.runner } : {}) })
    opts.ui.event({ type: "result", key, result: posted })
    return posted
  } finally {
    opts.signal?.removeEventListener("abort", stopAll)
    ac.abort()
    await server.close()
  }
}

async function isUp(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/global/health`, { signal: AbortSignal.timeout(2_000) })).ok
  } catch {
    return false
  }
}

/** One ask the run waits on, while it is open: how to send its answer, and the terminal prompt to stop when it is answered elsewhere. */
interface OpenAsk {
  readonly ask: Ask
  readonly send: (answers: string[][] | null) => Promise<unknown>
  readonly stop: AbortController
}

export interface Asking {
  readonly open: Map<string, OpenAsk>
  readonly sent: Set<string>
}

function askOf(key: string, id: string, kind: Ask["ask"], session: string, questions: Ask["questions"], context?: Record<string, unknown>): Ask {
  return { $type: REQUEST_TYPE, kind: "ask", key, id, ask: kind, session, questions, ...(context ? { context } : {}), asked_at: new Date().toISOString() }
}

const asQuestionRequest = (a: Ask): QuestionRequest => ({
  id: a.id,
  sessionID: a.session,
  questions: a.questions.map((q) => ({
    question: q.question,
    header: q.header,
    options: q.options.map((o) => ({ label: o.label, description: o.description ?? "" })),
    ...(q.multiple ? { multiple: true } : {}),
  })),
})

/**
 * Put an ask on the ledger and on the terminal. The terminal's answer is written to the ledger like
 * the UI's (the first one wins); `sendAnswered` sends whatever the ledger holds. Without a person at
 * the terminal (`bridge`), an ask stays open for the UI; `run` with no input left dismisses it.
 */
export function openAsk(ledger: Ledger, asking: Asking, ask: Ask, send: OpenAsk["send"], ui: RunUi, leaveOpen: boolean): void {
  if (asking.open.has(ask.id) || asking.sent.has(ask.id)) return
  // an event too, so a page following the event stream shows the question at once
  if (ledger.ask(ask)) appendEvent(ledger.root, { kind: "request_state", request: ask.key, state: "running", reason: `waits on ${ask.ask} ${ask.id}` })
  const stop = new AbortController()
  asking.open.set(ask.id, { ask, send, stop })
  if (ledger.answerOf(ask.key, ask.id)) return
  const fromTerminal =
    ask.ask === "permission"
      ? ui
          .permission({ id: ask.id, sessionID: ask.session, permission: ask.questions[0]?.header ?? "", patterns: [], metadata: {}, always: [] } as PermissionRequest, stop.signal)
          .then((r) => (r === undefined ? undefined : [[r]]))
      : ui.question(asQuestionRequest(ask), stop.signal).then((r) => (r === undefined ? undefined : r))
  void fromTerminal
    .then((answers) => {
      if (stop.signal.aborted) return
      if (answers === undefined && leaveOpen) return
      ledger.answer({ $type: REQUEST_TYPE, kind: "answer", key: ask.key, id: ask.id, answers: answers ?? null, by: "terminal", at: new Date().toISOString() })
    })
    .catch(() => undefined)
}

/** Send every answer the ledger holds for an open ask (once), and stop asking the terminal for it. */
export async function sendAnswered(ledger: Ledger, asking: Asking, key: string, ui: RunUi): Promise<void> {
  for (const [id, o] of asking.open) {
    const a = ledger.answerOf(key, id)
    if (!a) continue
    asking.open.delete(id)
    asking.sent.add(id)
    o.stop.abort()
    if (a.by === "elsewhere") continue
    ui.event({ type: "answered", key, id, ask: o.ask.ask, by: a.by, answers: a.answers })
    await o.send(a.answers).catch(() => undefined)
  }
}

async function answerPending(client: OpencodeClient, directory: string, sessions: Set<string>, asking: Asking, ledger: Ledger, key: string, ui: RunUi, leaveOpen: boolean): Promise<void> {
  const qs = await client.question.list({ directory }).catch(() => undefined)
  const live = new Set<string>()
  for (const q of qs?.data ?? []) {
    if (!sessions.has(q.sessionID)) continue
    live.add(q.id)
    if (asking.open.has(q.id) || asking.sent.has(q.id)) continue
    const ask = askOf(
      key,
      q.id,
      "question",
      q.sessionID,
      q.questions.map((x) => ({
        question: x.question,
        header: x.header,
        options: x.options.map((o) => ({ label: o.label, ...(o.description ? { description: o.description } : {}) })),
        ...(x.multiple ? { multiple: true } : {}),
        custom: x.custom !== false,
      })),
    )
    ui.event({ type: "question", key, id: q.id, questions: q.questions.map((x) => ({ question: x.question, header: x.header, options: x.options.map((o) => o.label) })) })
    openAsk(ledger, asking, ask, (answers) => (answers ? client.question.reply({ requestID: q.id, directory, answers }) : client.question.reject({ requestID: q.id, directory })), ui, leaveOpen)
  }
  const ps = await client.permission.list({ directory }).catch(() => undefined)
  for (const p of ps?.data ?? []) {
    if (!sessions.has(p.sessionID)) continue
    live.add(p.id)
    if (asking.open.has(p.id) || asking.sent.has(p.id)) continue
    const ask = askOf(key, p.id, "permission", p.sessionID, [
      {
        question: `Allow ${p.permission}${p.patterns.length ? ` for ${p.patterns.join(" ")}` : ""}?`,
        header: p.permission,
        options: [
          { label: "once", description: "allow this time" },
          { label: "always", description: "allow for the rest of the session" },
          { label: "reject", description: "refuse" },
        ],
        custom: false,
      },
    ])
    ui.event({ type: "permission", key, id: p.id, permission: p.permission, patterns: p.patterns })
    openAsk(
      ledger,
      asking,
      ask,
      (answers) => {
        const r = answers?.[0]?.[0]
        return client.permission.reply({ requestID: p.id, directory, reply: r === "once" || r === "always" ? r : "reject" })
      },
      ui,
      leaveOpen,
    )
  }
  // answered outside Alloy (OpenCode's own UI): nobody waits on it any more
  if (qs && ps) {
    for (const [id, o] of asking.open) {
      if (o.ask.ask === "appraisal" || live.has(id)) continue
      try {
        ledger.answer({ $type: REQUEST_TYPE, kind: "answer", key, id, answers: null, by: "elsewhere", at: new Date().toISOString() })
      } catch {
        /* it has its answer */
      }
    }
  }
  await sendAnswered(ledger, asking, key, ui)
}

/**
 * Follow `/event` for progress: Foundry tool parts as they go pending → running → completed,
 * recorded in the request's `events.jsonl`. Reconnects after a drop (bounded back-off); progress
 * only — completion never depends on it.
 */
async function followStream(client: OpencodeClient, directory: string, sessions: Set<string>, key: string, ui: RunUi, root: string, signal: AbortSignal): Promise<void> {
  const log = path.join(root, ".alloy", "runs", "requests", key, "events.jsonl")
  const seen = new Map<string, string>()
  for (let attempt = 0; attempt < 1000 && !signal.aborted; attempt++) {
    try {
      const sub = await client.event.subscribe({ directory }, { signal, sseMaxRetryAttempts: 1 } as never)
      ui.event({ type: "stream", key, state: "connected" })
      for await (const ev of sub.stream) {
        if (signal.aborted) break
        const e = ev as { type?: string; properties?: Record<string, unknown> }
        if (e.type !== "message.part.updated") continue
        const part = e.properties?.["part"] as Part | undefined
        if (part?.type !== "tool" || !sessions.has(part.sessionID)) continue
        if (!part.tool.startsWith("foundry_") && !part.tool.startsWith("alloy_") && part.tool !== "question" && part.tool !== "task") continue
        if (seen.get(part.id) === part.state.status) continue
        seen.set(part.id, part.state.status)
        const out = toolOutputJson(part)
        const stage = typeof out?.["stage"] === "string" ? (out["stage"] as string) : undefined
        const action = typeof out?.["action"] === "string" ? (out["action"] as string) : undefined
        const rec = { at: new Date().toISOString(), session: part.sessionID, tool: part.tool, status: part.state.status, ...(stage ? { stage } : {}), ...(action ? { action } : {}) }
        try {
          appendFileSync(log, JSON.stringify(rec) + "\n")
        } catch {
          /* progress only */
        }
        ui.event({ type: "tool", key, tool: part.tool, status: part.state.status, ...(stage ? { stage } : {}), ...(action ? { action } : {}) })
      }
    } catch {
      /* dropped: reconnect below */
    }
    if (signal.aborted) return
    ui.event({ type: "stream", key, state: "dropped" })
    await sleep(Math.min(200 * 2 ** Math.min(attempt, 5), 5_000), signal)
  }
}

export { TERMINAL_STATES }
