/**
 * The evidence model of a project: intents and their criteria, verdicts, observations and the run
 * records they came from. `buildEvidenceModel` is pure; `loadEvidence` reads the store (records,
 * refs, verified bundle objects, authored intents) and Foundry's law validators.
 * `satisfactionSummary` is what `status` prints.
 */
import path from "node:path"
import { readFileSync, statSync } from "node:fs"
import type { Bundle } from "../core/bundle.js"
import type { Intent } from "../core/intent.js"
import type { RunRecord } from "../core/run-record.js"
import { verifyObjectBytes } from "../core/verify.js"
import { criterionRef, isDigest } from "../core/ids.js"
import { toAlloyError } from "../core/errors.js"
import type { AlloyContext } from "../service/context.js"
import { deriveObservations, pulledStores, type Observation } from "./observations.js"
import { emptyCounts, judgeAll, VERDICT_ORDER, type IntentSpec, type IntentVerdict, type Verdict } from "./satisfaction.js"
import { readValidators, type Validator } from "../foundry/laws.js"
import { MAX_RECORD_BYTES } from "../store/outbox.js"
import { readAllRecords, readAllSignoffs, type SignoffEntry } from "../service/pulled.js"
import { ledgerCommits } from "./git.js"
import { pushTo } from "../core/maps.js"

export interface BriefInfo {
  readonly id: string
  readonly title: string
  /** the brief's current digest (its ref) */
  readonly current?: string
  readonly formation: { flow?: string; cycles: string[] }
  readonly intents: string[]
}

export interface EvidenceModel {
  readonly generated_at: string
  readonly project: string
  readonly briefs: BriefInfo[]
  readonly intents: IntentVerdict[]
  /** criteria by verdict */
  readonly counts: Record<Verdict, number>
  /** intents by verdict */
  readonly intent_counts: Record<Verdict, number>
  readonly observations: Observation[]
  readonly records: RunRecord[]
  /** the sign-offs of the evidence ledger the verdicts were computed from */
  readonly signoffs: SignoffEntry[]
  /** things that could not be read (a corrupt record, an object that does not verify...) */
  readonly problems: string[]
  /**
   * A brief's verdicts judged again from only its own evidence: the intents and gates of its current
   * bundle, and only observations made under one of its bundles (another brief's runs of the same
   * intent never count). Computed when asked; not part of the JSON.
   */
  readonly verdictsFor: (briefId: string) => { intents: IntentVerdict[]; counts: Record<Verdict, number> }
}

export interface ModelInput {
  readonly project: string
  readonly now: string
  readonly records: readonly RunRecord[]
  readonly bundles: ReadonlyMap<string, Bundle>
  readonly current: ReadonlyMap<string, string>
  readonly validators: readonly Validator[]
  /** authored intents, for those no built brief carries yet */
  readonly authored?: readonly Intent[]
  readonly problems?: readonly string[]
  /** sign-offs of the committed evidence ledger and of pulled ledgers (`readAllSignoffs`) */
  readonly signoffs?: readonly SignoffEntry[]
}

/** Intents to judge: every intent of a current bundle (gates from its overlay), then authored ones no brief carries. */
export function intentSpecs(bundles: ReadonlyMap<string, Bundle>, current: ReadonlyMap<string, string>, authored: readonly Intent[] = []): IntentSpec[] {
  const specs = new Map<string, { spec: IntentSpec; gates: Map<string, Map<string, { id: string; kind: Bundle["overlay"]["gates"][number]["kind"]; text: string }>> }>()
  for (const [briefId, digest] of [...current.entries()].sort()) {
    const b = bundles.get(digest)
    if (!b) continue
    for (const i of b.intents) {
      let entry = specs.get(i.id)
      if (!entry) {
        entry = {
          spec: { id: i.id, title: i.title, status: i.status, goal: i.goal, briefs: [], criteria: i.acceptance_criteria.map((c) => ({ ref: c.ref, id: c.id, text: c.text, gates: [] })) },
          gates: new Map(),
        }
        specs.set(i.id, entry)
      }
      ;(entry.spec.briefs as string[]).push(briefId)
      for (const g of b.overlay.gates) {
        if (!g.criterion.startsWith(`${i.id}#`)) continue
        const m = entry.gates.get(g.criterion) ?? new Map()
        if (!m.has(g.id)) m.set(g.id, { id: g.id, kind: g.kind, text: g.text })
        entry.gates.set(g.criterion, m)
      }
    }
  }
  const out: IntentSpec[] = []
  for (const { spec, gates } of specs.values()) {
    out.push({ ...spec, criteria: spec.criteria.map((c) => ({ ...c, gates: [...(gates.get(c.ref)?.values() ?? [])] })) })
  }
  for (const i of authored) {
    if (specs.has(i.id)) continue
    out.push({
      id: i.id,
      title: i.title,
      status: i.status,
      goal: i.goal,
      briefs: [],
      criteria: i.acceptance_criteria.map((c) => {
        const ref = criterionRef(i.id, c.id)
        const kinds = [...new Set(c.evidence.map((e) => e.kind))]
        return { ref, id: c.id, text: c.text, gates: kinds.map((k) => ({ id: `${ref}/${k}`, kind: k })) }
      }),
    })
  }
  return out.sort((a, b) => a.id.localeCompare(b.id))
}

export function buildEvidenceModel(input: ModelInput): EvidenceModel {
  const observations = deriveObservations({ records: input.records, bundles: input.bundles, current: input.current, validators: input.validators, signoffs: input.signoffs ?? [] })
  const specs = intentSpecs(input.bundles, input.current, input.authored)
  const { intents, counts } = judgeAll(specs, observations)
  const intent_counts = emptyCounts()
  for (const i of intents) intent_counts[i.verdict]++
  const briefs: BriefInfo[] = []
  for (const [id, digest] of [...input.current.entries()].sort()) {
    const b = input.bundles.get(digest)
    briefs.push({
      id,
      title: b?.brief.title ?? id,
      current: digest,
      formation: b ? { ...(b.brief.formation.flow ? { flow: b.brief.formation.flow } : {}), cycles: [...b.brief.formation.cycles] } : { cycles: [] },
      intents: b ? b.intents.map((i) => i.id) : [],
    })
  }
  // briefs that only appear in records (no ref any more); a set, so this stays linear in records + briefs
  const known = new Set(briefs.map((b) => b.id))
  for (const r of input.records) {
    if (r.pin && !known.has(r.pin.brief_id)) {
      known.add(r.pin.brief_id)
      const b = input.bundles.get(r.pin.digest)
      briefs.push({ id: r.pin.brief_id, title: b?.brief.title ?? r.pin.brief_id, formation: { cycles: b ? [...b.brief.formation.cycles] : [] }, intents: b ? b.intents.map((i) => i.id) : [] })
    }
  }
  const perBrief = new Map<string, { intents: IntentVerdict[]; counts: Record<Verdict, number> }>()
  // observations grouped by the brief they ran under once, on the first ask: asking for every brief
  // (the in-toto export does) must not filter every observation once per brief
  let byBrief: Map<string | undefined, Observation[]> | undefined
  const verdictsFor = (briefId: string) => {
    let v = perBrief.get(briefId)
    if (!v) {
      const digest = input.current.get(briefId)
      if (!byBrief) {
        byBrief = new Map()
        for (const o of observations) pushTo(byBrief, o.provenance.brief_id, o)
      }
      const own = byBrief.get(briefId) ?? []
      v = digest ? judgeAll(intentSpecs(input.bundles, new Map([[briefId, digest]])), own) : { intents: [], counts: emptyCounts() }
      perBrief.set(briefId, v)
    }
    return v
  }
  return {
    verdictsFor,
    generated_at: input.now,
    project: input.project,
    briefs,
    intents,
    counts,
    intent_counts,
    observations,
    records: [...input.records],
    signoffs: [...(input.signoffs ?? [])],
    problems: [...(input.problems ?? [])],
  }
}

/** The project's name for headings: `name` in its package.json when there is one, else the folder name. */
/** A criterion whose verdict differs between two models of the same project (before → after; "none": not judged then). */
export interface VerdictChange {
  readonly criterion: string
  readonly before: Verdict | "none"
  readonly after: Verdict | "none"
}

/** The verdicts that changed from `before` to `after`, by criterion ref (sorted): what a run's records did to satisfaction. */
export function verdictChanges(before: EvidenceModel, after: EvidenceModel): VerdictChange[] {
  const of = (m: EvidenceModel) => new Map(m.intents.flatMap((i) => i.criteria.map((c) => [c.ref, c.verdict] as const)))
  const a = of(before)
  const b = of(after)
  const out: VerdictChange[] = []
  for (const ref of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(ref) ?? "none"
    const y = b.get(ref) ?? "none"
    if (x !== y) out.push({ criterion: ref, before: x, after: y })
  }
  return out
}

export function projectName(root: string): string {
  try {
    const file = path.join(root, "package.json")
    if (statSync(file).size < 1024 * 1024) {
      const name = (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name
      if (typeof name === "string" && name.trim() && name.length <= 214) return name.trim()
    }
  } catch {
    /* no package.json, or not JSON */
  }
  return path.basename(root)
}

/** Read everything the model needs from the project. Problems are collected, never thrown (except a missing `.alloy/`). */
/** `onRecordRead` is called after each of this project's records is read, for a progress line. */
export function loadEvidence(ctx: AlloyContext, now: Date = new Date(), onRecordRead?: () => void): EvidenceModel {
  ctx.store.requireInit()
  return ctx.store.inOneScan(() => loadAll(ctx, now, onRecordRead))
}

function loadAll(ctx: AlloyContext, now: Date, onRecordRead?: () => void): EvidenceModel {
  const problems: string[] = []
  const { records, problems: recordProblems } = readAllRecords(ctx.root, (f) => ctx.store.readBytes(f, MAX_RECORD_BYTES), onRecordRead)
  for (const p of recordProblems) problems.push(`${p.file}: ${p.error}`)
  // the committed evidence ledger (and pulled ledgers): the one reader every verdict goes through
  const { signoffs, problems: ledgerProblems } = readAllSignoffs(ctx.root, (root) => ledgerCommits(root))
  for (const p of ledgerProblems) problems.push(`${p.file}: ${p.error}`)
  const bundles = new Map<string, Bundle>()
  const load = (briefId: string, digest: string) => {
    if (bundles.has(digest) || !isDigest(digest)) return
    try {
      const bytes = ctx.store.readObject(digest)
      if (!bytes) {
        problems.push(`object ${digest} (brief ${briefId}) is not in .alloy/objects/: runs under it are judged without its gates`)
        return
      }
      bundles.set(digest, verifyObjectBytes(bytes, { brief_id: briefId, digest }, ctx.store.rel(ctx.store.objectFile(digest))))
    } catch (e) {
      problems.push(`brief ${briefId} @ ${digest}: ${toAlloyError(e).describe()}`)
    }
  }
  const current = new Map<string, string>()
  for (const id of ctx.store.listRefIds()) {
    try {
      const d = ctx.store.readRef(id)
      if (!d) continue
      current.set(id, d)
      load(id, d)
    } catch (e) {
      problems.push(toAlloyError(e).describe())
    }
  }
  for (const r of records) if (r.pin) load(r.pin.brief_id, r.pin.digest)
  for (const e of signoffs) load(e.signoff.bundle.brief_id, e.signoff.bundle.digest)
  const authored: Intent[] = []
  for (const id of ctx.store.listIntentIds()) {
    try {
      authored.push(ctx.store.readIntent(id).value)
    } catch (e) {
      problems.push(toAlloyError(e).describe())
    }
  }
  return buildEvidenceModel({
    project: projectName(ctx.root),
    now: now.toISOString(),
    records,
    bundles,
    current,
    validators: readValidators(ctx.project),
    authored,
    problems,
    signoffs,
  })
}

export interface SatisfactionSummary {
  readonly lines: string[]
  readonly json: {
    counts: Record<Verdict, number>
    intent_counts: Record<Verdict, number>
    intents: Array<{ id: string; verdict: Verdict; reason: string; criteria: Array<{ ref: string; verdict: Verdict; reason: string }> }>
    records: number
    /** team stores that pulled records came from */
    stores?: Array<{ store: string; records: number; signoffs?: number }>
    problems: string[]
  }
}

/** Problems listed in the text summary; the rest are counted in a line of their own (the JSON lists all). */
const SHOWN_PROBLEMS = 10

export function summaryOf(model: EvidenceModel): SatisfactionSummary {
  const total = model.intents.reduce((n, i) => n + i.criteria.length, 0)
  const counts = VERDICT_ORDER.filter((v) => model.counts[v] > 0).map((v) => `${model.counts[v]} ${v}`)
  const lines: string[] = []
  lines.push(
    `Satisfaction: ${total} criteri${total === 1 ? "on" : "a"} in ${model.intents.length} intent${model.intents.length === 1 ? "" : "s"}${counts.length ? ` — ${counts.join(", ")}` : ""} (${model.records.length} run record${model.records.length === 1 ? "" : "s"})`,
  )
  for (const i of model.intents) {
    lines.push(`  ${i.id.padEnd(28)} ${i.verdict.toUpperCase().padEnd(9)} ${i.reason}`)
    for (const c of i.criteria) lines.push(`    ${c.id.padEnd(6)} ${c.verdict.padEnd(9)} ${c.reason.length > 110 ? `${c.reason.slice(0, 109)}…` : c.reason}`)
  }
  const stores = pulledStores(model.records, model.signoffs)
  if (stores.length)
    lines.push(
      `  Evidence drawn from team stores: ${stores.map((s) => `${s.store} (${s.records} record${s.records === 1 ? "" : "s"}${s.signoffs ? `, ${s.signoffs} sign-off${s.signoffs === 1 ? "" : "s"}` : ""})`).join(", ")}`,
    )
  for (const p of model.problems.slice(0, SHOWN_PROBLEMS)) lines.push(`  ! ${p}`)
  if (model.problems.length > SHOWN_PROBLEMS) lines.push(`  ! … and ${model.problems.length - SHOWN_PROBLEMS} more problems, not shown here (all of them: \`opencode-alloy report --json\`)`)
  return {
    lines,
    json: {
      counts: model.counts,
      intent_counts: model.intent_counts,
      intents: model.intents.map((i) => ({ id: i.id, verdict: i.verdict, reason: i.reason, criteria: i.criteria.map((c) => ({ ref: c.ref, verdict: c.verdict, reason: c.reason })) })),
      records: model.records.length,
      ...(stores.length ? { stores } : {}),
      problems: model.problems,
    },
  }
}

/** How to get what a summary leaves out: every run record and every observation, in full. */
export const REPORT_FULL_COMMAND = "opencode-alloy report --json --full"

/** A criterion in the report summary: its verdict, its gates, and only the observations that decided them. */
export interface CriterionSummary {
  readonly ref: string
  readonly id: string
  readonly text: string
  readonly verdict: Verdict
  readonly reason: string
  readonly gates: IntentVerdict["criteria"][number]["gates"]
  /** how many observations there are about the criterion (all of them are in the full report) */
  readonly observations: number
  /** the observations the gates' verdicts were decided by (`gates[].decisive`), newest first */
  readonly decisive: Observation[]
}

/**
 * What `report --json` prints unless asked for everything (`--full`): per intent and criterion the
 * verdicts, the counts, and the observations that decided each verdict; records, observations and
 * sign-offs as counts. Its size follows the intents and criteria, not the records, so a project with
 * 100,000 records gets a report of the same size as one with 100. What it leaves out it says, with the
 * command that prints it (`omitted`). The HTML report and the in-toto export show the same decisive
 * observations first (see report-html.ts, export-intoto.ts).
 */
export interface ReportSummary {
  readonly detail: "summary"
  readonly generated_at: string
  readonly project: string
  readonly counts: Record<Verdict, number>
  readonly intent_counts: Record<Verdict, number>
  readonly briefs: BriefInfo[]
  readonly intents: Array<Omit<IntentVerdict, "criteria"> & { criteria: CriterionSummary[] }>
  readonly records: number
  readonly observations: number
  readonly signoffs: number
  readonly stores?: Array<{ store: string; records: number; signoffs?: number }>
  readonly problems: string[]
  /** what the summary leaves out, and how to get it */
  readonly omitted: { readonly records: number; readonly observations: number; readonly signoffs: number; readonly full: string }
}

/** The decisive observations of a judged criterion: those its gates name, in the criterion's order (newest first). */
export function decisiveObservations(c: IntentVerdict["criteria"][number]): Observation[] {
  const ids = new Set(c.gates.flatMap((g) => g.decisive))
  return ids.size ? c.evidence.filter((o) => ids.has(o.id)) : []
}

export function reportSummary(model: EvidenceModel): ReportSummary {
  const stores = pulledStores(model.records, model.signoffs)
  let shown = 0
  const intents = model.intents.map(({ criteria, ...i }) => ({
    ...i,
    criteria: criteria.map((c): CriterionSummary => {
      const decisive = decisiveObservations(c)
      shown += decisive.length
      return { ref: c.ref, id: c.id, text: c.text, verdict: c.verdict, reason: c.reason, gates: c.gates, observations: c.evidence.length, decisive }
    }),
  }))
  return {
    detail: "summary",
    generated_at: model.generated_at,
    project: model.project,
    counts: model.counts,
    intent_counts: model.intent_counts,
    briefs: model.briefs,
    intents,
    records: model.records.length,
    observations: model.observations.length,
    signoffs: model.signoffs.length,
    ...(stores.length ? { stores } : {}),
    problems: model.problems,
    omitted: {
      records: model.records.length,
      observations: Math.max(0, model.observations.length - shown),
      signoffs: model.signoffs.length,
      full: REPORT_FULL_COMMAND,
    },
  }
}

/** For `status`: verdict lines and JSON. Never throws; a project without `.alloy/` gets one line saying so. */
export function satisfactionSummary(ctx: AlloyContext): SatisfactionSummary {
  try {
    return summaryOf(loadEvidence(ctx))
  } catch (e) {
    const err = toAlloyError(e)
    return { lines: [`Satisfaction: unavailable (${err.describe()})`], json: { counts: emptyCounts(), intent_counts: emptyCounts(), intents: [], records: 0, problems: [err.describe()] } }
  }
}
