/**
 * Satisfaction (pure): observations -> a verdict per gate, per acceptance criterion and per intent.
 *
 * THE RULE (also in docs/evidence.md)
 *
 * A criterion is proven through its gates: one gate per kind of evidence it declares (law, check,
 * human, artefact) in the brief's current bundle. Each gate is judged on its own:
 *
 *  1. Only observations of the gate's kind count. "Current" ones were made under the current digest of
 *     the brief they ran under (the brief's ref); the others were made under an older bundle (or none).
 *  2. No current observation: **stale** when there are older ones, **unproven** when there are none.
 *  3. Otherwise, per cycle, the latest session (one run of the cycle: one life of its WORK files) with
 *     current observations for the gate decides, and within it the latest observation of each subject
 *     (one feedback item, one quench validator, the human-appraise run, one sign-off, the artefact list,
 *     the attestation). Any of those failing -> **failing**; else any waived -> **waived**; else
 *     **satisfied**. Across cycles the worse result wins.
 *
 * A criterion takes the worst verdict of its gates, in this order:
 *   failing > stale > unproven > waived > satisfied
 * (stale ranks above unproven because it says "there is evidence, re-run under the current brief").
 * A criterion that declares no evidence has no gates and is **unproven**.
 * An intent takes the worst verdict of its criteria; an intent with no criteria is **unproven**.
 */
import type { GateKind } from "../core/bundle.js"
import type { Observation } from "./observations.js"
import { cmpTime, newestFirst } from "../core/run-record.js"
import { pushTo } from "../core/maps.js"

export const VERDICTS = ["satisfied", "failing", "unproven", "waived", "stale", "contested"] as const
export type Verdict = (typeof VERDICTS)[number]
/** worst first */
export const VERDICT_ORDER: readonly Verdict[] = ["failing", "contested", "stale", "unproven", "waived", "satisfied"]

export interface GateSpec {
  readonly id: string
  readonly kind: GateKind
  readonly text?: string
}
export interface CriterionSpec {
  readonly ref: string
  readonly id: string
  readonly text: string
  readonly gates: readonly GateSpec[]
}
export interface IntentSpec {
  readonly id: string
  readonly title: string
  readonly status: string
  readonly goal: string
  /** briefs whose current bundle carries this intent */
  readonly briefs: readonly string[]
  readonly criteria: readonly CriterionSpec[]
}

export interface GateVerdict {
  readonly id: string
  readonly kind: GateKind
  readonly verdict: Verdict
  readonly reason: string
  /** ids of the observations that decided */
  readonly decisive: readonly string[]
}
export interface CriterionVerdict {
  readonly ref: string
  readonly id: string
  readonly text: string
  readonly verdict: Verdict
  readonly reason: string
  readonly gates: readonly GateVerdict[]
  /** every observation about the criterion, newest first */
  readonly evidence: readonly Observation[]
}
export interface IntentVerdict {
  readonly id: string
  readonly title: string
  readonly status: string
  readonly goal: string
  readonly briefs: readonly string[]
  readonly verdict: Verdict
  readonly reason: string
  readonly criteria: readonly CriterionVerdict[]
  readonly counts: Readonly<Record<Verdict, number>>
}

export function worst(vs: readonly Verdict[]): Verdict | undefined {
  for (const v of VERDICT_ORDER) if (vs.includes(v)) return v
  return undefined
}

export function emptyCounts(): Record<Verdict, number> {
  return { satisfied: 0, failing: 0, unproven: 0, waived: 0, stale: 0, contested: 0 }
}

const shortDigest = (d: string | undefined) => (d ? `${d.slice(0, 7 + 12)}…` : "no pin")

function latestBy<T>(list: readonly T[], at: (t: T) => string): T | undefined {
  let best: T | undefined
  for (const x of list) if (best === undefined || cmpTime(at(x), at(best)) >= 0) best = x
  return best
}

function groupBy<T>(list: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>()
  for (const x of list) pushTo(m, key(x), x)
  return m
}

const UNPROVEN_HINT: Record<GateKind, string> = {
  law: "no appraisal has cited this gate, and no attested run covers it",
  check: "no recorded run of the check: run `opencode-alloy check --record` (a quench run counts too when the command is a Foundry validator's)",
  human: "no human-appraise run, human feedback or sign-off in the evidence ledger yet",
  artefact: "no finished diff or changed files to match yet",
}

/** Judge one gate from the observations about its criterion. */
export function judgeGate(gate: GateSpec, observations: readonly Observation[]): GateVerdict {
  const all = observations.filter((o) => o.gate_kind === gate.kind)
  // shown but deciding nothing: a sign-off by someone the criterion's `who:` does not name, a local (outbox) sign-off
  const excluded = all.filter((o) => o.excluded)
  const obs = all.filter((o) => !o.excluded)
  const cur = obs.filter((o) => o.current)
  const excludedNote = excluded.length
    ? ` (not counted: ${latestBy(excluded, (o) => o.at)!.summary} — ${latestBy(excluded, (o) => o.at)!.excluded}${excluded.length > 1 ? `; +${excluded.length - 1} more` : ""})`
    : ""
  if (!cur.length) {
    if (obs.length) {
      const last = latestBy(obs, (o) => o.at)!
      return {
        id: gate.id,
        kind: gate.kind,
        verdict: "stale",
        reason: `evidence only under an older bundle (${shortDigest(last.provenance.digest)}): last ${last.outcome} — ${last.summary}${excludedNote}`,
        decisive: [last.id],
      }
    }
    return { id: gate.id, kind: gate.kind, verdict: "unproven", reason: `${UNPROVEN_HINT[gate.kind]}${excludedNote}`, decisive: excluded.map((o) => o.id) }
  }
  // sign-offs are a person's word on the criterion, not a run of the cycle: they join the cycle's latest run instead of
  // replacing it; each signer's latest word counts (approve -> pass, reject -> fail, waive -> waived)
  const signoffs = [
    ...groupBy(
      cur.filter((o) => o.kind === "signoff"),
      (o) => o.subject,
    ).values(),
  ].map((list) => latestBy(list, (o) => o.at)!)
  const runs = cur.filter((o) => o.kind !== "signoff")
  const signVerdict: Verdict | undefined = signoffs.length
    ? signoffs.some((o) => o.outcome === "fail")
      ? "failing"
      : signoffs.some((o) => o.outcome === "waived")
        ? "waived"
        : "satisfied"
    : undefined
  const reasonOf = (v: Verdict, list: readonly Observation[]) => {
    const wanted = v === "failing" ? "fail" : v === "waived" ? "waived" : "pass"
    const hits = list.filter((o) => o.outcome === wanted).sort((a, b) => cmpTime(b.at, a.at))
    const lead = hits[0] ?? list[0]!
    return `${lead.summary}${v === "waived" && lead.reason && !lead.summary.includes(lead.reason) ? ` (reason: ${lead.reason})` : ""}${hits.length > 1 ? ` (+${hits.length - 1} more)` : ""}`
  }
  if (!runs.length) {
    return { id: gate.id, kind: gate.kind, verdict: signVerdict!, reason: reasonOf(signVerdict!, signoffs), decisive: signoffs.map((o) => o.id) }
  }
  const results: Array<{ verdict: Verdict; decisive: Observation[] }> = []
  for (const perCycle of groupBy(runs, (o) => o.provenance.cycle).values()) {
    const sessions = [...groupBy(perCycle, (o) => o.provenance.session).values()]
    const latestSession = latestBy(sessions, (s) => latestBy(s, (o) => o.at)!.at)!
    const decisive = [...groupBy(latestSession, (o) => o.subject).values()].map((s) => latestBy(s, (o) => o.at)!)
    const outcomes = decisive.map((o) => o.outcome)
    const verdict: Verdict = outcomes.includes("fail") ? "failing" : outcomes.includes("waived") ? "waived" : "satisfied"
    results.push({ verdict, decisive })
  }
  let verdict = worst(results.map((r) => r.verdict))!
  let decisive = results.filter((r) => r.verdict === verdict).flatMap((r) => r.decisive)
  if (verdict === "failing" && signVerdict && signVerdict !== "failing") {
    // conflicting evidence: a sign-off (approval or waiver) over an open objection is neither proof nor refutation; show both sides
    const fail = decisive.filter((o) => o.outcome === "fail").sort((a, b) => cmpTime(b.at, a.at))[0]!
    const sign = latestBy(signoffs, (o) => o.at)!
    return {
      id: gate.id,
      kind: gate.kind,
      verdict: "contested",
      reason: `${sign.summary} — but still open: ${fail.summary}`,
      decisive: [...decisive.filter((o) => o.outcome === "fail"), ...signoffs].map((o) => o.id),
    }
  }
  if (signVerdict) {
    // a person's rejection or waiver weighs like any other result: the worse one decides
    const combined = worst([verdict, signVerdict])!
    decisive = combined === verdict ? [...decisive, ...signoffs.filter((o) => o.outcome !== "fail" || combined === "failing")] : [...signoffs]
    if (combined !== verdict) {
      verdict = combined
      return { id: gate.id, kind: gate.kind, verdict, reason: reasonOf(verdict, signoffs), decisive: decisive.map((o) => o.id) }
    }
  }
  return { id: gate.id, kind: gate.kind, verdict, reason: reasonOf(verdict, decisive), decisive: decisive.map((o) => o.id) }
}

export function judgeCriterion(spec: CriterionSpec, observations: readonly Observation[]): CriterionVerdict {
  const evidence = newestFirst(
    observations.filter((o) => o.criterion === spec.ref),
    (o) => o.at,
  )
  if (!spec.gates.length) {
    return {
      ref: spec.ref,
      id: spec.id,
      text: spec.text,
      verdict: "unproven",
      reason: "the criterion declares no evidence (add an `evidence` entry: check, law, human or artefact)",
      gates: [],
      evidence,
    }
  }
  const gates = spec.gates.map((g) => judgeGate(g, evidence))
  const verdict = worst(gates.map((g) => g.verdict))!
  const deciding = gates.filter((g) => g.verdict === verdict)
  const reason = deciding.map((g) => (gates.length > 1 ? `${g.kind}: ${g.reason}` : g.reason)).join("; ")
  return { ref: spec.ref, id: spec.id, text: spec.text, verdict, reason, gates, evidence }
}

/** `byRef`: the observations by criterion ref, each list in its original order (judgeAll groups them once). */
function judgeIntent(spec: IntentSpec, byRef: ReadonlyMap<string, readonly Observation[]>): IntentVerdict {
  const criteria = spec.criteria.map((c) => judgeCriterion(c, byRef.get(c.ref) ?? []))
  const counts = emptyCounts()
  for (const c of criteria) counts[c.verdict]++
  const verdict = worst(criteria.map((c) => c.verdict)) ?? "unproven"
  const parts = VERDICT_ORDER.filter((v) => counts[v] > 0).map(
    (v) =>
      `${counts[v]} ${v}${
        v === "satisfied"
          ? ""
          : ` (${criteria
              .filter((c) => c.verdict === v)
              .map((c) => c.id)
              .join(", ")})`
      }`,
  )
  const reason = criteria.length ? `${counts.satisfied} of ${criteria.length} criteria satisfied; ${parts.join(", ")}` : "the intent has no acceptance criteria"
  return { id: spec.id, title: spec.title, status: spec.status, goal: spec.goal, briefs: spec.briefs, verdict, reason, criteria, counts }
}

export function judgeAll(intents: readonly IntentSpec[], observations: readonly Observation[]): { intents: IntentVerdict[]; counts: Record<Verdict, number> } {
  // observations grouped by criterion once, so judging is linear in intents + observations: each
  // criterion reads only its own, in their original order, instead of every criterion filtering
  // them all (over 100,000 run records that filtering cost more than the judging itself, every
  // observation a trip to memory the cache no longer holds)
  const byRef = groupBy(observations, (o) => o.criterion)
  const judged = intents.map((i) => judgeIntent(i, byRef))
  const counts = emptyCounts()
  for (const i of judged) for (const v of VERDICTS) counts[v] += i.counts[v]
  return { intents: judged, counts }
}
