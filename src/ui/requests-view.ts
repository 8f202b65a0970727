/**
 * The bridge's requests on the runs page: start a run (queued for a running `bridge`, through the
 * same service as `run --queue`), abort one (as `runs abort`), and answer what a run waits on —
 * questions, permission requests, human appraisals — through the same ledger answer the terminal
 * writes. Plain forms: every action works without the page script. Every text is escaped.
 */
import type { AlloyContext } from "../service/context.js"
import { listRequests, listRunners, type RequestView, type RunnerView } from "../bridge/requests.js"
import { TERMINAL_STATES, type Ask } from "../bridge/request.js"
import { projectStatus } from "../service/status.js"
import { esc, when } from "../evidence/report-html.js"
import { describePulled } from "../evidence/observations.js"
import { capabilitiesNote, listPulledBridge, type PulledRequestView, type PulledRunnerView } from "../bridge/pulled.js"

const STATE_CLASS: Record<string, string> = { succeeded: "pass", failed: "fail", aborted: "fail", lost: "fail", running: "", accepted: "" }

/** The form that starts a run: briefs that have a build, and the flows of this checkout. */
export function startRunForm(ctx: AlloyContext, disabled: boolean, chosen: { brief?: string; goal?: string; flow?: string } = {}): string {
  const briefs = projectStatus(ctx)
    .briefs.filter((b) => b.digest)
    .map((b) => b.id)
  const flows = ctx.project.isFoundryProject() ? ctx.project.listFlowIds() : []
  if (!briefs.length) return `<p class="muted">No built brief yet: build and pin one on the <a href="/briefs">Briefs</a> page to run it.</p>`
  return `<form method="post" action="/runs/start" data-form="start-run">
<div class="field"><label for="run-brief">Brief</label><select id="run-brief" name="brief">${briefs.map((b) => `<option value="${esc(b)}"${b === chosen.brief ? " selected" : ""}>${esc(b)}</option>`).join("")}</select></div>
${flows.length ? `<div class="field"><label for="run-flow">Flow</label><select id="run-flow" name="flow"><option value="">the flow or cycle that pins the brief</option>${flows.map((f) => `<option value="${esc(f)}"${f === chosen.flow ? " selected" : ""}>${esc(f)}</option>`).join("")}</select></div>` : ""}
<div class="field"><label for="run-goal">Goal <span class="hint">(optional; default: the intents' goals)</span></label><textarea id="run-goal" name="goal" rows="2">${esc(chosen.goal ?? "")}</textarea></div>
<button type="submit"${disabled ? " disabled" : ""}>Start the run</button> <span class="hint">Queued for a running <code>opencode-alloy bridge</code>; the same request twice is one run.</span>
</form>`
}

function askForm(r: RequestView, a: Ask, disabled: boolean): string {
  const dis = disabled ? " disabled" : ""
  const parts = a.questions
    .map((q, i) => {
      const name = `a${i}`
      const opts = q.options
        .map(
          (o) =>
            `<label class="opt"><input type="${q.multiple ? "checkbox" : "radio"}" name="${name}" value="${esc(o.label)}"${dis}> ${esc(o.label)}${o.description ? ` <span class="hint">${esc(o.description)}</span>` : ""}</label>`,
        )
        .join("<br>")
      const custom =
        q.custom !== false && a.ask !== "permission"
          ? `<div class="field"><label for="t-${esc(a.id)}-${i}">Or your own words</label><input type="text" id="t-${esc(a.id)}-${i}" name="t${i}" autocomplete="off"${dis}></div>`
          : ""
      return `<fieldset class="crit"><legend>${esc(q.header)}</legend><p>${esc(q.question)}</p>${opts}${custom}</fieldset>`
    })
    .join("")
  const ctxLine =
    a.ask === "appraisal" && a.context ? `<p class="muted">Human appraisal of <code>${esc(String(a.context["artefact"] ?? ""))}</code> (${esc(String(a.context["stage"] ?? ""))})</p>` : ""
  return `<div class="ask" data-ask="${esc(a.id)}" data-ask-kind="${esc(a.ask)}"><h3>Waits on a ${esc(a.ask)} <code>${esc(a.id)}</code></h3>${ctxLine}
<form method="post" action="/runs/${esc(encodeURIComponent(r.key))}/answer"><input type="hidden" name="ask" value="${esc(a.id)}">${parts}
<button type="submit"${dis}>Send the answer</button> <button type="submit" name="dismiss" value="1" class="secondary"${dis}>Dismiss</button></form></div>`
}

/** One request: its state, what it waits on (answerable), and its abort button while it runs. */
function requestCard(r: RequestView, disabled: boolean): string {
  const ended = TERMINAL_STATES.has(r.state)
  const dis = disabled ? " disabled" : ""
  const abort =
    !ended && !r.abort_requested
      ? `<form method="post" action="/runs/${esc(encodeURIComponent(r.key))}/abort" class="inline"><button type="submit" class="secondary"${dis}>Abort</button></form>`
      : r.abort_requested && !ended
        ? '<span class="muted">abort requested</span>'
        : ""
  const res = r.result
  const changes = res?.verdict_changes ?? []
  const att = res?.attestation
  const result = res
    ? `<p>Result: <strong>${esc(res.state)}</strong>${res.terminal_action ? ` — Foundry ${esc(res.terminal_action.action)}` : ""}${res.reason ? `: ${esc(res.reason)}` : ""}; ${res.stage_records.length} stage record${res.stage_records.length === 1 ? "" : "s"}</p>${
        changes.length
          ? `<p>Verdicts it changed:</p><ul class="changes">${changes
              .map((c) => {
                const [intent, ac] = c.criterion.split("#")
                return `<li data-verdict-change="${esc(c.criterion)}"><a href="/satisfaction/${esc(encodeURIComponent(intent ?? ""))}/${esc(encodeURIComponent(ac ?? ""))}">${esc(c.criterion)}</a>: ${esc(c.before)} → <strong>${esc(c.after)}</strong></li>`
              })
              .join("")}</ul>`
          : ""
      }${
        att
          ? `<p class="muted" data-attestation="${esc(att.kind)}">Foundry ${res.foundry_run_id ? `run <code>${esc(res.foundry_run_id)}</code>, ` : ""}attestation <code>${esc(att.file)}</code> (sha256 <code>${esc(att.sha256.slice(0, 12))}</code>, ${att.stages} stage${att.stages === 1 ? "" : "s"}${att.verified === undefined ? "" : att.verified ? ", every line's hash checks" : ", <strong>a line's hash does not check</strong>"}${att.seal ? `, sealed ${esc(att.seal.status)}` : ""})</p>`
          : ""
      }`
    : ""
  return `<section class="card" id="request-${esc(r.key)}" data-request="${esc(r.key)}" data-state="${esc(r.state)}"><h3><code>${esc(r.key.slice(0, 16))}</code> <span class="st ${STATE_CLASS[r.state] ?? ""}">${esc(r.state)}</span> ${esc(r.brief)}${r.flow ? ` · flow ${esc(r.flow)}` : r.cycle ? ` · cycle ${esc(r.cycle)}` : ""} ${abort}</h3>
<p class="muted">since ${esc(when(r.created_at))}${r.session ? ` · session <code>${esc(r.session)}</code>` : ""}${r.worktree ? ` · worktree <code>${esc(r.worktree)}</code>` : ""}</p>
<details><summary>Goal</summary><pre class="pack">${esc(r.goal)}</pre></details>
${r.open.map((a) => askForm(r, a, disabled)).join("")}${result}</section>`
}

/** The most requests or runners a card shows; past it, the card says how many it left out. */
const SHOWN = 50

function leftOut(shown: number, total: number, what: string): string {
  return total > shown ? `<p class="muted" data-left-out="${total - shown}">Showing ${shown} of ${total} ${what}; \`opencode-alloy runs requests --json\` lists every one.</p>` : ""
}

function runnerItem(r: RunnerView): string {
  return `<li data-runner="${esc(r.id)}" data-state="${esc(r.state)}"><code>${esc(r.id)}</code> <span class="st ${r.state === "alive" ? "pass" : "fail"}">${esc(r.state)}</span> on ${esc(r.host)} (OpenCode ${esc(r.opencode_version)}; ${esc(r.labels.join(", "))})<br><span data-capabilities="${esc(r.capability_digest)}" title="${esc(r.capability_digest)}">${esc(capabilitiesNote(r.capability_digest, r.capabilities))}</span></li>`
}

export function requestsSection(ctx: AlloyContext, flowBranch: string | undefined): string {
  const all = listRequests(ctx.root)
  const reqs = all.slice(0, SHOWN)
  const runners = listRunners(ctx.root)
  const disabled = flowBranch !== undefined
  return `<section class="card"><h2>Bridge runs (${all.length})</h2>${reqs.map((r) => requestCard(r, disabled)).join("") || '<p class="muted">No bridge runs yet.</p>'}${leftOut(reqs.length, all.length, "runs, newest first")}${
    runners.length
      ? `<h3>Runners of this project (${runners.length})</h3><ul class="runners">${runners.slice(0, SHOWN).map(runnerItem).join("")}</ul>${leftOut(Math.min(SHOWN, runners.length), runners.length, "runners")}`
      : ""
  }</section>`
}

function pulledRequestCard(r: PulledRequestView): string {
  const res = r.result
  return `<section class="card" data-pulled-request="${esc(r.key)}" data-state="${esc(r.state)}"><h3><code>${esc(r.key.slice(0, 16))}</code> <span class="st ${STATE_CLASS[r.state] ?? ""}">${esc(r.state)}</span> ${esc(r.brief)}${r.flow ? ` · flow ${esc(r.flow)}` : r.cycle ? ` · cycle ${esc(r.cycle)}` : ""}</h3>
<p class="muted" data-origin>from ${esc(describePulled(r.pulled))}${r.created_at ? ` · since ${esc(when(r.created_at))}` : ""}</p>
<details><summary>Goal</summary><pre class="pack">${esc(r.goal)}</pre></details>${
    res
      ? `<p>Result: <strong>${esc(res.state)}</strong>${res.terminal_action ? ` — Foundry ${esc(res.terminal_action.action)}` : ""}${res.reason ? `: ${esc(res.reason)}` : ""}; ${res.stage_records.length} stage record${res.stage_records.length === 1 ? "" : "s"}</p>`
      : '<p class="muted">No result was pushed: it had not ended where it ran.</p>'
  }</section>`
}

function pulledRunnerItem(r: PulledRunnerView): string {
  return `<li data-pulled-runner="${esc(r.id)}"><code>${esc(r.id)}</code> on ${esc(r.host)} (OpenCode ${esc(r.opencode_version)}; ${esc(r.labels.join(", "))}) <span class="muted" data-origin>from ${esc(describePulled(r.pulled))}</span><br><span data-capabilities="${esc(r.capability_digest)}" title="${esc(r.capability_digest)}">${esc(capabilitiesNote(r.capability_digest, r.capabilities))}</span></li>`
}

/**
 * Requests and runners other clones, machines and repositories pushed to a team store, as `pull`
 * brought them: read-only (they are not this project's to abort or answer), each with its origin.
 * Empty when nothing was pulled.
 */
export function pulledBridgeSection(ctx: AlloyContext): string {
  const { requests, runners } = listPulledBridge(ctx.root)
  if (!requests.length && !runners.length) return ""
  return `<section class="card" data-pulled-bridge><h2>From team stores (${requests.length} request${requests.length === 1 ? "" : "s"}, ${runners.length} runner${runners.length === 1 ? "" : "s"})</h2><p class="muted">Pushed by other clones and machines; shown as they were pushed, with where each came from.</p>${requests
    .slice(0, SHOWN)
    .map(pulledRequestCard)
    .join("")}${leftOut(Math.min(SHOWN, requests.length), requests.length, "pulled requests")}${
    runners.length
      ? `<h3>Runners</h3><ul class="runners">${runners.slice(0, SHOWN).map(pulledRunnerItem).join("")}</ul>${leftOut(Math.min(SHOWN, runners.length), runners.length, "pulled runners")}`
      : ""
  }</section>`
}
