/**
 * `opencode-alloy ui`: a local web app over one project, on node:http (no framework: a dozen routes,
 * form posts and one event stream do not need one).
 *
 * Safe by default (security.ts): bound to 127.0.0.1, a per-launch secret on every request, `Host` and
 * `Origin` checked, a Content-Security-Policy that allows nothing from anywhere else (one inline script
 * with a per-response nonce, inline styles), and every write refused on a Foundry flow branch through
 * the same guard the CLI uses. Writes go through the services the CLI and the tools use; the app never
 * writes a file itself.
 *
 * Live updates: `GET /events` is a Server-Sent Events stream of `.alloy/runs/events.jsonl`. Each event's
 * id is the byte offset just past its line, so a reconnecting browser (`Last-Event-ID`) resumes at the
 * next line: nothing missed, nothing twice, across a restart of the server too. The stream polls the
 * file (as `runs watch` does), sends a keep-alive comment every 15 s, and is bounded: at most
 * `MAX_STREAMS` at once, each closed after `STREAM_MAX_MS` (the browser reconnects and resumes).
 */
import http from "node:http"
import { randomBytes } from "node:crypto"
import type { AddressInfo } from "node:net"
import { AlloyContext } from "../service/context.js"
import { AlloyError, toAlloyError } from "../core/errors.js"
import { isSlug, AC_ID_RE } from "../core/ids.js"
import { loadEvidence, projectName } from "../evidence/model.js"
import { eventsFile } from "../evidence/events.js"
import { readEventsFrom } from "../store/outbox.js"
import { recordSignoff } from "../evidence/signoff.js"
import { acceptFollowups, loadInsights } from "../evidence/learning.js"
import type { UsageFact } from "../evidence/insights.js"
import { assertNotOnFlowBranch } from "../service/guard.js"
import { createIntent, showIntent, updateIntent } from "../service/intents.js"
import { validateIntent } from "../core/intent.js"
import { saveBrief } from "../service/briefs.js"
import { buildBrief } from "../service/build.js"
import { pinBrief } from "../service/pin.js"
import { checkRequest, newToken, sessionCookie, TOKEN_RE } from "./security.js"
import {
  briefBody,
  briefsListBody,
  bundleBody,
  criterionBody,
  dashboardBody,
  diffBody,
  errorBlock,
  eventItem,
  eventsEnd,
  intentBody,
  intentSatisfactionBody,
  intentsListBody,
  insightsBody,
  layout,
  liveFragment,
  liveRegion,
  runsBody,
  type PageOpts,
} from "./pages.js"
import { emptyForm, formFromIntent, formFromPost, formToData, mapErrors, renderIntentForm, type FieldErrors } from "./intent-form.js"
import { esc, shortDigest } from "../evidence/report-html.js"
import { abortRequest, answerAsk, listRequests, queueRequest } from "../bridge/requests.js"
import { pulledBridgeSection, requestsSection, startRunForm } from "./requests-view.js"

/** A request key in an address: a content key or a given key (letters, digits, `.`, `_`, `-`). */
const REQUEST_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const MAX_STREAMS = 32
export const STREAM_MAX_MS = 30 * 60_000
export const KEEPALIVE_MS = 15_000
export const POLL_MS = 200
const MAX_BODY = 512 * 1024

export interface UiOptions {
  readonly root: string
  /** 0: any free port */
  readonly port?: number
  /** reuse a secret (ALLOY_UI_TOKEN) so pages stay connected across a restart on the same port */
  readonly token?: string
  readonly pollMs?: number
  readonly keepAliveMs?: number
  /** the bridge's recorded tokens and cost, read by the caller that may (the CLI); left out: "not read" */
  readonly usage?: () => readonly UsageFact[]
}

export interface UiServer {
  readonly url: string
  readonly port: number
  readonly token: string
  close(): Promise<void>
}

type Res = http.ServerResponse

function headers(nonce: string): Record<string, string> {
  return {
    "Content-Security-Policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    "X-Content-Type-Options": "nosniff",
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts, which the Origin check must refuse
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
  }
}

function send(res: Res, status: number, body: string, nonce: string, type = "text/html; charset=utf-8"): void {
  res.writeHead(status, { ...headers(nonce), "Content-Type": type, "Content-Length": Buffer.byteLength(body) })
  res.end(body)
}

function redirect(res: Res, to: string, nonce: string, extra: Record<string, string> = {}): void {
  res.writeHead(303, { ...headers(nonce), Location: to, "Content-Length": 0, ...extra })
  res.end()
}

function readBody(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const type = String(req.headers["content-type"] ?? "")
      .split(";")[0]!
      .trim()
      .toLowerCase()
    if (type !== "application/x-www-form-urlencoded") {
      reject(new AlloyError("usage", "a form post must be application/x-www-form-urlencoded"))
      req.resume()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on("data", (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new AlloyError("usage", `the form is larger than ${MAX_BODY} bytes`))
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))))
    req.on("error", reject)
  })
}

const NOTICES: Record<string, string> = {
  created: "Created.",
  saved: "Saved.",
  unchanged: "Nothing changed.",
  built: "Built: the object is stored and the ref moved.",
  pinned: "Pinned and verified: the pin reads back from the cycle file and its bundle hashes to the digest.",
  signed: "Sign-off recorded.",
  accepted: "Added to the intent's open questions.",
  queued: "Queued: a running `opencode-alloy bridge` starts it (the same request again is the same run).",
  aborting: "Abort requested: its bridge stops the session at its next poll.",
  aborted: "Aborted.",
  answered: "Answer recorded: the run's bridge sends it at its next poll.",
}
const notice = (u: URL) => {
  const n = NOTICES[u.searchParams.get("done") ?? ""]
  const extra = u.searchParams.get("digest")
  return n
    ? `<div class="ok" role="status" data-done="${esc(u.searchParams.get("done"))}">${esc(n)}${extra && /^sha256:[0-9a-f]{64}$/.test(extra) ? ` <code data-digest="${esc(extra)}">${esc(extra)}</code>` : ""}</div>`
    : ""
}

/** SSE framing: every line of the payload its own `data:` line. */
function sseMessage(id: number, event: string, data: string): string {
  return `id: ${id}\nevent: ${event}\n${data
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}`)
    .join("\n")}\n\n`
}

export async function startUi(opts: UiOptions): Promise<UiServer> {
  const ctx = new AlloyContext(opts.root)
  const project = projectName(ctx.root)
  const token = opts.token && TOKEN_RE.test(opts.token) ? opts.token : newToken()
  const pollMs = opts.pollMs ?? POLL_MS
  const keepAliveMs = opts.keepAliveMs ?? KEEPALIVE_MS
  const streams = new Set<Res>()
  let port = 0

  const page = (res: Res, nonce: string, o: Omit<PageOpts, "nonce" | "project" | "flowBranch" | "offset"> & { offset?: number }, status = 200, fragment = false) => {
    if (fragment) return send(res, status, liveFragment(o.body), nonce)
    send(res, status, layout({ ...o, nonce, project, flowBranch: ctx.project.onFlowBranch(), offset: o.offset ?? eventsEnd(ctx) }), nonce)
  }

  /** A refused or failed write: the page it came from, with the error (code, message, fix) on top. */
  const refused = (res: Res, nonce: string, e: unknown, nav: PageOpts["nav"], title: string, after = "") => {
    const err = toAlloyError(e)
    const status = err.code === "work_branch" ? 409 : err.code === "io_error" ? 500 : 422
    page(res, nonce, { title, nav, body: errorBlock(err) + after }, status)
  }

  const intentFormPage = (res: Res, nonce: string, mode: "create" | "edit", f: ReturnType<typeof emptyForm>, errors: FieldErrors, status: number, expectedDigest?: string, extra = "") => {
    const action = mode === "create" ? "/intents" : `/intents/${encodeURIComponent(f.id)}`
    page(
      res,
      nonce,
      {
        title: mode === "create" ? "New intent" : `Edit ${f.id}`,
        nav: "intents",
        body: `<p><a href="/intents">← Intents</a></p><h1 class="page">${mode === "create" ? "New intent" : `Edit <code>${esc(f.id)}</code>`}</h1>${extra}${renderIntentForm(f, errors, { mode, action, ...(expectedDigest ? { expectedDigest } : {}) })}`,
      },
      status,
    )
  }
  const noErrors: FieldErrors = { byField: new Map(), all: [] }

  /** The runs page: start a run (outside the live region, so typing is never swapped away), bridge runs and stages (live). */
  const runsPage = (top = "", chosen: Parameters<typeof startRunForm>[2] = {}, u?: URL) => {
    const model = loadEvidence(ctx)
    const r = runsBody(ctx, model, { runs: u?.searchParams.getAll("run") ?? [], all: u?.searchParams.get("all") === "1" })
    const flowBranch = ctx.project.onFlowBranch()
    const body = `${top}<h1 class="page">Runs, live</h1><section class="card"><h2>Start a run</h2>${startRunForm(ctx, false, chosen)}</section>${liveRegion(requestsSection(ctx, flowBranch) + pulledBridgeSection(ctx) + r.live)}<section class="card"><h2>Stage events <span class="muted">(newest first)</span></h2><ol class="events" id="events" aria-live="polite">${r.feed}</ol></section>`
    return { body, end: r.end }
  }

  async function handle(req: http.IncomingMessage, res: Res): Promise<void> {
    const nonce = randomBytes(16).toString("base64")
    const method = req.method ?? "GET"
    let u: URL
    try {
      u = new URL(req.url ?? "/", `http://127.0.0.1:${port}`)
    } catch {
      return send(res, 400, "bad request", nonce, "text/plain; charset=utf-8")
    }
    const h = (n: string) => {
      const v = req.headers[n]
      return Array.isArray(v) ? v[0] : v
    }
    const verdict = checkRequest(
      { method, host: h("host"), origin: h("origin"), secFetchSite: h("sec-fetch-site"), cookie: h("cookie"), queryToken: u.searchParams.get("token") ?? undefined },
      port,
      token,
    )
    if (!verdict.ok) return send(res, verdict.status, `refused: ${verdict.reason}\n`, nonce, "text/plain; charset=utf-8")
    if (verdict.via === "query" && method === "GET" && u.pathname !== "/events") {
      // trade the secret in the address bar for the cookie, and drop it from the URL (history, copies)
      u.searchParams.delete("token")
      return redirect(res, `${u.pathname}${u.search}`, nonce, { "Set-Cookie": sessionCookie(port, token) })
    }
    const parts = u.pathname
      .split("/")
      .filter(Boolean)
      .map((p) => {
        try {
          return decodeURIComponent(p)
        } catch {
          return "\u0000"
        }
      })
    const fragment = u.searchParams.get("fragment") === "1"
    const q = (k: string) => u.searchParams.get(k) ?? undefined

    if (method === "GET") {
      if (u.pathname === "/events") return stream(req, res, u, nonce)
      if (u.pathname === "/favicon.ico") {
        res.writeHead(204, headers(nonce))
        return void res.end()
      }
      if (parts.length === 0) {
        const offset = eventsEnd(ctx)
        const model = loadEvidence(ctx)
        return page(
          res,
          nonce,
          { title: "Satisfaction", nav: "dashboard", offset, body: dashboardBody(ctx, model, { verdict: q("verdict"), intent: q("intent"), brief: q("brief"), cycle: q("cycle") }) },
          200,
          fragment,
        )
      }
      if (parts[0] === "satisfaction" && (parts.length === 2 || parts.length === 3)) {
        const offset = eventsEnd(ctx)
        const model = loadEvidence(ctx)
        const body = parts.length === 2 ? intentSatisfactionBody(ctx, model, parts[1]!) : criterionBody(ctx, model, `${parts[1]}#${parts[2]}`, ctx.project.onFlowBranch(), notice(u))
        if (body === undefined)
          return page(
            res,
            nonce,
            { title: "Not found", nav: "dashboard", body: errorBlock(new AlloyError("intent_not_found", "no such intent or criterion in any built brief or in .alloy/intents/"), "Not found") },
            404,
          )
        return page(res, nonce, { title: parts.slice(1).join("#"), nav: "dashboard", offset, body }, 200, fragment)
      }
      if (parts[0] === "intents") {
        if (parts.length === 1) return page(res, nonce, { title: "Intents", nav: "intents", body: intentsListBody(ctx, q("q") ?? "") })
        if (parts.length === 2 && parts[1] === "new") return intentFormPage(res, nonce, "create", emptyForm(), noErrors, 200)
        if (parts.length === 2 || (parts.length === 3 && parts[2] === "edit")) {
          if (!isSlug(parts[1])) return page(res, nonce, { title: "Not found", nav: "intents", body: errorBlock(new AlloyError("invalid_id", "not an intent id"), "Not found") }, 404)
          try {
            if (parts.length === 3) {
              const r = showIntent(ctx, parts[1])
              return intentFormPage(res, nonce, "edit", formFromIntent(r.intent), noErrors, 200, r.source_digest)
            }
            return page(res, nonce, { title: parts[1]!, nav: "intents", body: intentBody(ctx, parts[1]!, notice(u)) })
          } catch (e) {
            return page(res, nonce, { title: "Intent", nav: "intents", body: errorBlock(toAlloyError(e), "Cannot show it") }, toAlloyError(e).code === "intent_not_found" ? 404 : 422)
          }
        }
      }
      if (parts[0] === "briefs") {
        if (parts.length === 1) return page(res, nonce, { title: "Briefs", nav: "briefs", body: briefsListBody(ctx, notice(u)) }, 200, fragment)
        if (parts.length === 2 && isSlug(parts[1])) {
          const body = briefBody(ctx, parts[1], notice(u))
          if (body !== undefined) return page(res, nonce, { title: parts[1], nav: "briefs", body }, 200, fragment)
        }
        return page(res, nonce, { title: "Not found", nav: "briefs", body: errorBlock(new AlloyError("brief_not_found", "no such brief"), "Not found") }, 404)
      }
      if (parts[0] === "bundles" && parts.length === 3) {
        const r = bundleBody(ctx, parts[1]!, parts[2]!)
        return page(res, nonce, { title: `Bundle ${shortDigest(parts[2])}`, nav: "briefs", body: r.body }, r.status)
      }
      if (parts[0] === "diff" && parts.length === 1) {
        const r = diffBody(ctx, q("brief") ?? "", q("a") ?? "", q("b") ?? "")
        return page(res, nonce, { title: "Bundle diff", nav: "briefs", body: r.body }, r.status)
      }
      if (parts[0] === "insights" && parts.length === 1) {
        const offset = eventsEnd(ctx)
        return page(
          res,
          nonce,
          { title: "Insights", nav: "insights", offset, body: insightsBody(loadInsights(ctx, undefined, undefined, opts.usage ? { usage: opts.usage() } : {}), ctx.project.onFlowBranch(), notice(u)) },
          200,
          fragment,
        )
      }
      if (parts[0] === "runs" && parts.length === 1) {
        const r = runsPage(notice(u), {}, u)
        return page(res, nonce, { title: "Runs", nav: "runs", offset: r.end, body: r.body }, 200, fragment)
      }
      return page(res, nonce, { title: "Not found", nav: "dashboard", body: '<h1 class="page">Not found</h1>' }, 404)
    }

    if (method !== "POST") {
      res.writeHead(405, { ...headers(nonce), Allow: "GET, POST" })
      return void res.end()
    }
    let form: URLSearchParams
    try {
      form = await readBody(req)
    } catch (e) {
      return send(res, 400, `refused: ${toAlloyError(e).message}\n`, nonce, "text/plain; charset=utf-8")
    }
    const f = (k: string) => form.get(k) ?? ""

    // ---- writes: every one refused on a Foundry flow branch, before anything else
    if (parts[0] === "intents" && (parts.length === 1 || (parts.length === 2 && isSlug(parts[1])))) {
      const state = formFromPost(form)
      const mode = parts.length === 1 ? "create" : "edit"
      if (mode === "edit") state.id = parts[1]!
      try {
        assertNotOnFlowBranch(ctx, `${mode === "create" ? "create" : "update"} intent ${state.id || "(no id)"}`)
      } catch (e) {
        return intentFormPage(res, nonce, mode, state, noErrors, 409, f("expected_digest") || undefined, errorBlock(toAlloyError(e)))
      }
      const { data, body, rowOf, evRowOf } = formToData(state)
      try {
        if (mode === "create") {
          try {
            createIntent(ctx, { ...data, body })
          } catch (e) {
            // an invalid id stops the service before the schema runs; run the schema too, so every problem shows at once
            const err = toAlloyError(e)
            if (err.code === "invalid_id") {
              try {
                validateIntent({ ...data }, body, "intent")
              } catch (e2) {
                const more = toAlloyError(e2)
                throw new AlloyError("invalid_intent", more.message, { details: [...more.details] })
              }
              throw new AlloyError("invalid_intent", err.message, { details: [{ path: "id", message: err.message }] })
            }
            throw err
          }
          return redirect(res, `/intents/${encodeURIComponent(state.id)}?done=created`, nonce)
        }
        const { id: _id, ...fields } = data
        const set: Record<string, unknown> = { ...fields, body, context: fields["context"] ?? null, superseded_by: fields["superseded_by"] ?? null }
        const r = updateIntent(ctx, state.id, { set, ...(f("expected_digest") ? { expected_digest: f("expected_digest") } : {}) })
        return redirect(res, `/intents/${encodeURIComponent(state.id)}?done=${r.changed ? "saved" : "unchanged"}`, nonce)
      } catch (e) {
        const err = toAlloyError(e)
        if (err.code === "invalid_intent" && err.details.length) return intentFormPage(res, nonce, mode, state, mapErrors(err.details, rowOf, evRowOf), 422, f("expected_digest") || undefined)
        const asField = err.code === "already_exists" || err.code === "invalid_id" ? mapErrors([{ path: "id", message: err.message }], rowOf, evRowOf) : noErrors
        return intentFormPage(res, nonce, mode, state, asField, err.code === "work_branch" ? 409 : 422, f("expected_digest") || undefined, asField.all.length ? "" : errorBlock(err))
      }
    }
    if (parts[0] === "briefs" && parts.length === 1) {
      try {
        assertNotOnFlowBranch(ctx, "write a brief")
        const id = f("id").trim()
        saveBrief(ctx, { id, title: f("title") || undefined, intents: form.getAll("intent"), cycles: form.getAll("cycle") }, "create")
        return redirect(res, `/briefs/${encodeURIComponent(id)}?done=created`, nonce)
      } catch (e) {
        return refused(res, nonce, e, "briefs", "Briefs", briefsListBody(ctx))
      }
    }
    if (parts[0] === "briefs" && parts.length === 3 && isSlug(parts[1]) && (parts[2] === "build" || parts[2] === "pin")) {
      const id = parts[1]
      try {
        assertNotOnFlowBranch(ctx, `${parts[2]} brief ${id}`)
        if (parts[2] === "build") {
          const r = buildBrief(ctx, id)
          return redirect(res, `/briefs/${encodeURIComponent(id)}?done=built&digest=${encodeURIComponent(r.digest)}`, nonce)
        }
        const r = pinBrief(ctx, { brief_id: id, cycle: f("cycle") || undefined, flow: f("flow") || undefined })
        return redirect(res, `/briefs/${encodeURIComponent(id)}?done=pinned&digest=${encodeURIComponent(r.digest)}`, nonce)
      } catch (e) {
        return refused(res, nonce, e, "briefs", id, briefBody(ctx, id) ?? "")
      }
    }
    if (parts[0] === "runs" && parts.length === 2 && parts[1] === "start") {
      const chosen = { brief: f("brief"), goal: f("goal"), flow: f("flow") }
      try {
        assertNotOnFlowBranch(ctx, "start a run")
        const r = queueRequest({ root: ctx.root, brief: f("brief"), flow: f("flow") || undefined, goal: f("goal").trim() || undefined })
        return redirect(res, `/runs?done=queued&key=${encodeURIComponent(r.key)}#request-${encodeURIComponent(r.key)}`, nonce)
      } catch (e) {
        const err = toAlloyError(e)
        return page(res, nonce, { title: "Runs", nav: "runs", body: runsPage(errorBlock(err), chosen).body }, err.code === "work_branch" ? 409 : err.code === "io_error" ? 500 : 422)
      }
    }
    if (parts[0] === "runs" && parts.length === 3 && REQUEST_KEY_RE.test(parts[1]!) && (parts[2] === "abort" || parts[2] === "answer")) {
      const key = parts[1]!
      try {
        if (parts[2] === "abort") {
          assertNotOnFlowBranch(ctx, `abort run ${key.slice(0, 16)}`)
          const r = await abortRequest(ctx.root, key)
          return redirect(res, `/runs?done=${r.state === "aborting" ? "aborting" : "aborted"}#request-${encodeURIComponent(r.key)}`, nonce)
        }
        assertNotOnFlowBranch(ctx, `answer a question of run ${key.slice(0, 16)}`)
        const askId = f("ask")
        const ask = listRequests(ctx.root)
          .find((x) => x.key === key)
          ?.open.find((a) => a.id === askId)
        // each part: the words typed, else the options ticked (answerAsk checks them against the question)
        const answers = f("dismiss") === "1" ? null : (ask?.questions ?? []).map((_, i) => (f(`t${i}`).trim() ? [f(`t${i}`).trim()] : form.getAll(`a${i}`)))
        const r = answerAsk(ctx.root, key, askId, answers, "ui")
        return redirect(res, `/runs?done=answered#request-${encodeURIComponent(r.key)}`, nonce)
      } catch (e) {
        const err = toAlloyError(e)
        return page(
          res,
          nonce,
          { title: "Runs", nav: "runs", body: runsPage(errorBlock(err)).body },
          err.code === "work_branch" || err.code === "already_exists" ? 409 : err.code === "io_error" ? 500 : 422,
        )
      }
    }
    if (parts[0] === "followups" && parts.length === 1) {
      try {
        assertNotOnFlowBranch(ctx, "accept a follow-up question")
        acceptFollowups(ctx, [f("id")])
        return redirect(res, "/insights?done=accepted", nonce)
      } catch (e) {
        return refused(res, nonce, e, "insights", "Insights")
      }
    }
    if (parts[0] === "signoff" && parts.length === 1) {
      const ref = f("ref")
      const [intent, ac] = ref.split("#")
      const back = isSlug(intent) && AC_ID_RE.test(ac ?? "") ? `/satisfaction/${encodeURIComponent(intent!)}/${encodeURIComponent(ac!)}` : "/"
      try {
        assertNotOnFlowBranch(ctx, `record a sign-off of ${isSlug(intent) && AC_ID_RE.test(ac ?? "") ? ref : "a criterion"}`)
        const decision = f("decision")
        const note = f("note").trim()
        recordSignoff(ctx, { ref, decision: decision === "reject" || decision === "waive" ? decision : "approve", ...(note ? { reason: note } : {}), sign: f("sign") === "1" })
        return redirect(res, `${back}?done=signed`, nonce)
      } catch (e) {
        const model = (() => {
          try {
            return loadEvidence(ctx)
          } catch {
            return undefined
          }
        })()
        const again = model ? (criterionBody(ctx, model, ref, ctx.project.onFlowBranch()) ?? "") : ""
        return refused(res, nonce, e, "dashboard", "Sign off", again)
      }
    }
    return page(res, nonce, { title: "Not found", nav: "dashboard", body: '<h1 class="page">Not found</h1>' }, 404)
  }

  /** The event stream, from `Last-Event-ID` (a reconnect), else `from` (the offset the page was rendered at), else the end. */
  function stream(req: http.IncomingMessage, res: Res, u: URL, nonce: string): void {
    if (streams.size >= MAX_STREAMS) {
      send(res, 503, "too many open event streams\n", nonce, "text/plain; charset=utf-8")
      return
    }
    const asOffset = (v: unknown) => (typeof v === "string" && /^\d{1,15}$/.test(v) ? Number(v) : undefined)
    const file = eventsFile(ctx)
    let offset = asOffset(req.headers["last-event-id"]) ?? asOffset(u.searchParams.get("from")) ?? eventsEnd(ctx)
    res.writeHead(200, { ...headers(nonce), "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive", "X-Accel-Buffering": "no" })
    res.write(`retry: 1000\n: alloy events from ${offset}\n\n`)
    streams.add(res)
    const started = Date.now()
    let lastWrite = Date.now()
    let busy = false
    const tick = () => {
      if (busy) return
      busy = true
      try {
        if (Date.now() - started > STREAM_MAX_MS) return void res.end()
        // bounded per tick: at most 4 reads of 1 MiB
        for (let i = 0; i < 4; i++) {
          const r = readEventsFrom(file, offset, 1024 * 1024)
          r.events.forEach((e, n) => res.write(sseMessage(r.ends[n]!, "run", eventItem(e, r.ends[n]!))))
          if (r.events.length) lastWrite = Date.now()
          if (r.next === offset) break
          offset = r.next
        }
        if (Date.now() - lastWrite >= keepAliveMs) {
          res.write(": keep-alive\n\n")
          lastWrite = Date.now()
        }
      } catch {
        res.end()
      } finally {
        busy = false
      }
    }
    const timer = setInterval(tick, pollMs)
    tick()
    const done = () => {
      clearInterval(timer)
      streams.delete(res)
    }
    res.on("close", done)
    req.on("close", done)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      // never a stack trace: the code, the message and the fix
      const err = toAlloyError(e)
      const nonce = randomBytes(16).toString("base64")
      if (!res.headersSent) {
        try {
          send(
            res,
            err.code === "not_initialised" ? 409 : 500,
            layout({ title: "Error", nav: "dashboard", nonce, project, offset: 0, flowBranch: undefined, body: errorBlock(err, "Cannot show this page") }),
            nonce,
          )
        } catch {
          res.end()
        }
      } else res.end()
    })
  })
  server.headersTimeout = 20_000
  server.requestTimeout = 60_000
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve())
  })
  port = (server.address() as AddressInfo).port
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end()
        streams.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
