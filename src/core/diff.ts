/**
 * What changed between two builds of a brief, for a reviewer: each criterion added, removed or
 * changed, each stage's pack (per cycle when the bundle has a composition) and each gate, in
 * words and as unified diffs of the rendered text. Pure: the CLI (`brief diff`) and any UI call
 * it with two verified bundles.
 */
import type { Bundle, Gate } from "./bundle.js"
import { STAGE_BASES } from "./ids.js"
import { packFor } from "./formation.js"
import { code, fenced, inline, mdText } from "./prompt-safety.js"

export interface TextChange {
  /** `forge`, `appraise`, … or `forge@<cycle>` for a cycle's own pack */
  readonly key: string
  readonly status: "added" | "removed" | "changed"
  /** unified diff (`---`/`+++`/`@@` hunks) of the rendered text */
  readonly diff: string
}

export interface BundleDiff {
  readonly from: string
  readonly to: string
  readonly same: boolean
  readonly criteria: Array<{ ref: string; status: "added" | "removed" | "changed"; from?: string; to?: string; evidence_changed?: boolean }>
  readonly gates: Array<{ id: string; status: "added" | "removed" | "changed"; kind: Gate["kind"]; stage: Gate["stage"] }>
  readonly stages: TextChange[]
  /** other fields that changed: title, goal, constraints… per intent, and the formation */
  readonly other: string[]
}

const MAX_LINES = 4000

/** Unified diff of two texts (LCS over lines, 3 lines of context); bounded: very long texts are compared whole. */
export function unifiedDiff(a: string, b: string, nameA: string, nameB: string): string {
  if (a === b) return ""
  const x = a.split("\n")
  const y = b.split("\n")
  if (x.length > MAX_LINES || y.length > MAX_LINES) return `--- ${nameA}\n+++ ${nameB}\n@@ (too long to diff line by line: ${x.length} → ${y.length} lines) @@`
  // LCS table from the end
  const n = x.length
  const m = y.length
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
  const ops: Array<{ t: " " | "-" | "+"; s: string; i: number; j: number }> = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ t: " ", s: x[i]!, i: i++, j: j++ })
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ t: "-", s: x[i]!, i: i++, j })
    else ops.push({ t: "+", s: y[j]!, i, j: j++ })
  }
  const out = [`--- ${nameA}`, `+++ ${nameB}`]
  const C = 3
  const changed = ops.flatMap((o, k) => (o.t === " " ? [] : [k]))
  let h = 0
  while (h < changed.length) {
    let last = h
    while (last + 1 < changed.length && changed[last + 1]! - changed[last]! <= 2 * C + 1) last++
    const from = Math.max(0, changed[h]! - C)
    const to = Math.min(ops.length, changed[last]! + C + 1)
    const hunk = ops.slice(from, to)
    const aLen = hunk.filter((o) => o.t !== "+").length
    const bLen = hunk.filter((o) => o.t !== "-").length
    out.push(`@@ -${hunk[0]!.i + (aLen ? 1 : 0)},${aLen} +${hunk[0]!.j + (bLen ? 1 : 0)},${bLen} @@`)
    for (const o of hunk) out.push(`${o.t}${o.s}`)
    h = last + 1
  }
  return out.join("\n")
}

const json = (v: unknown) => JSON.stringify(v)

/** The rendered texts a stage's agent (or person) is given, by key. */
function stageTexts(b: Bundle): Map<string, string> {
  const out = new Map<string, string>()
  for (const base of STAGE_BASES) out.set(base, packFor(b, undefined, base).text)
  for (const k of Object.keys(b.packs).sort()) if (k.includes(":")) out.set(k, b.packs[k]!.text)
  for (const c of b.composition?.cycles ?? []) for (const base of STAGE_BASES) out.set(`${base}@${c.id}`, packFor(b, c.id, base).text)
  return out
}

export function diffBundles(a: Bundle, b: Bundle, names: { from: string; to: string }): BundleDiff {
  const critA = new Map(a.intents.flatMap((i) => i.acceptance_criteria.map((c) => [c.ref, c] as const)))
  const critB = new Map(b.intents.flatMap((i) => i.acceptance_criteria.map((c) => [c.ref, c] as const)))
  const criteria: BundleDiff["criteria"] = []
  for (const [ref, c] of critA) {
    const d = critB.get(ref)
    if (!d) criteria.push({ ref, status: "removed", from: c.text })
    else if (c.text !== d.text || json(c.evidence) !== json(d.evidence)) {
      criteria.push({ ref, status: "changed", ...(c.text !== d.text ? { from: c.text, to: d.text } : {}), evidence_changed: json(c.evidence) !== json(d.evidence) })
    }
  }
  for (const [ref, d] of critB) if (!critA.has(ref)) criteria.push({ ref, status: "added", to: d.text })

  const gA = new Map(a.overlay.gates.map((g) => [g.id, g]))
  const gB = new Map(b.overlay.gates.map((g) => [g.id, g]))
  const gates: BundleDiff["gates"] = []
  for (const [id, g] of gA) {
    const h = gB.get(id)
    if (!h) gates.push({ id, status: "removed", kind: g.kind, stage: g.stage })
    else if (json(g) !== json(h)) gates.push({ id, status: "changed", kind: h.kind, stage: h.stage })
  }
  for (const [id, h] of gB) if (!gA.has(id)) gates.push({ id, status: "added", kind: h.kind, stage: h.stage })

  const tA = stageTexts(a)
  const tB = stageTexts(b)
  const stages: TextChange[] = []
  for (const key of [...new Set([...tA.keys(), ...tB.keys()])].sort()) {
    const x = tA.get(key)
    const y = tB.get(key)
    if (x === y) continue
    stages.push({ key, status: x === undefined ? "added" : y === undefined ? "removed" : "changed", diff: unifiedDiff(x ?? "", y ?? "", `${names.from} ${key}`, `${names.to} ${key}`) })
  }

  const other: string[] = []
  if (a.brief.title !== b.brief.title) other.push(`title: "${a.brief.title}" → "${b.brief.title}"`)
  if (json(a.brief.formation) !== json(b.brief.formation)) other.push(`formation: ${json(a.brief.formation)} → ${json(b.brief.formation)}`)
  if (json(a.composition ?? null) !== json(b.composition ?? null)) other.push("formation composition (what applies to which cycle) changed")
  const iA = new Map(a.intents.map((i) => [i.id, i]))
  const iB = new Map(b.intents.map((i) => [i.id, i]))
  for (const [id, i] of iA) {
    const j = iB.get(id)
    if (!j) {
      other.push(`intent ${id} removed`)
      continue
    }
    for (const f of ["title", "status", "goal", "context", "constraints", "non_goals", "tradeoffs", "open_questions", "body"] as const) {
      if (json(i[f]) !== json(j[f])) other.push(`intent ${id}: ${f.replace("_", " ")} changed`)
    }
  }
  for (const id of iB.keys()) if (!iA.has(id)) other.push(`intent ${id} added`)
  return { from: names.from, to: names.to, same: a === b || (criteria.length === 0 && gates.length === 0 && stages.length === 0 && other.length === 0), criteria, gates, stages, other }
}

/** The diff in words and unified diffs, as plain text or as Markdown for a pull-request comment. */
export function renderBundleDiff(d: BundleDiff, format: "text" | "markdown"): string {
  const md = format === "markdown"
  const out: string[] = []
  out.push(md ? `### Alloy brief diff: ${code(d.from)} → ${code(d.to)}` : `brief diff ${inline(d.from)} → ${inline(d.to)}`)
  if (d.same) {
    out.push("", "No change to what any agent or gate is given.")
    return out.join("\n")
  }
  // criterion texts and titles are authored (and a bundle named by digest may be written by hand):
  // one line each, and in Markdown nothing in them acts as Markdown or HTML
  const li = (s: string) => (md ? `- ${mdText(s)}` : `  ${inline(s)}`)
  if (d.criteria.length) {
    out.push("", md ? "**Criteria**" : "Criteria")
    for (const c of d.criteria) {
      out.push(
        li(
          c.status === "added"
            ? `${c.ref} added: ${c.to}`
            : c.status === "removed"
              ? `${c.ref} removed (was: ${c.from})`
              : `${c.ref} changed${c.from !== undefined ? `: "${c.from}" → "${c.to}"` : ""}${c.evidence_changed ? `${c.from !== undefined ? "; " : ": "}evidence changed` : ""}`,
        ),
      )
    }
  }
  if (d.gates.length) {
    out.push("", md ? "**Gates**" : "Gates")
    for (const g of d.gates) out.push(li(`${g.id} (${g.kind}, ${g.stage}) ${g.status}`))
  }
  if (d.other.length) {
    out.push("", md ? "**Other changes**" : "Other changes")
    for (const o of d.other) out.push(li(o))
  }
  if (d.stages.length) {
    out.push("", md ? "**What each stage is told**" : "What each stage is told")
    for (const s of d.stages) out.push(li(`${s.key}: ${s.status}`))
    for (const s of d.stages) {
      out.push("")
      if (md) out.push(`<details><summary>${mdText(s.key)}</summary>`, "", fenced(s.diff, "diff"), "", "</details>")
      else out.push(s.diff)
    }
  }
  return out.join("\n")
}
