/**
 * What a person (or the UI) does to bridge requests without running one: queue a request for a
 * running `bridge`, abort one, answer what a run waits on, and list them. The CLI's `run --queue`,
 * `runs abort`, `runs answer`, `runs requests` and the UI's runs page call these and nothing else,
 * so the terminal and the page can never do it two ways.
 */
import { AlloyError } from "../core/errors.js"
import { AlloyContext } from "../service/context.js"
import { appendEvent } from "../store/outbox.js"
import { Ledger, type LedgerEntry } from "./ledger.js"
import { capabilitiesOf } from "./pulled.js"
import { GIVEN_KEY_RE, REQUEST_TYPE, abortedUnstarted, contentKey, effectiveState, type Answer, type Ask, type RequestState, type Runner } from "./request.js"
import type { Capabilities } from "../core/capabilities.js"
import { buildSpec } from "./run.js"
import { attach } from "./server.js"

export interface QueueOptions {
  readonly root: string
  readonly brief: string
  readonly flow?: string | undefined
  readonly digest?: string | undefined
  readonly goal?: string | undefined
  readonly key?: string | undefined
}

export interface Queued {
  readonly key: string
  /** false: the same request was there already (queued, running or finished); nothing new was made */
  readonly created: boolean
  readonly state: RequestState
}

/**
 * Queue a request for a running `bridge` (it picks up every request nobody owns): the same
 * pre-flight and key as `run` — pins verified, the brief mapped to a pin, the key derived from
 * content — and the same create-once claim, so queueing twice (a double click, a retried post)
 * names one request, and another request under a given key is `idempotency_conflict`.
 */
export function queueRequest(opts: QueueOptions): Queued {
  const ctx = new AlloyContext(opts.root)
  if (opts.key !== undefined && !GIVEN_KEY_RE.test(opts.key)) {
    throw new AlloyError("usage", "an idempotency key is 1–64 letters, digits, `.`, `_` or `-`", { fix: "--idempotency-key <key>" })
  }
  const spec = buildSpec(ctx, opts)
  const key = opts.key ?? contentKey(spec)
  const ledger = new Ledger(ctx.root)
  const { created, entry } = ledger.claim(key, opts.key ? "given" : "content", spec)
  if (created) appendEvent(ctx.root, { kind: "request_state", request: key, state: "accepted" })
  return { key, created, state: stateOf(entry, Date.now()) }
}

export function stateOf(e: LedgerEntry, now: number): RequestState {
  return e.result?.state ?? (e.status ? effectiveState(e.status, now) : "accepted")
}

function findEntry(ledger: Ledger, id: string): LedgerEntry {
  const e = ledger.find(id)
  if (!e) throw new AlloyError("usage", `no bridge request ${JSON.stringify(id.slice(0, 64))}`, { fix: "see them with `opencode-alloy runs requests`" })
  return e
}

/**
 * Abort a request: an `abort` mark in the ledger (its bridge aborts the session at its next poll,
 * or finishes a queued one as aborted without starting it), and the session aborted at once when
 * its server is known and answers.
 */
export async function abortRequest(root: string, id: string): Promise<{ key: string; state: RequestState | "aborting"; already: boolean }> {
  const ctx = new AlloyContext(root)
  ctx.store.requireInit()
  const ledger = new Ledger(ctx.root)
  const e = findEntry(ledger, id)
  const key = e.request.key
  if (e.result) return { key, state: e.result.state, already: true }
  ledger.requestAbort(key)
  const s = e.status
  if (!s?.owner && !s?.session_id && (s?.state ?? "accepted") === "accepted") {
    // queued and never started: nothing to stop, nothing spent; finish it here (a bridge that takes it now sees the mark and the result)
    const now = new Date().toISOString()
    ledger.postResult(abortedUnstarted(key, e.request.spec, e.request.created_at, now, "aborted before a bridge started it"))
    const posted = ledger.get(key)?.result
    ledger.setStatus({ $type: REQUEST_TYPE, key, state: posted?.state ?? "aborted", updated_at: now })
    appendEvent(ctx.root, { kind: "request_state", request: key, state: posted?.state ?? "aborted" })
    return { key, state: posted?.state ?? "aborted", already: false }
  }
  if (s?.server && s.session_id && s.directory) {
    try {
      const srv = await attach(s.server)
      await srv.client.session.abort({ sessionID: s.session_id, directory: s.directory })
    } catch {
      /* its bridge will do it */
    }
  }
  return { key, state: "aborting", already: false }
}

/**
 * Answer what a run waits on. `answers` is one list per question of the ask: an option's label
 * (or its 1-based number) or free text where the question allows it; `null` dismisses it. The
 * first answer wins; a later one is refused, so two people answering at once cannot both be sent.
 */
export function answerAsk(root: string, id: string, askId: string, answers: string[][] | null, by: string): { key: string; ask: Ask; answer: Answer } {
  const ctx = new AlloyContext(root)
  ctx.store.requireInit()
  const ledger = new Ledger(ctx.root)
  const e = findEntry(ledger, id)
  const key = e.request.key
  const found = ledger.asks(key).find((a) => a.ask.id === askId)
  if (!found) throw new AlloyError("usage", `request ${key.slice(0, 16)} has no question ${JSON.stringify(askId.slice(0, 64))}`, { fix: "see the open ones with `opencode-alloy runs requests`" })
  if (found.answer) throw new AlloyError("already_exists", `question ${askId} was answered already (by ${found.answer.by})`, { fix: "nothing to do: the first answer was sent" })
  if (e.result) throw new AlloyError("usage", `request ${key.slice(0, 16)} has ended (${e.result.state}); its questions can no longer be answered`)
  const resolved = answers === null ? null : normaliseAnswers(found.ask, answers)
  const answer: Answer = { $type: REQUEST_TYPE, kind: "answer", key, id: askId, answers: resolved, by, at: new Date().toISOString() }
  if (!ledger.answer(answer)) throw new AlloyError("already_exists", `question ${askId} was answered already`, { fix: "nothing to do: the first answer was sent" })
  appendEvent(ctx.root, { kind: "request_state", request: key, state: "running", reason: `answered ${found.ask.ask} ${askId} (${by})` })
  return { key, ask: found.ask, answer }
}

/** Map each answer to an option label where it names one (by label or number); refuse what the question does not accept. */
export function normaliseAnswers(ask: Ask, answers: string[][]): string[][] {
  if (answers.length !== ask.questions.length) {
    throw new AlloyError("usage", `the question has ${ask.questions.length} part${ask.questions.length === 1 ? "" : "s"}; ${answers.length} answer${answers.length === 1 ? " was" : "s were"} given`, {
      fix: "answer every part",
    })
  }
  return ask.questions.map((q, i) => {
    const given = (answers[i] ?? []).map((a) => a.trim()).filter(Boolean)
    if (!given.length) throw new AlloyError("usage", `no answer for "${q.header}"`, { fix: "choose an option or write an answer" })
    if (!q.multiple && given.length > 1) throw new AlloyError("usage", `"${q.header}" takes one answer`, { fix: "choose one option" })
    return given.map((a) => {
      const n = /^\d{1,3}$/.test(a) ? Number(a) : Number.NaN
      const byNumber = Number.isInteger(n) && n >= 1 && n <= q.options.length ? q.options[n - 1]!.label : undefined
      const byLabel = q.options.find((o) => o.label === a)?.label
      const label = byLabel ?? byNumber
      if (label !== undefined) return label
      if (q.custom === false || (ask.ask === "permission" && q.custom !== true)) {
        throw new AlloyError("usage", `"${a.slice(0, 80)}" is not one of the options of "${q.header}" (${q.options.map((o) => o.label).join(", ")})`, { fix: "choose one of the options" })
      }
      return a.slice(0, 4000)
    })
  })
}

export interface RequestView {
  readonly key: string
  readonly brief: string
  readonly flow: string | null
  readonly cycle: string | null
  readonly goal: string
  readonly state: RequestState
  readonly session: string | null
  readonly worktree: string | null
  readonly stage: string | null
  readonly created_at: string
  readonly lease_until: string | null
  readonly abort_requested: boolean
  readonly open: ReadonlyArray<Ask>
  readonly answered: ReadonlyArray<{ ask: Ask; answer: Answer }>
  readonly result?: LedgerEntry["result"]
}

/** Every request, newest first, with its effective state and what it waits on. */
export function listRequests(root: string, now = Date.now()): RequestView[] {
  const ledger = new Ledger(root)
  return ledger
    .list()
    .reverse()
    .map((e) => {
      const asks = ledger.asks(e.request.key)
      const ended = e.result !== undefined
      return {
        key: e.request.key,
        brief: e.request.spec.brief_id,
        flow: e.request.spec.flow,
        cycle: e.request.spec.cycle,
        goal: e.request.spec.goal,
        state: stateOf(e, now),
        session: e.status?.session_id ?? null,
        worktree: e.status?.worktree ?? null,
        stage: e.status?.stage ?? null,
        created_at: e.request.created_at,
        lease_until: e.status?.lease_until ?? null,
        abort_requested: ledger.abortRequested(e.request.key),
        // a finished run waits on nobody: its unanswered asks are not open any more
        open: ended ? [] : asks.filter((a) => !a.answer).map((a) => a.ask),
        answered: asks.filter((a): a is { ask: Ask; answer: Answer } => a.answer !== undefined),
        ...(e.result ? { result: e.result } : {}),
      }
    })
}

/** A runner registered in this project, with whether its lease still holds and the capability manifest it names (when kept here). */
export interface RunnerView extends Runner {
  readonly state: "alive" | "lost"
  readonly capabilities?: Capabilities
}

/** This project's runners, as `runs requests` and the runs page show them. */
export function listRunners(root: string, now = Date.now()): RunnerView[] {
  return new Ledger(root).runners().map((r) => {
    const capabilities = capabilitiesOf(root, r.capability_digest)
    return { ...r, state: Date.parse(r.lease_until) < now ? "lost" : "alive", ...(capabilities ? { capabilities } : {}) }
  })
}
