/**
 * The intent form of the web app: what a person typed <-> the data the intent services take, and the
 * services' error details -> messages per form field. The form adds no rule of its own: every check is
 * the schema's and lint's (src/core/intent.ts, src/service/intents.ts), so the page and the CLI accept
 * and refuse exactly the same records.
 *
 * Field names are the schema's paths (`acceptance_criteria[0].evidence[1].value`), so an error detail
 * finds its field by path. One `value` input per evidence entry holds what its kind needs
 * (check: command, law: law id, human: who, artefact: path).
 */
import { EVIDENCE_KINDS, INTENT_STATUSES, nextCriterionId, type Intent } from "../core/intent.js"
import { esc } from "../evidence/report-html.js"
import type { Json } from "../service/util.js"

export const LIST_FIELDS = ["constraints", "non_goals", "tradeoffs", "open_questions", "links"] as const
const VALUE_KEY: Record<string, string> = { check: "command", law: "law", human: "who", artefact: "path" }

export interface EvidenceRow {
  kind: string
  value: string
  description: string
  passing: string
  failing: string
}
export interface CriterionRow {
  id: string
  text: string
  evidence: EvidenceRow[]
}
export interface IntentFormState {
  id: string
  title: string
  status: string
  goal: string
  context: string
  superseded_by: string
  lists: Record<(typeof LIST_FIELDS)[number], string>
  body: string
  criteria: CriterionRow[]
}

const blankEvidence = (): EvidenceRow => ({ kind: "", value: "", description: "", passing: "", failing: "" })
const blankCriterion = (): CriterionRow => ({ id: "", text: "", evidence: [blankEvidence()] })

export function emptyForm(): IntentFormState {
  return {
    id: "",
    title: "",
    status: "draft",
    goal: "",
    context: "",
    superseded_by: "",
    lists: { constraints: "", non_goals: "", tradeoffs: "", open_questions: "", links: "" },
    body: "",
    criteria: [],
  }
}

export function formFromIntent(i: Intent): IntentFormState {
  return {
    id: i.id,
    title: i.title,
    status: i.status,
    goal: i.goal,
    context: i.context ?? "",
    superseded_by: i.superseded_by ?? "",
    lists: Object.fromEntries(LIST_FIELDS.map((k) => [k, ((i as unknown as Record<string, string[]>)[k] ?? []).join("\n")])) as IntentFormState["lists"],
    body: i.body,
    criteria: i.acceptance_criteria.map((c) => ({
      id: c.id,
      text: c.text,
      evidence: c.evidence.map((e) => {
        const r = e as Record<string, string | undefined>
        return { kind: e.kind, value: r[VALUE_KEY[e.kind]!] ?? "", description: r["description"] ?? "", passing: r["passing"] ?? "", failing: r["failing"] ?? "" }
      }),
    })),
  }
}

const MAX_ROWS = 200

/** Read the posted form (bounded: at most 200 criteria, 8 evidence rows each, as the schema allows). */
export function formFromPost(p: URLSearchParams): IntentFormState {
  const g = (k: string) => (p.get(k) ?? "").replace(/\r\n?/g, "\n")
  const f = emptyForm()
  f.id = g("id").trim()
  f.title = g("title")
  f.status = g("status") || "draft"
  f.goal = g("goal")
  f.context = g("context")
  f.superseded_by = g("superseded_by").trim()
  f.body = g("body")
  for (const k of LIST_FIELDS) f.lists[k] = g(k)
  for (let i = 0; i < MAX_ROWS; i++) {
    const pre = `acceptance_criteria[${i}]`
    if (!p.has(`${pre}.text`) && !p.has(`${pre}.id`)) break
    const c: CriterionRow = { id: g(`${pre}.id`).trim(), text: g(`${pre}.text`), evidence: [] }
    for (let j = 0; j < 8; j++) {
      const ep = `${pre}.evidence[${j}]`
      if (!p.has(`${ep}.kind`)) break
      c.evidence.push({ kind: g(`${ep}.kind`), value: g(`${ep}.value`), description: g(`${ep}.description`), passing: g(`${ep}.passing`), failing: g(`${ep}.failing`) })
    }
    f.criteria.push(c)
  }
  return compact(f)
}

const evidenceBlank = (e: EvidenceRow) => !e.kind && !e.value.trim() && !e.description.trim() && !e.passing.trim() && !e.failing.trim()

/** Drop the empty rows the form offers for adding (so a re-shown form does not grow, and indexes match what is shown). */
export function compact(f: IntentFormState): IntentFormState {
  const criteria = f.criteria.map((c) => ({ ...c, evidence: c.evidence.filter((e) => !evidenceBlank(e)) })).filter((c) => c.text.trim() || c.evidence.length)
  return { ...f, criteria }
}

const lines = (s: string) =>
  s
    .split("\n")
    .map((x) => x.trim())
    .filter((x) => x !== "")

/**
 * The data for the services, and where each criterion and evidence entry of the data sits in the form
 * (blank rows are left out, so indexes shift). Criteria without an id get the next `AC-n`.
 */
export function formToData(f: IntentFormState): { data: Json; body: string; rowOf: number[]; evRowOf: number[][] } {
  const data: Json = { id: f.id, title: f.title, status: f.status, goal: f.goal }
  if (f.context.trim()) data["context"] = f.context
  if (f.superseded_by) data["superseded_by"] = f.superseded_by
  for (const k of LIST_FIELDS) data[k] = lines(f.lists[k])
  const rowOf: number[] = []
  const evRowOf: number[][] = []
  const criteria: Json[] = []
  const used = f.criteria.filter((c) => c.id).map((c) => ({ id: c.id }))
  f.criteria.forEach((c, n) => {
    // an entry with text but no kind is kept: the schema then says what is missing, nothing is dropped silently
    const ev = c.evidence.map((e, j) => ({ e, j })).filter(({ e }) => !evidenceBlank(e))
    if (!c.text.trim() && !ev.length) return
    let id = c.id
    if (!id) {
      id = nextCriterionId(used)
      used.push({ id })
    }
    const evidence = ev.map(({ e }) => {
      const o: Json = { kind: e.kind }
      const key = VALUE_KEY[e.kind] ?? "command"
      if (e.value.trim()) o[key] = e.value.trim()
      if (e.description.trim()) o["description"] = e.description.trim()
      if (e.kind === "law" && e.passing.trim()) o["passing"] = e.passing.trim()
      if (e.kind === "law" && e.failing.trim()) o["failing"] = e.failing.trim()
      return o
    })
    criteria.push({ id, text: c.text, evidence })
    rowOf.push(n)
    evRowOf.push(ev.map(({ j }) => j))
  })
  data["acceptance_criteria"] = criteria
  return { data, body: f.body, rowOf, evRowOf }
}

/**
 * The form field an error detail is about. Paths come from the schema (`acceptance_criteria[2].evidence[0].command`),
 * from an update patch (`set.title`) or name the body; unknown paths go to the form's summary only.
 */
export function fieldOf(path: string | undefined, rowOf: readonly number[], evRowOf: readonly number[][]): string | undefined {
  if (!path) return undefined
  const p = path.replace(/^set\./, "")
  if (p === "(body)" || p === "body") return "body"
  const c = /^acceptance_criteria\[(\d+)\](?:\.(id|text)|\.evidence(?:\[(\d+)\](?:\.(\w+))?)?)?/.exec(p)
  if (c) {
    const n = Number(c[1])
    const row = rowOf[n] ?? n
    if (c[2]) return `acceptance_criteria[${row}].${c[2] === "id" ? "text" : c[2]}`
    if (c[3] !== undefined) {
      const ev = evRowOf[n]?.[Number(c[3])] ?? Number(c[3])
      const key = c[4]
      const input = key === "kind" || key === undefined ? "kind" : key === "description" || key === "passing" || key === "failing" ? key : "value"
      return `acceptance_criteria[${row}].evidence[${ev}].${input}`
    }
    return `acceptance_criteria[${row}].text`
  }
  if (p === "acceptance_criteria") return "acceptance_criteria[0].text"
  const top = /^(\w+)/.exec(p)?.[1]
  if (top && ["id", "title", "status", "goal", "context", "superseded_by", ...LIST_FIELDS].includes(top)) return top
  return undefined
}

export const fieldId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_]+/g, "-").replace(/-$/, "")}`

export interface FieldErrors {
  /** messages by field name */
  readonly byField: ReadonlyMap<string, string[]>
  /** every problem, in order, with the field it belongs to (if any) */
  readonly all: ReadonlyArray<{ field?: string; path?: string; message: string }>
}

export function mapErrors(details: ReadonlyArray<{ path?: string; message: string }>, rowOf: readonly number[], evRowOf: readonly number[][]): FieldErrors {
  const byField = new Map<string, string[]>()
  const all: Array<{ field?: string; path?: string; message: string }> = []
  for (const d of details) {
    const field = fieldOf(d.path, rowOf, evRowOf)
    if (field) byField.set(field, [...(byField.get(field) ?? []), d.message])
    all.push({ ...(field ? { field } : {}), ...(d.path ? { path: d.path } : {}), message: d.message })
  }
  return { byField, all }
}

/** One labelled control with its errors (described-by and aria-invalid for screen readers). */
function control(name: string, label: string, input: (attrs: string) => string, errors: FieldErrors, hint?: string): string {
  const id = fieldId(name)
  const errs = errors.byField.get(name) ?? []
  const described = [hint ? `${id}-hint` : "", errs.length ? `${id}-err` : ""].filter(Boolean).join(" ")
  const attrs = `id="${id}" name="${esc(name)}"${described ? ` aria-describedby="${described}"` : ""}${errs.length ? ' aria-invalid="true"' : ""}`
  return `<div class="field${errs.length ? " has-error" : ""}" data-field="${esc(name)}"><label for="${id}">${esc(label)}</label>${hint ? `<div class="hint" id="${id}-hint">${esc(hint)}</div>` : ""}${input(attrs)}${errs.length ? `<ul class="ferr" id="${id}-err">${errs.map((m) => `<li>${esc(m)}</li>`).join("")}</ul>` : ""}</div>`
}

const text = (v: string) => (attrs: string) => `<input type="text" ${attrs} value="${esc(v)}">`
const area =
  (v: string, rows = 3) =>
  (attrs: string) =>
    `<textarea ${attrs} rows="${rows}">${esc(v)}</textarea>`
const select = (v: string, options: ReadonlyArray<[string, string]>) => (attrs: string) =>
  `<select ${attrs}>${options.map(([val, lab]) => `<option value="${esc(val)}"${val === v ? " selected" : ""}>${esc(lab)}</option>`).join("")}</select>`

/** The whole form. `mode: "create"` lets the id be typed; `"edit"` shows it fixed. */
export function renderIntentForm(f: IntentFormState, errors: FieldErrors, opts: { mode: "create" | "edit"; action: string; expectedDigest?: string }): string {
  const criteria = [...f.criteria.map((c) => ({ ...c, evidence: [...c.evidence, blankEvidence()] })), blankCriterion(), blankCriterion()]
  if (opts.mode === "create" && f.criteria.length === 0) criteria.push(blankCriterion())
  const summary = errors.all.length
    ? `<div class="errors" role="alert" id="form-errors"><h2>${errors.all.length} problem${errors.all.length === 1 ? "" : "s"}; nothing was written</h2><ul>${errors.all
        .map((e) => `<li>${e.field ? `<a href="#${fieldId(e.field)}">${esc(e.path ?? e.field)}</a>: ` : e.path ? `<code>${esc(e.path)}</code>: ` : ""}${esc(e.message)}</li>`)
        .join("")}</ul></div>`
    : ""
  const crit = criteria
    .map((c, n) => {
      const pre = `acceptance_criteria[${n}]`
      const ev = c.evidence
        .map((e, j) => {
          const ep = `${pre}.evidence[${j}]`
          return `<div class="evrow" data-evidence="${j}">${control(`${ep}.kind`, `Evidence ${j + 1}: kind`, select(e.kind, [["", "— none —"], ...EVIDENCE_KINDS.map((k): [string, string] => [k, k])]), errors)}${control(
            `${ep}.value`,
            "command (check) · law id (law, optional) · who (human, optional) · path glob (artefact)",
            text(e.value),
            errors,
          )}${control(`${ep}.description`, "description (optional)", text(e.description), errors)}<details${e.passing || e.failing ? " open" : ""}><summary>law texts</summary>${control(`${ep}.passing`, "passing (law)", text(e.passing), errors)}${control(`${ep}.failing`, "failing (law)", text(e.failing), errors)}</details></div>`
        })
        .join("")
      return `<fieldset class="crit" data-criterion-row="${n}"><legend>${c.id ? esc(c.id) : `New criterion`}</legend><input type="hidden" name="${pre}.id" value="${esc(c.id)}">${control(`${pre}.text`, "Criterion text (leave empty with no evidence to drop the row)", area(c.text, 2), errors)}${ev}</fieldset>`
    })
    .join("\n")
  const idField =
    opts.mode === "create" ? control("id", "Id (kebab-case, e.g. checkout-redesign)", text(f.id), errors) : `<input type="hidden" name="id" value="${esc(f.id)}"><p>Id: <code>${esc(f.id)}</code></p>`
  return `${summary}<form method="post" action="${esc(opts.action)}" class="intent-form" novalidate>
${opts.expectedDigest ? `<input type="hidden" name="expected_digest" value="${esc(opts.expectedDigest)}">` : ""}
${idField}
${control("title", "Title", text(f.title), errors)}
${control(
  "status",
  "Status",
  select(
    f.status,
    INTENT_STATUSES.map((s): [string, string] => [s, s]),
  ),
  errors,
)}
${control("goal", "Goal", area(f.goal, 2), errors)}
${control("context", "Context (optional)", area(f.context, 3), errors)}
${control("constraints", "Constraints (one per line)", area(f.lists.constraints, 3), errors)}
<h3>Acceptance criteria</h3>
${crit}
${control("non_goals", "Non-goals (one per line)", area(f.lists.non_goals, 2), errors)}
${control("tradeoffs", "Tradeoffs (one per line)", area(f.lists.tradeoffs, 2), errors)}
${control("open_questions", "Open questions — the clarifications still to answer (one per line; answer one by moving it into the goal, a constraint or a criterion, and deleting the line)", area(f.lists.open_questions, 3), errors)}
${control("links", "Links (one per line)", area(f.lists.links, 2), errors)}
${control("superseded_by", "Superseded by (intent id, only when status is superseded)", text(f.superseded_by), errors)}
${control("body", "Notes (Markdown)", area(f.body, 4), errors)}
<p><button type="submit">${opts.mode === "create" ? "Create intent" : "Save intent"}</button></p>
</form>`
}
