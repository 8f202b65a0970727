/**
 * `report --html`: the evidence model as one self-contained HTML page (pure: model in, string out).
 * Inline CSS only, no script, no external URL of any kind (fonts, images, links): it opens from a file,
 * offline, and can be attached to a ticket. Every text from records and intents is escaped.
 *
 * Stable hooks for tests and tools: `data-verdict` on every verdict badge, `data-intent` on intent
 * cards, `data-criterion` on criterion rows, `data-run` on timeline entries, `data-older-bundle` on
 * evidence observed under an older bundle. Evidence links point at `#run-<run id>` in the timeline.
 *
 * The pieces are exported as view functions so the local web app (`opencode-alloy ui`, src/ui/) renders
 * the very same cards, rows and timeline: the static report and the app can never disagree. `links`
 * says where a run, brief, intent or criterion link goes (in-page anchors here, pages in the app).
 * Verdicts are rendered from their string, so a verdict this file does not know still shows.
 */
import type { RunRecord } from "../core/run-record.js"
import type { Observation } from "./observations.js"
import { pulledStores, sessionOfRecord } from "./observations.js"
import { checkRunPassed, cmpTime, compareRecords } from "../core/run-record.js"
import type { EvidenceModel } from "./model.js"
import { VERDICT_ORDER, type CriterionVerdict, type IntentVerdict, type Verdict } from "./satisfaction.js"
import { pushTo } from "../core/maps.js"
import type { Cite, FollowUp, Insights } from "./insights.js"

export const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }
export function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ESC[c]!)
}

const VERDICT_LABEL: Record<string, string> = { satisfied: "Satisfied", failing: "Failing", stale: "Stale", unproven: "Unproven", waived: "Waived", contested: "Contested" }
const VERDICT_ICON: Record<string, string> = { satisfied: "✓", failing: "✗", stale: "↻", unproven: "?", waived: "~", contested: "⚠" }
const OUTCOME_ICON: Record<string, string> = { pass: "✓", fail: "✗", waived: "~" }

/** A verdict string as a CSS class word (a verdict the renderer does not know still gets a stable class). */
export const verdictClass = (v: string) =>
  `v-${String(v)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 32)}`
export const verdictLabel = (v: string) => VERDICT_LABEL[v] ?? String(v).charAt(0).toUpperCase() + String(v).slice(1)

export const shortDigest = (d: string | undefined) => (d ? d.replace(/^sha256:/, "").slice(0, 12) : "")
export const shortSha = (s: string | undefined) => (s ? s.slice(0, 7) : "")

/** Where links go: anchors in the one-page report, pages in the web app. Every result is escaped by the caller. */
export interface ViewLinks {
  run(runId: string): string
  brief(briefId: string): string
  /** the intent's heading link (none in the report: the card is the page) */
  intent?(intentId: string): string
  criterion?(ref: string): string
}

/** The id of a run's row in the timeline: every link to a run on a page ends in `#` and this. */
export const runAnchor = (runId: string) => `run-${runId}`

export const REPORT_LINKS: ViewLinks = { run: (id) => `#${runAnchor(id)}`, brief: (id) => `#brief-${id}` }

export function when(iso: string | undefined): string {
  if (!iso) return ""
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").slice(0, 16) + " UTC"
}

export function badge(v: Verdict | string, big = false): string {
  return `<span class="badge ${esc(verdictClass(v))}${big ? " big" : ""}" data-verdict="${esc(v)}"><span class="i" aria-hidden="true">${esc(VERDICT_ICON[v] ?? "•")}</span>${esc(verdictLabel(v))}</span>`
}

export function evidenceItem(o: Observation, current: string | undefined, links: ViewLinks = REPORT_LINKS, decisive = false): string {
  const p = o.provenance
  const older = o.older_bundle
  const digestTitle = p.digest ? `observed under ${p.digest}${current && current !== p.digest ? `; current is ${current}` : ""}` : "no pin was recorded for this run"
  return `<li class="ev o-${o.outcome}${older ? " older" : ""}"${older ? ' data-older-bundle="true"' : ""}${decisive ? ' data-decisive="true" title="decided the verdict"' : ""} data-observation="${esc(o.id)}">
<span class="oi" aria-label="${esc(o.outcome)}">${esc(OUTCOME_ICON[o.outcome] ?? "•")}</span>
<div class="evb"><div class="evs"><span class="kind">${esc(o.kind)}</span> ${esc(o.summary)}${o.reason && o.outcome !== "pass" && !o.summary.includes(o.reason) ? ` <span class="reason">— ${esc(o.reason)}</span>` : ""}</div>
${o.excluded ? `<div class="reason" data-excluded="true">not counted: ${esc(o.excluded)}</div>` : ""}
<div class="meta">${p.source === "ledger" ? `<span title="${esc(`.alloy/evidence/${p.record}`)}">ledger${p.store ? ` · from ${esc(p.store)}` : ""}</span>` : `<a href="${esc(links.run(p.run_id))}" title="run ${esc(p.run_id)}">run ${esc(p.run_id.slice(-8))}</a>`} · <span class="stage">${esc(p.stage)}</span>${p.by_stage && p.by_stage !== p.stage ? ` (by ${esc(p.by_stage)})` : ""} · <code title="${esc(digestTitle)}">${p.digest ? esc(shortDigest(p.digest)) : "no pin"}</code>${older ? ' <span class="older-tag" title="' + esc(digestTitle) + '">older bundle</span>' : ""}${p.commit ? ` · commit <code title="${esc(p.commit)}">${esc(shortSha(p.commit))}</code>` : ""} · ${esc(when(o.at))}</div></div></li>`
}

/**
 * Observations listed under one criterion: the newest, and every one that decided a verdict (the
 * report summary's `decisive`); the others are counted in a line that says where to see them all,
 * so a criterion cited by 100,000 runs does not make the page as large as the records.
 */
export const LISTED_OBSERVATIONS = 100

export function criterionRow(c: CriterionVerdict, currentOf: (o: Observation) => string | undefined, links: ViewLinks = REPORT_LINKS): string {
  const decisive = new Set(c.gates.flatMap((g) => g.decisive))
  const shown = c.evidence.slice(0, 3)
  const rest = c.evidence.filter((o, n) => n >= 3 && (n < LISTED_OBSERVATIONS || decisive.has(o.id)))
  const unlisted = c.evidence.length - shown.length - rest.length
  const intent = c.ref.split("#")[0]!
  const more = unlisted
    ? `<p class="muted" data-unlisted="${unlisted}">${unlisted} older observation${unlisted === 1 ? "" : "s"} not listed here; all of them: <code>opencode-alloy evidence --intent ${esc(intent)}</code> or <code>opencode-alloy report --json --full</code></p>`
    : ""
  const gates = c.gates.map((g) => `<span class="gate ${esc(verdictClass(g.verdict))}" title="${esc(g.reason)}" data-verdict="${esc(g.verdict)}">${esc(g.kind)}</span>`).join("")
  const list = (os: readonly Observation[]) => os.map((o) => evidenceItem(o, currentOf(o), links, decisive.has(o.id))).join("\n")
  const id = links.criterion ? `<a class="acid" href="${esc(links.criterion(c.ref))}">${esc(c.id)}</a>` : `<span class="acid">${esc(c.id)}</span>`
  return `<tr data-criterion="${esc(c.ref)}" data-verdict="${esc(c.verdict)}">
<td class="ref">${id}</td>
<td class="crit"><div class="ctext">${esc(c.text)}</div><div class="gates">${gates || '<span class="muted">no evidence declared</span>'}</div><div class="why">${esc(c.reason)}</div></td>
<td class="verdict">${badge(c.verdict)}</td>
<td class="evidence">${c.evidence.length ? `<ul class="evl">${list(shown)}</ul>${rest.length ? `<details><summary>${rest.length + unlisted} more observation${rest.length + unlisted === 1 ? "" : "s"}</summary><ul class="evl">${list(rest)}</ul>${more}</details>` : ""}` : '<span class="muted">no observations</span>'}</td>
</tr>`
}

/** Each brief's current digest, built once per model: building it for every intent card was intents × briefs. */
const currentDigests = new WeakMap<EvidenceModel, Map<string, string | undefined>>()
function currentByBriefOf(model: EvidenceModel): Map<string, string | undefined> {
  let m = currentDigests.get(model)
  if (!m) currentDigests.set(model, (m = new Map(model.briefs.map((b) => [b.id, b.current]))))
  return m
}

export function intentCard(i: IntentVerdict, model: EvidenceModel, links: ViewLinks = REPORT_LINKS): string {
  const currentByBrief = currentByBriefOf(model)
  const currentOf = (o: Observation) => (o.provenance.brief_id ? currentByBrief.get(o.provenance.brief_id) : undefined)
  const bar = verdictBar(i.counts)
  const title = links.intent ? `<a href="${esc(links.intent(i.id))}">${esc(i.title)}</a>` : esc(i.title)
  return `<section class="card intent" id="intent-${esc(i.id)}" data-intent="${esc(i.id)}" data-verdict="${esc(i.verdict)}">
<header class="ihead"><div><h2>${title}</h2><div class="sub"><code>${esc(i.id)}</code> · status ${esc(i.status)}${i.briefs.length ? ` · brief${i.briefs.length === 1 ? "" : "s"} ${i.briefs.map((b) => `<a href="${esc(links.brief(b))}">${esc(b)}</a>`).join(", ")}` : " · in no built brief"}</div></div>${badge(i.verdict, true)}</header>
<p class="goal">${esc(i.goal)}</p>
<div class="ibar" aria-hidden="true">${bar}</div>
<p class="why">${esc(i.reason)}</p>
<table class="criteria"><thead><tr><th>Criterion</th><th></th><th>Verdict</th><th>Evidence</th></tr></thead><tbody>
${i.criteria.map((c) => criterionRow(c, currentOf, links)).join("\n")}
</tbody></table>
</section>`
}

export const STAGE_CLASS = (stage: string) => {
  const b = stage.split(":")[0]!
  return ["forge", "quench", "appraise", "human-appraise", "assay", "finish", "attest", "observe", "signoff"].includes(b) ? `s-${b}` : "s-other"
}

export function recordOutcome(r: RunRecord): { cls: string; label: string } {
  if (r.outcome === "error") return { cls: "bad", label: "error" }
  const open = Object.entries(r.feedback?.by_state ?? {})
    .filter(([s]) => s === "open" || s === "rejected" || s === "actioned")
    .reduce((n, [, c]) => n + c, 0)
  if (r.stage.startsWith("quench") && r.quench) return r.quench.issues.length ? { cls: "bad", label: `${r.quench.issues.length} issue(s)` } : { cls: "good", label: "no issues" }
  if (r.stage === "attest") return { cls: "good", label: "attested" }
  if (r.check) return checkRunPassed(r.check) ? { cls: "good", label: "check passed" } : { cls: "bad", label: "check failed" }
  return open ? { cls: "warn", label: `${open} open` } : { cls: "good", label: "ok" }
}

/**
 * Sessions the report and the app's runs page show in full per brief, newest first. Older ones are
 * counted, with where every run is listed: a report over 100,000 runs listed all of them, a 67 MB
 * page no one reads and the largest part of the report's time and memory.
 */
export const TIMELINE_SESSIONS = 200

export interface TimelineOptions {
  /** show at most this many sessions per brief (newest first), and count the rest */
  readonly maxSessions?: number
  /** runs whose sessions are shown however old: the runs the page links to elsewhere */
  readonly keep?: ReadonlySet<string>
  /** a link that shows every session (the app's runs page has one; the report names commands) */
  readonly allHref?: string
}

export function timeline(model: EvidenceModel, links: ViewLinks = REPORT_LINKS, opts: TimelineOptions = {}): string {
  const groups = new Map<string, RunRecord[]>()
  for (const r of model.records) {
    const k = r.pin?.brief_id ?? ""
    pushTo(groups, k, r)
  }
  // by id once: finding each brief in the list (and de-duplicating with indexOf) was briefs × briefs
  const byId = new Map(model.briefs.map((b) => [b.id, b] as const))
  const order = [...new Set([...byId.keys(), ...(groups.has("") ? [""] : [])])]
  const parts: string[] = []
  for (const briefId of order) {
    const brief = byId.get(briefId)
    const records = groups.get(briefId) ?? []
    const sessions = new Map<string, RunRecord[]>()
    for (const r of records) pushTo(sessions, sessionOfRecord(r), r)
    const sorted = [...sessions.entries()].sort((a, b) => cmpTime(b[1][b[1].length - 1]!.ended_at, a[1][a[1].length - 1]!.ended_at))
    const max = opts.maxSessions ?? Number.POSITIVE_INFINITY
    const shown = sorted.filter(([, rs], k) => k < max || rs.some((r) => opts.keep?.has(r.run_id)))
    const omitted = sorted.length - shown.length
    const omittedRuns = omitted ? sorted.reduce((n, [, rs]) => n + rs.length, 0) - shown.reduce((n, [, rs]) => n + rs.length, 0) : 0
    const rows = shown
      .map(([session, rs]) => {
        rs.sort(compareRecords)
        const digests = [...new Set(rs.map((r) => r.pin?.digest).filter((d): d is string => !!d))]
        const older = digests.some((d) => d !== brief?.current)
        const origin = rs.find((r) => r.origin)?.origin
        // each run's outcome and time, worked out once for its pill and its row
        const runs = rs.map((r) => ({ r, o: recordOutcome(r), at: when(r.ended_at) }))
        const strip = runs
          .map(
            ({ r, o, at }) => `<a class="pill ${STAGE_CLASS(r.stage)} ${o.cls}" href="${esc(links.run(r.run_id))}" title="${esc(`${r.stage} · ${o.label} · ${at}`)}">${esc(r.stage.split(":")[0])}</a>`,
          )
          .join('<span class="arrow" aria-hidden="true">›</span>')
        const list = runs
          .map(({ r, o, at }) => {
            return `<li id="${esc(runAnchor(r.run_id))}" data-run="${esc(r.run_id)}"><span class="t">${esc(at)}</span><span class="pill ${STAGE_CLASS(r.stage)} ${o.cls}">${esc(r.stage)}</span><span class="st ${o.cls}">${esc(o.label)}</span><span class="sum">${esc(r.summary ?? "")}</span><span class="ids"><code title="run id">${esc(r.run_id)}</code>${r.commit ? ` · commit <code title="${esc(r.commit)}">${esc(shortSha(r.commit))}</code>` : ""}${r.pin ? ` · <code title="${esc(r.pin.digest)}">${esc(shortDigest(r.pin.digest))}</code>` : ""}${r.pin && brief?.current && r.pin.digest !== brief.current ? ' <span class="older-tag">older bundle</span>' : ""}</span></li>`
          })
          .join("\n")
        return `<div class="session${older ? " older" : ""}"><div class="shead"><strong>${esc(rs[0]!.cycle)}</strong> <span class="muted">${esc(when(rs[0]!.ended_at))} → ${esc(when(rs[rs.length - 1]!.ended_at))}</span>${origin ? ` <span class="origin">${esc(origin.kind)} ${esc(origin.ref)}</span>` : ""}${digests.map((d) => ` <code title="${esc(d)}">${esc(shortDigest(d))}</code>`).join("")}${older ? ' <span class="older-tag">older bundle</span>' : ""}</div>
<div class="strip">${strip}</div>
<details><summary>${rs.length} run${rs.length === 1 ? "" : "s"} · session ${esc(session)}</summary><ol class="runs">${list}</ol></details></div>`
      })
      .join("\n")
    const more = omitted
      ? `\n<p class="muted omitted" data-omitted-sessions="${omitted}" data-omitted-runs="${omittedRuns}">${omitted} older session${omitted === 1 ? "" : "s"} (${omittedRuns} run${omittedRuns === 1 ? "" : "s"}) not shown here; ${opts.allHref ? `<a href="${esc(opts.allHref)}">show every session</a>, or ` : ""}every run is listed by <code>opencode-alloy runs list</code> and <code>opencode-alloy report --json --full</code>.</p>`
      : ""
    parts.push(`<section class="card brief" id="brief-${esc(briefId || "unpinned")}" data-brief="${esc(briefId)}">
<header class="bhead"><h3>${briefId ? esc(brief?.title ?? briefId) : "Runs without a pin"}</h3>${briefId ? `<div class="sub"><code>${esc(briefId)}</code>${brief?.current ? ` · current <code title="${esc(brief.current)}">${esc(shortDigest(brief.current))}</code>` : ""}${brief?.formation.flow ? ` · flow ${esc(brief.formation.flow)}` : ""}${brief?.formation.cycles.length ? ` · cycles ${esc(brief.formation.cycles.join(", "))}` : ""}</div>` : ""}</header>
${rows || '<p class="muted">No runs recorded yet. Import them with <code>opencode-alloy import</code>.</p>'}${more}
</section>`)
  }
  return parts.join("\n")
}

/** The stylesheet both the report and the web app use. */
export const REPORT_CSS = `
/* lists of rows (the insights findings here, and the app's pages) */
table.list{width:100%;border-collapse:collapse;background:#fff}table.list th,table.list td{text-align:left;padding:8px;border-bottom:1px solid #eaeef2;vertical-align:top;font-size:13px}
table.list th{font-size:12px;color:var(--muted)}
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff;--sat:#1a7f37;--fail:#cf222e;--stale:#bc4c00;--waived:#8250df;--unp:#6e7781}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eff2f5;border-radius:4px;padding:0 4px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
.top{background:#24292f;color:#fff;padding:20px 32px}
.top h1{margin:0;font-size:22px;font-weight:600}.top .sub{color:#c9d1d9;margin-top:4px}.top code{background:#3a4149;color:#fff}
.top .brand{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#8c959f}
main{max-width:1280px;margin:0 auto;padding:24px 32px 48px}
.summary{display:flex;flex-wrap:wrap;gap:12px;align-items:stretch;margin-bottom:20px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px;min-width:128px}
.stat .n{font-size:28px;font-weight:700;line-height:1.1}.stat .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.stat.v-satisfied .n{color:var(--sat)}.stat.v-failing .n{color:var(--fail)}.stat.v-stale .n{color:var(--stale)}.stat.v-waived .n{color:var(--waived)}.stat.v-unproven .n{color:var(--unp)}
.overall{flex:1 1 320px;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.overall .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em;margin-bottom:8px}
.ibar{display:flex;height:8px;border-radius:4px;overflow:hidden;background:#eaeef2;margin:8px 0}
.seg.v-satisfied{background:var(--sat)}.seg.v-failing{background:var(--fail)}.seg.v-stale{background:var(--stale)}.seg.v-waived{background:var(--waived)}.seg.v-unproven{background:#afb8c1}
.badge{display:inline-flex;align-items:center;gap:4px;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap;background:#57606a}
.badge .i{font-weight:700}.badge.big{font-size:14px;padding:4px 14px}
.v-satisfied.badge{background:var(--sat)}.v-contested.badge{background:#9a6700}.stat.v-contested .n{color:#9a6700}.gate.v-contested{color:#9a6700;border-color:#9a6700}.intent[data-verdict=contested]{border-left:5px solid #9a6700}.seg.v-contested{background:#9a6700}.v-failing.badge{background:var(--fail)}.v-stale.badge{background:var(--stale)}.v-waived.badge{background:var(--waived)}.v-unproven.badge{background:var(--unp)}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px 24px;margin:0 0 20px;box-shadow:0 1px 2px rgba(31,35,40,.04)}
.intent[data-verdict=failing]{border-left:5px solid var(--fail)}.intent[data-verdict=satisfied]{border-left:5px solid var(--sat)}.intent[data-verdict=stale]{border-left:5px solid var(--stale)}.intent[data-verdict=unproven]{border-left:5px solid var(--unp)}.intent[data-verdict=waived]{border-left:5px solid var(--waived)}.intent[data-verdict=contested]{border-left:5px dashed var(--fail)}
.ihead,.bhead{display:flex;justify-content:space-between;align-items:flex-start;gap:16px}
h2{margin:0;font-size:18px}h3{margin:0;font-size:16px}h4{margin:28px 0 12px;font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.sub{color:var(--muted);font-size:13px;margin-top:2px}.goal{margin:10px 0 4px}.why{color:var(--muted);font-size:13px;margin:4px 0}.muted{color:var(--muted)}
table.criteria{width:100%;border-collapse:collapse;margin-top:12px}
.criteria th{text-align:left;font-size:12px;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:6px 8px}
.criteria td{vertical-align:top;border-bottom:1px solid #eaeef2;padding:10px 8px}
.criteria td.ref{width:64px}.criteria td.verdict{width:112px}.criteria td.evidence{width:46%}
.acid{font-weight:700;font-family:ui-monospace,Menlo,Consolas,monospace}
.ctext{font-weight:500}
.gates{margin:6px 0 2px;display:flex;gap:4px;flex-wrap:wrap}
.gate{font-size:11px;border-radius:4px;padding:0 6px;border:1px solid;font-weight:600;text-transform:uppercase;letter-spacing:.03em}
.gate.v-satisfied{color:var(--sat);border-color:var(--sat)}.gate.v-failing{color:var(--fail);border-color:var(--fail)}.gate.v-stale{color:var(--stale);border-color:var(--stale)}.gate.v-waived{color:var(--waived);border-color:var(--waived)}.gate.v-unproven{color:var(--unp);border-color:#afb8c1}.gate.v-contested{color:var(--fail);border-color:var(--fail)}
ul.evl{list-style:none;margin:0;padding:0}
.ev{display:flex;gap:8px;padding:4px 0;border-bottom:1px dashed #eaeef2}.ev:last-child{border-bottom:0}
.oi{flex:0 0 20px;height:20px;border-radius:50%;display:inline-flex;align-items:center;justify-content:center;color:#fff;font-size:12px;font-weight:700;margin-top:1px}
.o-pass .oi{background:var(--sat)}.o-fail .oi{background:var(--fail)}.o-waived .oi{background:var(--waived)}
.ev.older{opacity:.8}.ev.older .oi{background:#fff;border:2px dashed var(--stale);color:var(--stale)}
.evs{font-size:13px}.kind{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}.reason{color:var(--muted)}
.meta{font-size:12px;color:var(--muted)}
.older-tag{display:inline-block;font-size:11px;font-weight:600;color:var(--stale);border:1px solid var(--stale);border-radius:4px;padding:0 5px;background:#fff8f2}
details summary{cursor:pointer;color:#0969da;font-size:12px;margin:4px 0}
.session{border:1px solid #eaeef2;border-radius:8px;padding:10px 12px;margin-top:12px}.session.older{background:#fffaf5}
.shead{font-size:13px}.origin{font-size:12px;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:0 5px}
.strip{display:flex;flex-wrap:wrap;align-items:center;gap:2px;margin:8px 0 2px}
.arrow{color:#afb8c1;margin:0 2px}
.pill{display:inline-block;font-size:11px;font-weight:600;border-radius:6px;padding:2px 8px;border:1px solid transparent;color:#fff;white-space:nowrap}
.s-forge{background:#0969da}.s-quench{background:#1b7c83}.s-appraise{background:#8250df}.s-human-appraise{background:#bf3989}.s-assay{background:#57606a}.s-finish,.s-attest,.s-observe,.s-signoff,.s-other{background:#24292f}
.pill.bad{box-shadow:inset 0 -3px 0 var(--fail)}.pill.warn{box-shadow:inset 0 -3px 0 #d4a72c}.pill.good{box-shadow:inset 0 -3px 0 #4ac26b}
ol.runs{list-style:none;margin:6px 0 0;padding:0}
ol.runs li{display:grid;grid-template-columns:150px 230px 90px 1fr;gap:4px 8px;align-items:baseline;padding:6px 0;border-bottom:1px solid #f0f2f4;font-size:13px}
ol.runs li .pill{justify-self:start}.t{color:var(--muted);font-size:12px;white-space:nowrap}
ol.runs li:target{background:#fff8c5}
ol.runs .ids{grid-column:2/5;font-size:12px;color:var(--muted)}
.st.bad{color:var(--fail);font-weight:600}.st.warn{color:#9a6700;font-weight:600}.st.good{color:var(--sat)}
.legend{font-size:13px;color:var(--muted)}.legend dt{font-weight:600;color:var(--fg);margin-top:6px}.legend dd{margin:0 0 0 0}
.problems li{color:var(--fail);font-size:13px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
@media print{body{background:#fff}.card{break-inside:avoid;box-shadow:none}}
`

/** Segments of a bar, one per verdict with a count (worst first). */
export function verdictBar(counts: Readonly<Record<string, number>>): string {
  const order = [...VERDICT_ORDER, ...Object.keys(counts).filter((v) => !(VERDICT_ORDER as readonly string[]).includes(v))]
  return order
    .filter((v) => (counts[v] ?? 0) > 0)
    .map((v) => `<span class="seg ${esc(verdictClass(v))}" style="flex:${counts[v]}" title="${counts[v]} ${esc(v)}"></span>`)
    .join("")
}

/** The summary strip: a count per verdict and the share of criteria satisfied. */
export function summaryStrip(model: EvidenceModel): string {
  const total = model.intents.reduce((n, i) => n + i.criteria.length, 0)
  const extra = Object.keys(model.counts).filter((v) => !(VERDICT_ORDER as readonly string[]).includes(v))
  const stats = [...VERDICT_ORDER, ...extra]
    .map(
      (v) => `<div class="stat ${esc(verdictClass(v))}" data-count-verdict="${esc(v)}"><div class="n">${(model.counts as Record<string, number>)[v] ?? 0}</div><div class="l">${badge(v)}</div></div>`,
    )
    .join("")
  const bar = verdictBar(model.counts)
  const pct = total ? Math.round((model.counts.satisfied / total) * 100) : 0
  return `<div class="summary">${stats}
<div class="overall"><div class="l">Criteria satisfied</div><div style="font-size:22px;font-weight:700">${model.counts.satisfied} of ${total} <span class="muted" style="font-size:14px;font-weight:400">(${pct}%) across ${model.intents.length} intent${model.intents.length === 1 ? "" : "s"}</span></div><div class="ibar">${bar}</div></div>
</div>`
}

/** How verdicts are decided, for people. */
export function verdictLegend(): string {
  return `<section class="card legend"><dl>
<dt>${badge("satisfied")}</dt><dd>Every gate of the criterion passed in the latest run of each cycle under the brief's current bundle.</dd>
<dt>${badge("failing")}</dt><dd>Under the current bundle, the latest run still has an open (or actioned, or rejected) feedback item, a failing quench check or recorded check run, a missing required artefact or open human feedback.</dd>
<dt>${badge("stale")}</dt><dd>There is evidence, but only from runs under an older bundle of the brief: re-run the cycle under the current build. Such evidence is marked <span class="older-tag">older bundle</span>.</dd>
<dt>${badge("unproven")}</dt><dd>No run has produced evidence for a gate of the criterion yet.</dd>
<dt>${badge("waived")}</dt><dd>Nothing fails, but at least one feedback item was closed as wont-fix (the reason is shown).</dd>
</dl><p>A criterion takes its worst gate (failing › stale › unproven › waived › satisfied); an intent takes its worst criterion.</p></section>`
}

/** The whole page. */
// ---- the learning loop's insights (the report's section and the app's Insights page) ------------

function citeLine(c: Cite, links: ViewLinks): string {
  const parts = [
    c.run_id ? `<a href="${esc(links.run(c.run_id))}">run <code>${esc(c.run_id.slice(-8))}</code></a>` : "",
    c.digest ? `<code title="${esc(c.digest)}">${esc(shortDigest(c.digest))}</code>` : "",
    c.commit ? `commit <code title="${esc(c.commit)}">${esc(shortSha(c.commit))}</code>` : "",
    c.session ? `<span class="muted">${esc(c.session)}</span>` : "",
  ].filter(Boolean)
  return parts.join(" · ")
}

const criterionLink = (ref: string, links: ViewLinks) => (links.criterion ? `<a href="${esc(links.criterion(ref))}">${esc(ref)}</a>` : esc(ref))

export interface InsightsViewOptions {
  /** what follows each follow-up question (the app's "add to open questions" form); the report has none */
  readonly followupAction?: (q: FollowUp) => string
  /** said under the follow-up list (the app: why adding is refused on a flow branch) */
  readonly followupNote?: string
  /** how lifecycle proposals are applied, said under them */
  readonly lifecycleNote?: string
}

/**
 * The learning loop's findings (drift, contradictions, strategies, tradeoffs), follow-up questions,
 * lifecycle proposals, the rules that had too little data, and problems while reading — each finding
 * with its fix and citations. One view for the report and the app (`data-finding`, `data-kind`,
 * `data-followup`, `data-lifecycle` are the stable hooks).
 */
export function insightsSections(ins: Insights & { readonly problems?: readonly string[] }, links: ViewLinks = REPORT_LINKS, opts: InsightsViewOptions = {}): string {
  const findings = ins.findings
    .map(
      (f) =>
        `<tr data-finding="${esc(f.id)}" data-kind="${esc(f.kind)}" data-code="${esc(f.code)}"><td><span class="kind">${esc(f.kind)}</span><br><code>${esc(f.code)}</code></td><td>${
          /#AC-\d+$/.test(f.subject) ? criterionLink(f.subject, links) : esc(f.subject)
        }</td><td>${esc(f.message)}${f.fix ? `<br><strong>Fix:</strong> ${esc(f.fix)}` : ""}</td><td>${f.since ? citeLine(f.since, links) : ""}</td><td>${f.evidence
          .slice(0, 5)
          .map((c) => citeLine(c, links))
          .join("<br>")}${f.evidence.length > 5 ? `<br><span class="muted">+${f.evidence.length - 5} more</span>` : ""}</td></tr>`,
    )
    .join("")
  const followups = ins.followups
    .map(
      (q) =>
        `<li data-followup="${esc(q.id)}">${criterionLink(q.criterion, links)}: ${esc(q.question)} <span class="muted">(${esc(q.because)})</span>${opts.followupAction ? `\n${opts.followupAction(q)}` : ""}</li>`,
    )
    .join("")
  const lifecycle = ins.lifecycle
    .map(
      (p) =>
        `<li data-lifecycle="${esc(p.intent)}">${links.intent ? `<a href="${esc(links.intent(p.intent))}">${esc(p.intent)}</a>` : esc(p.intent)}: ${esc(p.from)} → <strong>${esc(p.to)}</strong>${p.superseded_by ? ` (by ${esc(p.superseded_by)})` : ""} — ${esc(p.because)}</li>`,
    )
    .join("")
  const problems = ins.problems ?? []
  return `<section class="card" data-insights="findings"><h2>Findings (${ins.findings.length})</h2>${
    ins.findings.length
      ? `<table class="list" aria-label="Findings"><thead><tr><th scope="col">Kind</th><th scope="col">About</th><th scope="col">Finding</th><th scope="col">Since</th><th scope="col">Evidence</th></tr></thead><tbody>${findings}</tbody></table>`
      : '<p class="muted">No findings: nothing has drifted, contradicted or been traded off in the recorded runs.</p>'
  }</section>
<section class="card" data-insights="followups"><h2>Follow-up questions (${ins.followups.length})</h2>${followups ? `<ul>${followups}</ul>` : '<p class="muted">None.</p>'}${opts.followupNote ?? ""}</section>
<section class="card" data-insights="lifecycle"><h2>Lifecycle proposals</h2>${lifecycle ? `<ul>${lifecycle}</ul>${opts.lifecycleNote ?? ""}` : '<p class="muted">None.</p>'}</section>
${ins.thin.length ? `<section class="card" data-insights="thin"><h2>Too little data to conclude</h2><ul>${ins.thin.map((t) => `<li>${esc(t)}</li>`).join("")}</ul></section>` : ""}
${problems.length ? `<section class="card"><h2>Problems while reading</h2><ul class="problems">${problems.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></section>` : ""}`
}

/** The insights' problems that the model's problems do not already list (a set: both lists can hold a problem per record). */
function withoutModelProblems(problems: readonly string[], shown: readonly string[]): string[] {
  const seen = new Set(shown)
  return problems.filter((x) => !seen.has(x))
}

/**
 * The whole report. With `insights` (what `report --html` passes), the learning loop's findings are a
 * section of it, rendered by the same view as the app's Insights page (the model's own problems are
 * listed once, at the end; the section adds only the insights' own).
 */
export function renderReportHtml(model: EvidenceModel, insights?: Insights & { readonly problems?: readonly string[] }): string {
  return [...reportHtmlChunks(model, insights)].join("")
}

/**
 * The report of renderReportHtml, piece by piece: the intent cards one at a time, so writing the
 * page to a file never holds it whole (over 10,000 intents it is about 90 MB, and holding it, its
 * parts and its bytes at once was a few hundred MB of the peak).
 */
export function* reportHtmlChunks(model: EvidenceModel, insights?: Insights & { readonly problems?: readonly string[] }): Generator<string> {
  const briefsLine = model.briefs.length
    ? model.briefs
        .map((b) => `<a href="#brief-${esc(b.id)}" style="color:#fff">${esc(b.title)}</a>${b.current ? ` <code title="${esc(b.current)}">${esc(shortDigest(b.current))}</code>` : ""}`)
        .join(" · ")
    : "no built brief"
  yield `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="opencode-alloy">
<title>Alloy evidence — ${esc(model.project)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<div class="top"><div class="brand">Alloy · evidence &amp; satisfaction</div><h1>${esc(model.project)}</h1>
<div class="sub">${briefsLine} · generated ${esc(when(model.generated_at))} · ${model.records.length} run record${model.records.length === 1 ? "" : "s"}, ${model.observations.length} observation${model.observations.length === 1 ? "" : "s"}${
    pulledStores(model.records, model.signoffs).length
      ? ` · evidence drawn from team stores: ${pulledStores(model.records, model.signoffs)
          .map((s) => `${esc(s.store)} (${s.records}${s.signoffs ? ` + ${s.signoffs} sign-off${s.signoffs === 1 ? "" : "s"}` : ""})`)
          .join(", ")}`
      : ""
  }</div></div>
<main>
${summaryStrip(model)}
<h4>Intents</h4>
`
  // the runs the cards and the insights link to: the timeline shows their sessions however old
  const linked = new Set<string>()
  const links: ViewLinks = {
    ...REPORT_LINKS,
    run: (id) => {
      linked.add(id)
      return REPORT_LINKS.run(id)
    },
  }
  if (!model.intents.length) yield '<p class="muted">No intents yet. Write one with <code>opencode-alloy intent new &lt;id&gt;</code>.</p>'
  for (let k = 0; k < model.intents.length; k++) yield `${k ? "\n" : ""}${intentCard(model.intents[k]!, model, links)}`
  const insightsHtml = insights
    ? `<h4 id="insights">Insights: what the runs say about the intents</h4>\n${insightsSections({ ...insights, problems: withoutModelProblems(insights.problems ?? [], model.problems) }, links, { lifecycleNote: '<p class="muted">Apply them with <code>opencode-alloy intent lifecycle --apply</code> (one commit on the base branch).</p>' })}`
    : ""
  yield `
<h4>Runs per brief</h4>
${timeline(model, REPORT_LINKS, { maxSessions: TIMELINE_SESSIONS, keep: linked })}
${insightsHtml}
<h4>How verdicts are decided</h4>
${verdictLegend()}
${model.problems.length ? `<h4>Problems while reading</h4><section class="card"><ul class="problems">${model.problems.map((p) => `<li>${esc(p)}</li>`).join("")}</ul></section>` : ""}
<footer>opencode-alloy · self-contained report: no scripts, no network</footer>
</main>
</body>
</html>
`
}
