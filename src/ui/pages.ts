/**
 * The pages of the web app, as functions from project state to HTML (read-only; the server does the
 * writes). The dashboard, intent and criterion pages are built from the report's own view functions
 * (src/evidence/report-html.ts) with app links, so the static report and the app show the same verdicts
 * the same way. Every authored or recorded text goes through `esc`.
 *
 * Regions that change while Foundry runs are wrapped in `<div id="live" data-live>`: the page script
 * fetches the same URL with `fragment=1` when an event arrives and swaps that region.
 */
import type { AlloyContext } from "../service/context.js"
import { loadEvidence, type EvidenceModel } from "../evidence/model.js"
import { judgeCriterion, VERDICT_ORDER, type CriterionVerdict, type IntentVerdict } from "../evidence/satisfaction.js"
import { describePulled, type Observation } from "../evidence/observations.js"
import {
  badge,
  criterionRow,
  esc,
  intentCard,
  insightsSections,
  recordOutcome,
  REPORT_CSS,
  REPORT_LINKS,
  runAnchor,
  shortDigest,
  shortSha,
  STAGE_CLASS,
  summaryStrip,
  timeline,
  TIMELINE_SESSIONS,
  verdictLegend,
  when,
  type ViewLinks,
} from "../evidence/report-html.js"
import { eventsFile, OpenStages } from "../evidence/events.js"
import { readEventsFrom } from "../store/outbox.js"
import type { RunEvent } from "../core/run-record.js"
import { listIntents, showIntent } from "../service/intents.js"
import { projectStatus, type BriefStatus } from "../service/status.js"
import { resolveTarget } from "../service/resolve.js"
import { packFor } from "../core/formation.js"
import { renderDispatchBlock } from "../plugin/hooks/dispatch.js"
import { lineDiff } from "../core/line-diff.js"
import { isDigest, isSlug } from "../core/ids.js"
import { AlloyError, toAlloyError } from "../core/errors.js"
import { matchWho, type Signer } from "../core/signoff.js"
import { verifyObjectBytes } from "../core/verify.js"
import { gitIdentity } from "../evidence/signoff.js"
import { nextActor, type NextActor } from "./next-actor.js"
import type { Bundle } from "../core/bundle.js"
import type { FollowUp } from "../evidence/insights.js"
import type { ProjectInsights } from "../evidence/learning.js"

export const APP_LINKS: ViewLinks = {
  // the runs page shows a brief's newest sessions; the run asked for is shown however old
  run: (id) => `/runs?run=${encodeURIComponent(id)}#${runAnchor(id)}`,
  brief: (id) => `/briefs/${encodeURIComponent(id)}`,
  intent: (id) => `/satisfaction/${encodeURIComponent(id)}`,
  criterion: (ref) => `/satisfaction/${ref.split("#").map(encodeURIComponent).join("/")}`,
}

const UI_CSS = `
.nav{display:flex;gap:4px;align-items:center;background:#24292f;padding:0 24px;flex-wrap:wrap}
.nav a{color:#f0f3f6;padding:12px 12px;display:inline-block;font-weight:600}.nav a[aria-current=page]{box-shadow:inset 0 -3px 0 #fd8c73}
.nav .brand{color:#b6bec8;font-size:12px;letter-spacing:.08em;text-transform:uppercase;margin-right:12px}
.nav .live{margin-left:auto;color:#b6bec8;font-size:12px}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fff;color:#0969da;padding:6px;z-index:9}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #0969da;outline-offset:2px}
h1.page{font-size:22px;margin:0 0 12px}
h2.h4{margin:28px 0 12px;font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.banner{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:10px 14px;margin-bottom:16px}
.banner.bad{background:#ffebe9;border-color:#cf222e}
.errors{background:#ffebe9;border:1px solid #cf222e;border-radius:8px;padding:10px 16px;margin-bottom:16px}.errors h2{font-size:15px;margin:0 0 6px;color:#a40e26}
.ok{background:#dafbe1;border:1px solid #1a7f37;border-radius:8px;padding:10px 16px;margin-bottom:16px}
.field{margin:10px 0}.field label{display:block;font-weight:600;font-size:13px;margin-bottom:3px}.hint{font-size:12px;color:var(--muted)}
.field input[type=text],.field textarea,.field select{width:100%;max-width:760px;font:inherit;padding:6px 8px;border:1px solid #8c959f;border-radius:6px;background:#fff;color:var(--fg)}
.field.has-error input,.field.has-error textarea,.field.has-error select{border:2px solid #cf222e}
ul.ferr{margin:4px 0 0;padding-left:18px;color:#a40e26;font-size:13px}
fieldset.crit{border:1px solid var(--line);border-radius:8px;margin:10px 0;padding:8px 14px;max-width:800px}fieldset.crit legend{font-weight:700}
.evrow{border-left:3px solid #eaeef2;padding-left:10px;margin:8px 0}
button,.button{font:inherit;font-weight:600;background:#1f883d;color:#fff;border:1px solid #1a7f37;border-radius:6px;padding:6px 14px;cursor:pointer}
button.secondary{background:#f6f8fa;color:#24292f;border-color:#8c959f}
form.inline{display:inline}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end;margin-bottom:16px}.filters .field{margin:0}.filters select,.filters input{min-width:160px}
pre.pack{white-space:pre-wrap;background:#f6f8fa;border:1px solid var(--line);border-radius:8px;padding:12px;font:12px/1.5 ui-monospace,Menlo,Consolas,monospace;overflow:auto}
.diff .add{background:#dafbe1}.diff .del{background:#ffebe9}.diff span{display:block;white-space:pre-wrap}
ol.events{list-style:none;margin:0;padding:0}ol.events li{display:grid;grid-template-columns:170px 80px 1fr;gap:8px;padding:4px 0;border-bottom:1px solid #f0f2f4;font-size:13px}
.k-stage_blocked{color:#a40e26;font-weight:700}.k-stage_ended{color:#1a7f37}.k-stage_begun{color:#0550ae}
.actor{border-left:4px solid #0969da;padding:4px 10px;margin:6px 0;background:#f6f8fa}.actor.done{border-color:#1a7f37}
.decisive{outline:2px solid #0969da;outline-offset:-2px;border-radius:4px}
`

/** The inline page script (with the response's CSP nonce): live updates over SSE, fragment swaps. */
function liveScript(nonce: string): string {
  return `<script nonce="${esc(nonce)}">
(function(){
  var root=document.body; var last=root.getAttribute('data-offset')||'0';
  var feed=document.getElementById('events'); var state=document.getElementById('live-state');
  var pending=null, es=null;
  function say(t){ if(state) state.textContent=t; }
  function changed(el){
    var f=el.querySelectorAll('input,textarea,select');
    for(var i=0;i<f.length;i++){ var x=f[i];
      if(x.type==='hidden') continue;
      if(x.type==='checkbox'||x.type==='radio'){ if(x.checked!==x.defaultChecked) return true; }
      else if(x.tagName==='SELECT'){ for(var j=0;j<x.options.length;j++){ if(x.options[j].selected!==x.options[j].defaultSelected) return true; } }
      else if(x.value!==x.defaultValue) return true;
    }
    return false;
  }
  function refresh(){
    pending=null;
    var live=document.getElementById('live'); if(!live) return;
    // a form someone is filling in (focused, or changed and left) is never swapped away under them:
    // the update waits, and is taken once the form is sent or put back as it was
    var a=document.activeElement;
    if((a && live.contains(a) && /INPUT|TEXTAREA|SELECT/.test(a.tagName)) || changed(live)){ root.setAttribute('data-held','1'); say('live (updates wait while you fill in a form)'); pending=setTimeout(refresh,1000); return; }
    if(root.getAttribute('data-held')){ root.removeAttribute('data-held'); say('live'); }
    var u=new URL(location.href); u.searchParams.set('fragment','1'); u.hash='';
    fetch(u.pathname+u.search,{credentials:'same-origin',headers:{'Accept':'text/html'}}).then(function(r){ return r.ok?r.text():null; }).then(function(h){ if(h!==null){ live.innerHTML=h; root.setAttribute('data-refreshed',String(Date.now())); } }).catch(function(){ say('reconnecting…'); });
  }
  function connect(){
    es=new EventSource('/events?from='+encodeURIComponent(last));
    es.onopen=function(){ say('live'); root.setAttribute('data-sse','open'); };
    es.addEventListener('run',function(e){
      last=e.lastEventId||last; root.setAttribute('data-offset',last);
      if(feed){ var t=document.createElement('template'); t.innerHTML=e.data; var li=t.content.firstElementChild; if(li){ feed.insertBefore(li,feed.firstChild); } }
      if(!pending) pending=setTimeout(refresh,100);
    });
    es.onerror=function(){ say('reconnecting…'); root.setAttribute('data-sse','down'); if(es.readyState===2){ es.close(); setTimeout(connect,1000); } };
  }
  if(window.EventSource) connect();
})();
</script>`
}

export interface PageOpts {
  readonly title: string
  readonly nav: "dashboard" | "intents" | "briefs" | "runs" | "insights"
  readonly nonce: string
  readonly body: string
  /** events.jsonl offset the page was rendered at (the SSE stream resumes from here) */
  readonly offset: number
  readonly flowBranch?: string | undefined
  readonly project: string
}

export function layout(o: PageOpts): string {
  const link = (href: string, label: string, key: PageOpts["nav"]) => `<a href="${href}"${o.nav === key ? ' aria-current="page"' : ""}>${label}</a>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${esc(o.title)} — Alloy · ${esc(o.project)}</title>
<style>${REPORT_CSS}${UI_CSS}</style>
</head>
<body data-offset="${o.offset}">
<a class="skip" href="#main">Skip to content</a>
<nav class="nav" aria-label="Alloy"><span class="brand">Alloy · ${esc(o.project)}</span>${link("/", "Satisfaction", "dashboard")}${link("/intents", "Intents", "intents")}${link("/briefs", "Briefs", "briefs")}${link("/runs", "Runs", "runs")}${link("/insights", "Insights", "insights")}<span class="live" id="live-state" role="status" aria-live="polite">static</span></nav>
<main id="main" tabindex="-1">
${o.flowBranch ? `<div class="banner" role="note">Read-only: the repository is on Foundry flow branch <code>${esc(o.flowBranch)}</code>. Every change is refused here; make it on the base branch.</div>` : ""}
${o.body}
</main>
${liveScript(o.nonce)}
</body>
</html>
`
}

/** The region the page script refreshes; the markers let the server send just this part (`fragment=1`). */
export function liveRegion(inner: string): string {
  return `<div id="live" data-live><!--live-->${inner}<!--/live--></div>`
}

/** The live part of a rendered body (the whole body when it has none). Authored text is escaped, so the markers cannot be forged. */
export function liveFragment(body: string): string {
  const a = body.indexOf("<!--live-->")
  const b = body.lastIndexOf("<!--/live-->")
  return a >= 0 && b > a ? body.slice(a + "<!--live-->".length, b) : body
}

export function errorBlock(err: AlloyError, heading = "Refused"): string {
  return `<div class="errors" role="alert" data-error-code="${esc(err.code)}"><h2>${esc(heading)}: <code>${esc(err.code)}</code></h2><p>${esc(err.message)}</p>${err.fix ? `<p><strong>Fix:</strong> ${esc(err.fix)}</p>` : ""}${
    err.details.length ? `<ul>${err.details.map((d) => `<li>${d.path ? `<code>${esc(d.path)}</code>: ` : ""}${esc(d.message)}</li>`).join("")}</ul>` : ""
  }</div>`
}

/** Where the event stream ends now (pages embed it so their SSE stream starts exactly after what they show). */
export function eventsEnd(ctx: AlloyContext): number {
  let off = 0
  for (let i = 0; i < 1000; i++) {
    const r = readEventsFrom(eventsFile(ctx), off)
    if (r.next === off) break
    off = r.next
  }
  return off
}

// ---------------------------------------------------------------- satisfaction

export interface DashboardQuery {
  readonly verdict?: string | undefined
  readonly intent?: string | undefined
  readonly brief?: string | undefined
  readonly cycle?: string | undefined
}

const rank = (v: string) => {
  const i = (VERDICT_ORDER as readonly string[]).indexOf(v)
  return i < 0 ? 0.5 : i // a verdict the app does not know ranks just below failing: someone should look
}

/** Intents worst first (then by id), and criteria worst first within each. */
export function worstFirst(intents: readonly IntentVerdict[]): IntentVerdict[] {
  return [...intents]
    .map((i) => ({ ...i, criteria: [...i.criteria].sort((a, b) => rank(a.verdict) - rank(b.verdict) || a.id.localeCompare(b.id, "en", { numeric: true })) }))
    .sort((a, b) => rank(a.verdict) - rank(b.verdict) || a.id.localeCompare(b.id))
}

/** Briefs by id (with their place in the model), once per model: filtering every brief for every intent on a page was intents × briefs. */
const briefsById = new WeakMap<EvidenceModel, Map<string, { brief: EvidenceModel["briefs"][number]; n: number }>>()

function cyclesOfIntent(model: EvidenceModel, i: { briefs: readonly string[] }): string[] {
  let byId = briefsById.get(model)
  if (!byId) briefsById.set(model, (byId = new Map(model.briefs.map((brief, n) => [brief.id, { brief, n }] as const))))
  const index = byId
  // in the model's order of briefs, as filtering them gave it
  const found = [...new Set(i.briefs)].map((id) => index.get(id)).filter((x) => x !== undefined)
  return [...new Set(found.sort((a, b) => a.n - b.n).flatMap((x) => x.brief.formation.cycles))]
}

export function filterModel(model: EvidenceModel, q: DashboardQuery): IntentVerdict[] {
  let intents = model.intents
  if (q.intent) intents = intents.filter((i) => i.id === q.intent)
  if (q.brief) intents = intents.filter((i) => i.briefs.includes(q.brief!))
  if (q.cycle) intents = intents.filter((i) => cyclesOfIntent(model, i).includes(q.cycle!))
  if (q.verdict) intents = intents.map((i) => ({ ...i, criteria: i.criteria.filter((c) => c.verdict === q.verdict) })).filter((i) => i.criteria.length > 0)
  return worstFirst(intents)
}

/** The `who` of each criterion's human evidence, from the authored intents. */
function humanWho(ctx: AlloyContext): Map<string, string> {
  const out = new Map<string, string>()
  if (!ctx.store.exists()) return out
  for (const id of ctx.store.listIntentIds()) {
    try {
      const i = ctx.store.readIntent(id).value
      for (const c of i.acceptance_criteria) for (const e of c.evidence) if (e.kind === "human" && e.who) out.set(`${i.id}#${c.id}`, e.who)
    } catch {
      /* an invalid intent shows on the intents page */
    }
  }
  return out
}

function actorOf(ctx: AlloyContext, model: EvidenceModel, i: IntentVerdict, c: CriterionVerdict, who = humanWho(ctx)): NextActor {
  return nextActor(c, { humanWho: who.get(c.ref), cycles: cyclesOfIntent(model, i) })
}

function actorLine(a: NextActor): string {
  return `<div class="actor${a.done ? " done" : ""}" data-actor="${esc(a.who)}"><strong>${esc(a.who)}</strong>: ${esc(a.what)}</div>`
}

function actorTable(rows: ReadonlyArray<{ ref: string; verdict: string; a: NextActor }>): string {
  return `<table class="list" aria-label="Who must act next"><thead><tr><th scope="col">Criterion</th><th scope="col">Verdict</th><th scope="col">Who</th><th scope="col">What</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr data-next="${esc(r.ref)}" data-actor="${esc(r.a.who)}"><td><a href="${esc(APP_LINKS.criterion!(r.ref))}">${esc(r.ref)}</a></td><td>${badge(r.verdict)}</td><td><strong>${esc(r.a.who)}</strong></td><td>${esc(r.a.what)}</td></tr>`,
    )
    .join("")}</tbody></table>`
}

function options(values: readonly string[], chosen: string | undefined, all: string): string {
  return `<option value="">${esc(all)}</option>${values.map((v) => `<option value="${esc(v)}"${v === chosen ? " selected" : ""}>${esc(v)}</option>`).join("")}`
}

export function dashboardBody(ctx: AlloyContext, model: EvidenceModel, q: DashboardQuery): string {
  const intents = filterModel(model, q)
  const who = humanWho(ctx)
  const verdicts = [...new Set([...VERDICT_ORDER, ...model.intents.flatMap((i) => i.criteria.map((c) => c.verdict))])]
  const cycles = [...new Set(model.briefs.flatMap((b) => b.formation.cycles))].sort()
  const next = intents
    .flatMap((i) => i.criteria.map((c) => ({ i, c, a: actorOf(ctx, model, i, c, who) })))
    .filter((x) => !x.a.done)
    .slice(0, 50)
  const filters = `<form class="filters" method="get" action="/" aria-label="Filter criteria">
<div class="field"><label for="q-verdict">Verdict</label><select id="q-verdict" name="verdict">${options(verdicts, q.verdict, "any verdict")}</select></div>
<div class="field"><label for="q-intent">Intent</label><select id="q-intent" name="intent">${options(
    model.intents.map((i) => i.id),
    q.intent,
    "any intent",
  )}</select></div>
<div class="field"><label for="q-brief">Brief</label><select id="q-brief" name="brief">${options(
    model.briefs.map((b) => b.id),
    q.brief,
    "any brief",
  )}</select></div>
<div class="field"><label for="q-cycle">Cycle</label><select id="q-cycle" name="cycle">${options(cycles, q.cycle, "any cycle")}</select></div>
<button type="submit" class="secondary">Filter</button> <a href="/">Clear</a></form>`
  const live = `${summaryStrip(model)}
<h2 class="h4">Who must act next</h2>
<section class="card" id="next-actions">${next.length ? actorTable(next.map((x) => ({ ref: x.c.ref, verdict: x.c.verdict, a: x.a }))) : '<p class="muted">Nothing to do: every criterion shown is satisfied.</p>'}</section>
<h2 class="h4">Intents, worst first</h2>
${intents.map((i) => intentCard(i, model, APP_LINKS)).join("\n") || '<p class="muted">No intent matches. <a href="/intents/new">Write one</a>.</p>'}
${model.problems.length ? `<h2 class="h4">Problems while reading</h2><section class="card"><ul class="problems">${model.problems.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></section>` : ""}`
  return `<h1 class="page">Satisfaction</h1>${filters}${liveRegion(live)}
<h2 class="h4">How verdicts are decided</h2>${verdictLegend()}`
}

export function intentSatisfactionBody(ctx: AlloyContext, model: EvidenceModel, id: string): string | undefined {
  const i = worstFirst(model.intents.filter((x) => x.id === id))[0]
  if (!i) return undefined
  const who = humanWho(ctx)
  const actors = actorTable(i.criteria.map((c) => ({ ref: c.ref, verdict: c.verdict, a: actorOf(ctx, model, i, c, who) })))
  return `<p><a href="/">← Satisfaction</a> · <a href="/intents/${esc(encodeURIComponent(i.id))}">the intent record</a></p><h1 class="page">Satisfaction of <code>${esc(i.id)}</code></h1>${liveRegion(`${intentCard(i, model, APP_LINKS)}<h2 class="h4">Who must act next</h2><section class="card">${actors}</section>`)}`
}

/** Why evidence disagrees, when it does: what passed, what failed, and which observations decided. */
function contestedNote(c: CriterionVerdict): string {
  const cur = c.evidence.filter((o) => o.current)
  const pass = cur.filter((o) => o.outcome === "pass").length
  const fail = cur.filter((o) => o.outcome === "fail").length
  const known = (VERDICT_ORDER as readonly string[]).includes(c.verdict)
  if (!(pass && fail) && known) return ""
  const decisive = new Set(c.gates.flatMap((g) => g.decisive))
  return `<section class="card" id="contested" data-contested="true"><h2>Contested evidence</h2><p>${
    known ? "" : `The verdict <strong>${esc(c.verdict)}</strong> is not one this page knows a rule for; read it from the evidence. `
  }Under the current bundle ${pass} observation${pass === 1 ? "" : "s"} passed and ${fail} failed. Per cycle, the latest session decides, and within it the latest observation of each subject (one feedback item, one validator, one sign-off); a failing one outweighs any pass. The ${decisive.size} deciding observation${decisive.size === 1 ? " is" : "s are"} outlined below.</p>
<ul>${c.gates.map((g) => `<li>${esc(g.kind)} gate: ${badge(g.verdict)} ${esc(g.reason)}</li>`).join("")}</ul></section>`
}

/**
 * The criterion across bundle builds: for each digest its observations were made under (oldest first),
 * the verdict the satisfaction rule gives when that build is taken as the current one.
 */
export function trendOf(c: CriterionVerdict): Array<{ digest: string | undefined; verdict: string; pass: number; fail: number; waived: number; first: string }> {
  const byDigest = new Map<string, Observation[]>()
  for (const o of c.evidence) byDigest.set(o.provenance.digest ?? "", [...(byDigest.get(o.provenance.digest ?? "") ?? []), o])
  const spec = { ref: c.ref, id: c.id, text: c.text, gates: c.gates.map((g) => ({ id: g.id, kind: g.kind })) }
  return [...byDigest.entries()]
    .map(([d, os]) => {
      const asCurrent = c.evidence.map((o) => ({ ...o, current: d !== "" && o.provenance.digest === d }))
      const first = os.map((o) => o.at).sort()[0] ?? ""
      const count = (k: string) => os.filter((o) => o.outcome === k).length
      return { digest: d || undefined, verdict: d ? judgeCriterion(spec, asCurrent).verdict : "unproven", pass: count("pass"), fail: count("fail"), waived: count("waived"), first }
    })
    .sort((a, b) => a.first.localeCompare(b.first))
}

function trendTable(c: CriterionVerdict, current: string | undefined): string {
  const t = trendOf(c)
  if (!t.length) return ""
  return `<section class="card" id="trend"><h2>Across bundle builds</h2><p class="muted">The verdict each build would have, judged by the same rule from the observations made under it (oldest build first).</p><table class="list" aria-label="Verdict of ${esc(c.ref)} per bundle build"><thead><tr><th scope="col">Build</th><th scope="col">Verdict</th><th scope="col">Pass</th><th scope="col">Fail</th><th scope="col">Waived</th><th scope="col">First observed</th></tr></thead><tbody>${t
    .map(
      (r) =>
        `<tr data-trend="${esc(r.digest ?? "none")}"><td>${r.digest ? `<code title="${esc(r.digest)}">${esc(shortDigest(r.digest))}</code>${r.digest === current ? " (current)" : ""}` : "no pin"}</td><td>${badge(r.verdict)}</td><td>${r.pass}</td><td>${r.fail}</td><td>${r.waived}</td><td>${esc(when(r.first))}</td></tr>`,
    )
    .join("")}</tbody></table></section>`
}

function provenanceTable(c: CriterionVerdict, current: (o: Observation) => string | undefined): string {
  const decisive = new Set(c.gates.flatMap((g) => g.decisive))
  if (!c.evidence.length) return '<p class="muted">No observations yet.</p>'
  return `<table class="list" aria-label="Observations of ${esc(c.ref)}"><thead><tr><th scope="col">Outcome</th><th scope="col">What</th><th scope="col">Run</th><th scope="col">Stage</th><th scope="col">Bundle digest</th><th scope="col">Commit</th><th scope="col">When</th></tr></thead><tbody>${c.evidence
    .map((o) => {
      const p = o.provenance
      const cur = current(o)
      return `<tr data-observation="${esc(o.id)}" data-outcome="${esc(o.outcome)}"${decisive.has(o.id) ? ' class="decisive" data-decisive="true"' : ""}><td>${esc(o.outcome)}${decisive.has(o.id) ? " (decisive)" : ""}</td><td><span class="kind">${esc(o.kind)}</span> ${esc(o.summary)}${o.reason && !o.summary.includes(o.reason) ? ` — ${esc(o.reason)}` : ""}${o.excluded ? `<br><span class="muted" data-excluded="true">not counted: ${esc(o.excluded)}</span>` : ""}</td><td>${p.source === "ledger" ? `<code title="${esc(p.record)}">ledger ${esc(p.run_id.slice(0, 12))}</code>${p.store ? `<br><span class="muted">from ${esc(p.store)}</span>` : ""}` : `<a href="${esc(APP_LINKS.run(p.run_id))}"><code>${esc(p.run_id)}</code></a>`}${p.origin ? `<br><span class="muted">${esc(p.origin)}</span>` : ""}</td><td>${esc(p.stage)}${p.by_stage && p.by_stage !== p.stage ? ` (by ${esc(p.by_stage)})` : ""}<br><span class="muted">${esc(p.cycle)}</span></td><td>${p.digest ? `<code title="${esc(p.digest)}">${esc(shortDigest(p.digest))}</code>${o.older_bundle ? ` <span class="older-tag" title="current is ${esc(cur ?? "unknown")}">older bundle</span>` : ""}` : "no pin"}</td><td>${p.commit ? `<code title="${esc(p.commit)}">${esc(shortSha(p.commit))}</code>` : "—"}</td><td>${esc(when(o.at))}</td></tr>`
    })
    .join("")}</tbody></table>`
}

export function criterionBody(ctx: AlloyContext, model: EvidenceModel, ref: string, flowBranch: string | undefined, notice = ""): string | undefined {
  const i = model.intents.find((x) => x.criteria.some((c) => c.ref === ref))
  const c = i?.criteria.find((x) => x.ref === ref)
  if (!i || !c) return undefined
  const currentByBrief = new Map(model.briefs.map((b) => [b.id, b.current]))
  const current = (o: Observation) => (o.provenance.brief_id ? currentByBrief.get(o.provenance.brief_id) : undefined)
  const human = c.gates.some((g) => g.kind === "human")
  const signoff = human ? signoffForm(ctx, model, ref, c.id, flowBranch) : ""
  return `<p><a href="/">← Satisfaction</a> · <a href="${esc(APP_LINKS.intent!(i.id))}">${esc(i.title)}</a></p>${notice}
${liveRegion(`
<section class="card"><header class="ihead"><div><h1 class="page">${esc(c.ref)}</h1><p class="ctext">${esc(c.text)}</p></div>${badge(c.verdict, true)}</header>
<p class="why">${esc(c.reason)}</p>
<h2 class="h4">Who must act next</h2>${actorLine(actorOf(ctx, model, i, c))}
<table class="criteria"><tbody>${criterionRow(c, current, APP_LINKS)}</tbody></table></section>
${contestedNote(c)}
${trendTable(c, i.briefs.map((b) => currentByBrief.get(b)).find((d) => c.evidence.some((o) => o.provenance.digest === d)) ?? currentByBrief.get(i.briefs[0] ?? ""))}
<section class="card"><h2>Every observation, with its provenance</h2>${provenanceTable(c, current)}</section>`)}
${signoff}`
}

/**
 * The sign-off form: the signer is git's identity (shown, never typed), and the criterion's `who:` is
 * matched against it before anyone presses the button (docs/ledger.md).
 */
function signoffForm(ctx: AlloyContext, model: EvidenceModel, ref: string, acId: string, flowBranch: string | undefined): string {
  let signer: Signer | undefined
  let problem: string | undefined
  try {
    signer = gitIdentity(ctx.root)
  } catch (e) {
    const err = toAlloyError(e)
    problem = `${err.message}${err.fix ? ` — fix: ${err.fix}` : ""}`
  }
  const brief = model.briefs.find((b) => b.intents.includes(ref.split("#")[0]!))
  const who = whoOf(ctx, model, ref)
  const match = signer ? matchWho(who, signer) : undefined
  const whoLine =
    match?.kind === "mismatch"
      ? `<p class="banner" role="note" data-who="mismatch">This criterion names ${esc(match.expected.join(", "))} (<code>who:</code>); a sign-off by ${esc(signer!.email)} is recorded but does not satisfy it.</p>`
      : who
        ? `<p class="muted" data-who="${match?.kind ?? "unknown"}"><code>who:</code> ${esc(who)}${match?.kind === "role" ? " (a role: git's identity cannot check it)" : ""}</p>`
        : ""
  return `<section class="card" id="signoff"><h2>Sign off</h2><p>Records your decision on <code>${esc(ref)}</code> under the brief's current bundle${brief?.current ? ` (<code>${esc(shortDigest(brief.current))}</code>)` : ""} in the committed evidence ledger (<code>.alloy/evidence/</code>), as one commit on this branch.</p>
${signer ? `<p data-signer="${esc(signer.email)}">Signing as <strong>${esc(signer.name)}</strong> &lt;${esc(signer.email)}&gt; (git's <code>user.name</code> and <code>user.email</code>).</p>` : `<p class="banner" role="note" data-signer="">${esc(problem ?? "no git identity")}</p>`}
${whoLine}
<form method="post" action="/signoff"><input type="hidden" name="ref" value="${esc(ref)}">
<fieldset class="field"><legend>Decision</legend>
<label><input type="radio" name="decision" value="approve" checked> Approve</label>
<label><input type="radio" name="decision" value="reject"> Reject</label>
<label><input type="radio" name="decision" value="waive"> Waive</label></fieldset>
<div class="field"><label for="signoff-note">Note, or the reason to reject or waive</label><input type="text" id="signoff-note" name="note" maxlength="2000"></div>
<div class="field"><label><input type="checkbox" id="signoff-sign" name="sign" value="1"> Sign the commit with my git signing key</label></div>
<button type="submit"${flowBranch ? ' aria-describedby="ro-note"' : ""}>Sign off ${esc(acId)}</button>${flowBranch ? ' <span id="ro-note" class="muted">(will be refused: flow branch)</span>' : ""}</form></section>`
}

/** The `who:` of a criterion's human gate in a current bundle. */
function whoOf(ctx: AlloyContext, model: EvidenceModel, ref: string): string | undefined {
  for (const b of model.briefs) {
    if (!b.current) continue
    try {
      const bytes = ctx.store.readObject(b.current)
      if (!bytes) continue
      const bundle = verifyObjectBytes(bytes, { brief_id: b.id, digest: b.current }, ctx.store.rel(ctx.store.objectFile(b.current)))
      const g = bundle.overlay.gates.find((x) => x.kind === "human" && x.criterion === ref)
      if (g) return g.who
    } catch {
      /* a bundle that does not verify names nobody */
    }
  }
  return undefined
}

// ---------------------------------------------------------------- intents

export function intentsListBody(ctx: AlloyContext, q: string): string {
  const all = listIntents(ctx)
  const needle = q.trim().toLowerCase()
  const rows = all.filter((i) => !needle || [i.id, i.title ?? "", i.status ?? ""].some((s) => s.toLowerCase().includes(needle)))
  return `<h1 class="page">Intents</h1>
<form class="filters" method="get" action="/intents" role="search"><div class="field"><label for="q">Search</label><input type="text" id="q" name="q" value="${esc(q)}"></div><button type="submit" class="secondary">Search</button> <a class="button" href="/intents/new">New intent</a></form>
<table class="list" aria-label="Intents"><thead><tr><th scope="col">Id</th><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Criteria</th><th scope="col">Open questions</th><th scope="col">Briefs</th></tr></thead><tbody>
${rows
  .map(
    (i) =>
      `<tr data-intent-row="${esc(i.id)}"><td><a href="/intents/${esc(encodeURIComponent(i.id))}"><code>${esc(i.id)}</code></a></td><td>${i.error ? `<span class="st bad">invalid: ${esc(i.error.message)}</span>` : esc(i.title)}</td><td>${esc(i.status ?? "")}</td><td>${i.criteria ?? ""}</td><td>${i.open_questions ?? ""}</td><td>${i.briefs.map((b) => `<a href="/briefs/${esc(encodeURIComponent(b))}">${esc(b)}</a>`).join(", ")}</td></tr>`,
  )
  .join("\n")}
</tbody></table>${rows.length ? "" : `<p class="muted">${all.length ? "No intent matches." : "No intents yet."}</p>`}`
}

export function intentBody(ctx: AlloyContext, id: string, notice = ""): string {
  const r = showIntent(ctx, id)
  const i = r.intent
  const list = (title: string, xs: readonly string[]) => (xs.length ? `<h3>${esc(title)}</h3><ul>${xs.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>` : "")
  return `${notice}<h1 class="page">${esc(i.title)}</h1>
<p class="sub"><code>${esc(i.id)}</code> · status ${esc(i.status)} · <code title="source digest">${esc(shortDigest(r.source_digest))}</code> · <a href="/intents/${esc(encodeURIComponent(i.id))}/edit">Edit</a> · <a href="${esc(APP_LINKS.intent!(i.id))}">Satisfaction</a>${r.briefs.length ? ` · briefs ${r.briefs.map((b) => `<a href="/briefs/${esc(encodeURIComponent(b))}">${esc(b)}</a>`).join(", ")}` : ""}</p>
${r.warnings.length ? `<div class="banner" role="note"><strong>Lint</strong><ul>${r.warnings.map((w) => `<li data-lint="${esc(w.code)}">${w.path ? `<code>${esc(w.path)}</code>: ` : ""}${esc(w.message)}</li>`).join("")}</ul></div>` : ""}
<section class="card"><h3>Goal</h3><p>${esc(i.goal)}</p>${i.context ? `<h3>Context</h3><p>${esc(i.context)}</p>` : ""}${list("Constraints", i.constraints)}
<h3>Acceptance criteria</h3><ul>${i.acceptance_criteria.map((c) => `<li data-criterion="${esc(`${i.id}#${c.id}`)}"><strong>${esc(c.id)}</strong> ${esc(c.text)}<ul>${c.evidence.map((e) => `<li><span class="kind">${esc(e.kind)}</span> ${esc(JSON.stringify(e))}</li>`).join("") || '<li class="muted">no evidence declared</li>'}</ul></li>`).join("")}</ul>
${list("Non-goals", i.non_goals)}${list("Tradeoffs", i.tradeoffs)}${list("Open questions (to clarify)", i.open_questions)}${list("Links", i.links)}${i.body ? `<h3>Notes</h3><pre class="pack">${esc(i.body)}</pre>` : ""}</section>`
}

// ---------------------------------------------------------------- briefs and bundles

function pinState(p: BriefStatus["pins"][number]): string {
  return `<li data-pin="${esc(p.kind)}:${esc(p.id)}" data-pin-state="${esc(p.state)}">${esc(p.kind)} <code>${esc(p.id)}</code> @ <code title="${esc(p.digest)}">${esc(shortDigest(p.digest))}</code> — ${esc(p.state)}${p.error ? ` (${esc(p.error.code)}: ${esc(p.error.message)})` : ""}</li>`
}

export function briefsListBody(ctx: AlloyContext, notice = ""): string {
  const st = projectStatus(ctx)
  const intents = st.intents.filter((i) => !i.error).map((i) => i.id)
  const cycles = ctx.project.isFoundryProject() ? ctx.project.listCycleIds() : []
  const rows = st.briefs
    .map(
      (b) =>
        `<tr data-brief-row="${esc(b.id)}"><td><a href="/briefs/${esc(encodeURIComponent(b.id))}"><code>${esc(b.id)}</code></a><br>${esc(b.title ?? "")}</td><td>${b.intents.map((i) => `<a href="/intents/${esc(encodeURIComponent(i))}">${esc(i)}</a>`).join(", ")}</td><td>${esc([b.formation?.flow ? `flow ${b.formation.flow}` : "", ...(b.formation?.cycles ?? [])].filter(Boolean).join(", "))}</td><td>${
          b.digest ? `<code data-digest="${esc(b.digest)}" title="${esc(b.digest)}">${esc(shortDigest(b.digest))}</code>` : '<span class="muted">not built</span>'
        }${b.needs_build ? ' <span class="older-tag">sources changed</span>' : ""}${b.error ? `<br><span class="st bad">${esc(b.error.code)}: ${esc(b.error.message)}</span>` : ""}</td><td><ul>${b.pins.map(pinState).join("") || '<li class="muted">no pin</li>'}</ul></td><td>${briefActions(b, cycles)}</td></tr>`,
    )
    .join("\n")
  const checks = (name: string, values: readonly string[]) =>
    values.length ? values.map((v, n) => `<label><input type="checkbox" name="${name}" value="${esc(v)}" id="nb-${name}-${n}"> ${esc(v)}</label>`).join(" ") : '<span class="muted">none</span>'
  return `${notice}<h1 class="page">Briefs and bundles</h1>
${liveRegion(`<table class="list" aria-label="Briefs"><thead><tr><th scope="col">Brief</th><th scope="col">Intents</th><th scope="col">Formation</th><th scope="col">Current build</th><th scope="col">Pinned by</th><th scope="col">Actions</th></tr></thead><tbody>${rows}</tbody></table>${st.briefs.length ? "" : '<p class="muted">No briefs yet.</p>'}
${st.unpinned_cycles.length ? `<p class="muted">Cycles without a pin: ${esc(st.unpinned_cycles.join(", "))}</p>` : ""}`)}
<section class="card"><h2>New brief</h2><form method="post" action="/briefs">
<div class="field"><label for="nb-id">Id</label><input type="text" id="nb-id" name="id"></div>
<div class="field"><label for="nb-title">Title (optional)</label><input type="text" id="nb-title" name="title"></div>
<fieldset class="crit"><legend>Intents</legend>${checks("intent", intents)}</fieldset>
<fieldset class="crit"><legend>Cycles</legend>${checks("cycle", cycles)}</fieldset>
<button type="submit">Create brief</button></form></section>`
}

function briefActions(b: BriefStatus, cycles: readonly string[]): string {
  const own = b.formation?.cycles.length ? b.formation.cycles : cycles
  const id = encodeURIComponent(b.id)
  return `<form class="inline" method="post" action="/briefs/${esc(id)}/build"><button type="submit" data-action="build">Build</button></form>
${b.digest ? `<form class="inline" method="post" action="/briefs/${esc(id)}/pin"><label for="pin-${esc(b.id)}" class="skip">Cycle to pin ${esc(b.id)} into</label><select id="pin-${esc(b.id)}" name="cycle">${own.map((c) => `<option value="${esc(c)}">${esc(c)}</option>`).join("")}</select> <button type="submit" class="secondary" data-action="pin">Pin</button></form>` : ""}`
}

/** Builds known for a brief: its ref, the digests pins name, the digests runs ran under (newest known first). */
function knownBuilds(ctx: AlloyContext, model: EvidenceModel, b: BriefStatus): string[] {
  const out: string[] = []
  const add = (d: string | undefined) => {
    if (d && isDigest(d) && !out.includes(d)) out.push(d)
  }
  add(b.digest)
  for (const p of b.pins) add(p.digest)
  for (const r of [...model.records].reverse()) if (r.pin?.brief_id === b.id) add(r.pin.digest)
  return out.filter((d) => ctx.store.readObject(d) !== undefined)
}

export function briefBody(ctx: AlloyContext, id: string, notice = ""): string | undefined {
  const st = projectStatus(ctx)
  const b = st.briefs.find((x) => x.id === id)
  if (!b) return undefined
  const model = loadEvidence(ctx)
  const builds = knownBuilds(ctx, model, b)
  const allPins = [...st.briefs.flatMap((x) => x.pins), ...st.orphan_pins]
  const rows = builds
    .map((d) => {
      const pins = allPins.filter((p) => p.digest === d)
      return `<tr data-build="${esc(d)}"><td><a href="/bundles/${esc(encodeURIComponent(b.id))}/${esc(d)}"><code>${esc(d)}</code></a>${d === b.digest ? " <strong>(current)</strong>" : ""}</td><td>${pins.map((p) => `${esc(p.kind)} <code>${esc(p.id)}</code>`).join(", ") || '<span class="muted">no pin</span>'}</td></tr>`
    })
    .join("")
  const diffForm =
    builds.length > 1
      ? `<form method="get" action="/diff" class="filters"><input type="hidden" name="brief" value="${esc(b.id)}"><div class="field"><label for="diff-a">From</label><select id="diff-a" name="a">${builds.map((d, n) => `<option value="${esc(d)}"${n === 1 ? " selected" : ""}>${esc(shortDigest(d))}</option>`).join("")}</select></div><div class="field"><label for="diff-b">To</label><select id="diff-b" name="b">${builds.map((d, n) => `<option value="${esc(d)}"${n === 0 ? " selected" : ""}>${esc(shortDigest(d))}</option>`).join("")}</select></div><button type="submit" class="secondary">Compare the stage texts</button></form>`
      : ""
  return `${notice}<p><a href="/briefs">← Briefs</a></p><h1 class="page">${esc(b.title ?? b.id)} <code>${esc(b.id)}</code></h1>
${liveRegion(`<section class="card"><p>Intents: ${b.intents.map((i) => `<a href="/intents/${esc(encodeURIComponent(i))}">${esc(i)}</a>`).join(", ")} · formation ${esc([b.formation?.flow ? `flow ${b.formation.flow}` : "", ...(b.formation?.cycles ?? [])].filter(Boolean).join(", "))}${b.needs_build ? ' · <span class="older-tag">sources changed since the last build</span>' : ""}</p>
<p>${briefActions(b, ctx.project.isFoundryProject() ? ctx.project.listCycleIds() : [])}</p>
<h2>Pins</h2><ul>${b.pins.map(pinState).join("") || '<li class="muted">no pin</li>'}</ul></section>
<section class="card"><h2>Builds</h2><table class="list" aria-label="Builds of ${esc(b.id)}"><thead><tr><th scope="col">Digest</th><th scope="col">Pinned by</th></tr></thead><tbody>${rows || '<tr><td colspan="2" class="muted">not built yet</td></tr>'}</tbody></table>${diffForm}</section>`)}`
}

/**
 * The exact words each stage of each formation cycle gets from Alloy, rendered only from bytes that
 * verified against the digest: per cycle, because a composed formation gives each cycle its own
 * criteria and gates (packFor), and a stage's notes may be written for one cycle only.
 */
export function stageTexts(
  bundle: Bundle,
  pin: { brief_id: string; digest: string; stale: boolean; current?: string | undefined },
): Array<{ cycle: string | undefined; stage: string; how: string; text: string }> {
  const cycles: Array<string | undefined> = bundle.brief.formation.cycles.length ? bundle.brief.formation.cycles : [undefined]
  const out: Array<{ cycle: string | undefined; stage: string; how: string; text: string }> = []
  for (const cycle of cycles) {
    const entry = bundle.composition?.cycles.find((c) => c.id === cycle)
    // the stages this cycle has a pack for: the brief's (`forge`, or `forge:<this cycle>`) and its composition's
    const bases = new Set<string>(entry ? Object.keys(entry.packs) : [])
    for (const key of Object.keys(bundle.packs)) {
      const [base, alias] = key.split(":") as [string, string | undefined]
      if (alias === undefined || alias === cycle) bases.add(base)
    }
    for (const base of [...bases].sort()) {
      const stage = cycle ? `${base}:${cycle}` : base
      if (base === "forge" || base === "assay") {
        out.push({ cycle, stage, how: "appended after Foundry's prompt (dispatch)", text: renderDispatchBlock(bundle, { cycle: cycle ?? "<cycle>", ...pin }, stage) })
      } else
        out.push({
          cycle,
          stage,
          how: base === "appraise" ? "law gates added inside each appraiser's ## Laws section" : base === "human-appraise" ? "context.alloy checklist of human_appraise" : "the stage's pack",
          text: packFor(bundle, cycle, stage).text,
        })
    }
  }
  return out
}

export function bundleBody(ctx: AlloyContext, briefId: string, digest: string): { status: number; body: string } {
  if (!isSlug(briefId) || !isDigest(digest)) return { status: 400, body: errorBlock(new AlloyError("usage", "the address must name a brief id and a sha256 digest"), "Not a bundle address") }
  try {
    const r = resolveTarget(ctx, { brief_id: briefId, digest })
    const texts = stageTexts(r.bundle, { brief_id: briefId, digest, stale: r.stale, current: r.current })
    return {
      status: 200,
      body: `<p><a href="/briefs/${esc(encodeURIComponent(briefId))}">← ${esc(briefId)}</a></p><h1 class="page">Bundle <code>${esc(shortDigest(digest))}</code></h1>
<div class="ok" role="status" data-verified="true">Verified: the bytes of <code>${esc(r.objectFile)}</code> hash to <code>${esc(digest)}</code>${r.stale ? `; the brief has been built again since (current <code>${esc(shortDigest(r.current))}</code>)` : ""}.</div>
${texts.map((t) => `<section class="card" data-stage="${esc(t.stage)}"${t.cycle ? ` data-cycle="${esc(t.cycle)}"` : ""}><h2>${esc(t.stage)}</h2><p class="muted">${esc(t.how)}</p><pre class="pack">${esc(t.text)}</pre></section>`).join("\n")}
<section class="card"><h2>Formation Brief</h2><pre class="pack">${esc(r.bundle.brief.text)}</pre></section>`,
    }
  } catch (e) {
    // fail closed, like the hooks: no text from a bundle that did not verify
    return { status: 409, body: `<h1 class="page">Bundle <code>${esc(shortDigest(digest))}</code></h1>${errorBlock(toAlloyError(e), "Did not verify; nothing from it is shown")}` }
  }
}

export function diffBody(ctx: AlloyContext, briefId: string, a: string, b: string): { status: number; body: string } {
  try {
    if (!isSlug(briefId) || !isDigest(a) || !isDigest(b)) throw new AlloyError("usage", "name a brief and two sha256 digests", { fix: "pick two builds on the brief's page" })
    const ra = resolveTarget(ctx, { brief_id: briefId, digest: a })
    const rb = resolveTarget(ctx, { brief_id: briefId, digest: b })
    const ta = new Map(stageTexts(ra.bundle, { brief_id: briefId, digest: a, stale: false }).map((t) => [t.stage, t.text]))
    const tb = new Map(stageTexts(rb.bundle, { brief_id: briefId, digest: b, stale: false }).map((t) => [t.stage, t.text]))
    const stages = [...new Set([...ta.keys(), ...tb.keys(), "brief"])].sort()
    ta.set("brief", ra.bundle.brief.text)
    tb.set("brief", rb.bundle.brief.text)
    const parts = stages.map((s) => {
      // the pin line names the digest itself: compare the texts with it masked, so only content changes show
      const norm = (t: string | undefined, d: string) => (t ?? "").split(d).join("<digest>")
      const d = lineDiff(norm(ta.get(s), a), norm(tb.get(s), b))
      const changed = d.ops.filter((o) => o.op !== "same").length
      return `<section class="card" data-diff-stage="${esc(s)}" data-changes="${changed}"><h2>${esc(s)} <span class="muted">${changed ? `${changed} changed line${changed === 1 ? "" : "s"}` : "unchanged"}</span></h2>${
        changed ? `<div class="pack diff">${d.ops.map((o) => `<span class="${o.op}">${o.op === "add" ? "+ " : o.op === "del" ? "- " : "  "}${esc(o.line)}</span>`).join("")}</div>` : ""
      }</section>`
    })
    return {
      status: 200,
      body: `<p><a href="/briefs/${esc(encodeURIComponent(briefId))}">← ${esc(briefId)}</a></p><h1 class="page">${esc(briefId)}: <code>${esc(shortDigest(a))}</code> → <code>${esc(shortDigest(b))}</code></h1><div class="ok" role="status">Both bundles verified.</div>${parts.join("\n")}`,
    }
  } catch (e) {
    return { status: 409, body: `<h1 class="page">Bundle diff</h1>${errorBlock(toAlloyError(e), "Did not verify; nothing is shown")}` }
  }
}

// ---------------------------------------------------------------- runs

export function eventItem(e: RunEvent, end: number): string {
  const pin = e.pin ? `${e.pin.brief_id}@${shortDigest(e.pin.digest)}` : ""
  return `<li id="ev-${end}" data-event-offset="${end}" data-kind="${esc(e.kind)}"><span class="t">${esc(when(e.at))}</span><span class="k-${esc(e.kind)}">${esc(e.kind.replace("stage_", ""))}</span><span>${esc(e.stage ?? "-")}${e.cycle ? ` <span class="muted">(${esc(e.cycle)})</span>` : ""}${pin ? ` <code>${esc(pin)}</code>` : ""}${e.reason ? ` — ${esc(e.reason)}${e.code ? ` [${esc(e.code)}]` : ""}` : ""}</span></li>`
}

/** The last events (newest first) and the state of every stage seen, from the event stream (bounded reads). */
function readAllEvents(ctx: AlloyContext): { items: Array<{ e: RunEvent; end: number }>; end: number } {
  const out: Array<{ e: RunEvent; end: number }> = []
  let off = 0
  for (let i = 0; i < 1000; i++) {
    const r = readEventsFrom(eventsFile(ctx), off)
    r.events.forEach((e, n) => out.push({ e, end: r.ends[n]! }))
    if (r.next === off) break
    off = r.next
    if (out.length > 200_000) out.splice(0, out.length - 100_000)
  }
  return { items: out, end: off }
}

/** On the runs page a run's pill jumps to its row on the same page (its session is shown there). */
const RUNS_PAGE_LINKS: ViewLinks = { ...APP_LINKS, run: REPORT_LINKS.run }

/**
 * The runs page's live part. `show`: the runs asked for by a link (their sessions are shown however
 * old), and `all` to show every session rather than each brief's newest.
 */
export function runsBody(ctx: AlloyContext, model: EvidenceModel, show: { runs?: readonly string[]; all?: boolean } = {}): { live: string; feed: string; end: number } {
  const { items: events, end } = readAllEvents(ctx)
  const open = new OpenStages()
  const last = new Map<string, { e: RunEvent; end: number }>()
  for (const x of events) {
    open.apply(x.e)
    if (x.e.kind !== "dispatch") last.set(`${x.e.cycle ?? ""} ${x.e.stage ?? ""}`, x)
  }
  const rows = [...last.values()]
    .sort((a, b) => b.end - a.end)
    .slice(0, 100)
    .map(({ e }) => {
      const isOpen = open.list().some((o) => o.cycle === e.cycle && o.stage === e.stage)
      const state = e.kind === "stage_blocked" ? "blocked" : isOpen ? "running" : e.kind === "stage_ended" ? "ended" : e.kind === "heartbeat" ? "heartbeat" : e.kind.replace("stage_", "")
      return `<tr data-stage-row="${esc(`${e.cycle ?? ""}/${e.stage ?? ""}`)}" data-state="${esc(state)}"><td><span class="pill ${STAGE_CLASS(e.stage ?? "")}">${esc(e.stage ?? "-")}</span></td><td>${esc(e.cycle ?? "")}</td><td><strong>${esc(state)}</strong></td><td>${esc(when(e.at))}</td><td>${e.pin ? `<code title="${esc(e.pin.digest)}">${esc(e.pin.brief_id)}@${esc(shortDigest(e.pin.digest))}</code>` : ""}${e.reason ? ` ${esc(e.reason)}` : ""}</td></tr>`
    })
    .join("")
  const live = `<section class="card"><h2>Stages</h2><table class="list" aria-label="Stages by their latest event"><thead><tr><th scope="col">Stage</th><th scope="col">Cycle</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Pin</th></tr></thead><tbody>${rows || '<tr><td colspan="5" class="muted">No stage events yet.</td></tr>'}</tbody></table></section>
<section class="card"><h2>Run records (${model.records.length})</h2>${
    model.records
      .slice(-50)
      .reverse()
      .map((r) => {
        const o = recordOutcome(r)
        return `<div data-record="${esc(r.run_id)}"><span class="pill ${STAGE_CLASS(r.stage)} ${o.cls}">${esc(r.stage)}</span> <span class="st ${o.cls}">${esc(o.label)}</span> ${esc(r.summary ?? "")} <span class="muted">${esc(when(r.ended_at))}</span>${r.pulled ? ` <span class="muted" data-origin>from ${esc(describePulled(r.pulled))}</span>` : ""}</div>`
      })
      .join("") || '<p class="muted">No run records yet.</p>'
  }</section>
<h2 class="h4">Runs per brief</h2>${timeline(model, RUNS_PAGE_LINKS, show.all ? {} : { maxSessions: TIMELINE_SESSIONS, keep: new Set(show.runs ?? []), allHref: "/runs?all=1" })}`
  const feed = events
    .slice(-200)
    .reverse()
    .map((x) => eventItem(x.e, x.end))
    .join("")
  return { live, feed, end }
}

// ---------------------------------------------------------------- learning loop

/** The learning loop's findings (drift, contradictions, strategies, tradeoffs), follow-up questions and lifecycle proposals, with their citations. */
export function insightsBody(ins: ProjectInsights, flowBranch: string | undefined, notice = ""): string {
  const followupAction = (q: FollowUp) =>
    `<form class="inline" method="post" action="/followups"><input type="hidden" name="id" value="${esc(q.id)}"><button type="submit" class="secondary" aria-label="Add to ${esc(q.intent)}'s open questions: ${esc(q.question)}"${flowBranch ? ' aria-describedby="ro-note"' : ""}>Add to open questions</button></form>`
  return `${notice}<h1 class="page">Insights</h1>
${liveRegion(
  // a lifecycle proposal is about the intent record: its link goes there
  insightsSections(
    ins,
    { ...APP_LINKS, intent: (id) => `/intents/${encodeURIComponent(id)}` },
    {
      followupAction,
      ...(flowBranch ? { followupNote: '<p id="ro-note" class="muted">Adding is refused on a flow branch.</p>' } : {}),
      lifecycleNote: '<p class="muted">Apply them with <code>opencode-alloy intent lifecycle --apply</code> (one commit on the base branch).</p>',
    },
  ),
)}`
}
