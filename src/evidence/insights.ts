/**
 * The learning loop (pure): what the runs say about the intent model. Every finding is computed
 * from facts Alloy already holds (pins, builds, run records, observations, verdicts), cites the
 * evidence it rests on, and names a fix. Nothing here asks a model to decide anything; a finding
 * that the data is too thin to support is not made (the thin cases are listed instead).
 *
 * Findings are independent of record order, idempotent over re-imports (they key on observation
 * and record identities, never on arrival), and a brief's findings use only that brief's data.
 *
 * THE RULES (also in docs/insights.md)
 *
 * drift          pin_behind                  a pin names a digest that is no longer its brief's ref
 *                sources_changed             an intent or recipe was edited since the brief's build
 *                satisfied_under_older_bundle a criterion whose only proof ran under an older bundle
 *                artefact_changed            a file the satisfying run produced has changed since
 *                capabilities_changed        runs under the current bundle recorded a capability manifest other
 *                                            than the project's (a record without one is unknown, never drift)
 *                foundry_config_changed      a Foundry config file a pinned formation uses (cycle, flow, laws and
 *                                            their validators, artefact types, appraisers) changed after the pin
 * contradiction  never_together              two criteria of one brief judged on >= MIN_VERSIONS artefact
 *                                            versions, never both passing on one version
 *                waiver_cites_criterion      a wont-fix whose reason names another criterion
 *                approval_over_failing       a human pass on a criterion whose other gate fails in that session
 *                cross_intent_open           open feedback for gates of two intents on one artefact version
 *                constraint_clash_confirmed  constraints the lint says clash, confirmed by runs: the criteria
 *                                            guarding them never all pass on one of >= MIN_VERSIONS versions,
 *                                            or a wont-fix of one side's criterion cites the other side's
 * strategy       strategy_comparison         per intent, each bundle digest it ran under is a strategy:
 *                                            sessions, sessions that ended with every criterion passing,
 *                                            forge runs per session, feedback raised / resolved, overrides,
 *                                            tokens and cost where the bridge recorded them (else "not recorded")
 * tradeoff       tradeoff_exercised          wont-fix waivers on a criterion: how often, how many accepted,
 *                                            and the declared tradeoff the reason matches (if any)
 * followup       (questions)                 proposed only from evidence: unproven, contested, contradicting,
 *                                            vague or drifting criteria — each cites what it would settle
 * lifecycle      draft → active              lint clean and pinned by a current build
 *                active → satisfied          every criterion satisfied under the current bundle, and attested
 *                satisfied → superseded      no current pinned bundle carries it, another intent is pinned on
 *                                            its cycles; → retired when nothing replaces it
 */
import { groupedOnce, pushTo } from "../core/maps.js"
import { canonicalBytes, normalizeJson, sha256Hex } from "../core/digest.js"
import { constraintClash, intentFilePath, parseConstraint, vagueReason } from "../core/lint.js"
import type { Intent } from "../core/intent.js"
import type { RunRecord } from "../core/run-record.js"
import type { Observation } from "./observations.js"
import type { CriterionVerdict, IntentVerdict } from "./satisfaction.js"

/** fewer artefact versions than this, and two criteria are not called contradictory */
export const MIN_VERSIONS = 3
/** fewer sessions than this under a strategy, and it is not compared */
export const MIN_SESSIONS = 2

export const FINDING_KINDS = ["drift", "contradiction", "strategy", "tradeoff", "followup", "lifecycle"] as const
export type FindingKind = (typeof FINDING_KINDS)[number]

export interface Cite {
  readonly run_id?: string
  readonly record?: string
  readonly observation?: string
  readonly commit?: string
  readonly digest?: string
  readonly session?: string
  readonly artefact_version?: string
}

export interface Finding {
  /** stable: a hash of kind, code, subject and the cited evidence */
  readonly id: string
  readonly kind: FindingKind
  readonly code: string
  /** what it is about: a criterion ref, an intent id, a brief id, `cycle <id>` */
  readonly subject: string
  readonly brief_id?: string
  readonly message: string
  /** since when: the run / commit / digest where it started */
  readonly since?: Cite
  readonly evidence: readonly Cite[]
  readonly fix?: string
  readonly data?: Record<string, unknown>
}

export interface TokenCounts {
  readonly input: number
  readonly output: number
  readonly reasoning: number
  readonly cache_read: number
  readonly cache_write: number
}

/**
 * What a strategy spent, from the bridge's results. A strategy with none says `"not recorded"` (no
 * result names it) or `"not read"` (the caller could not read the bridge's results) — never zero.
 */
export interface StrategyUsage {
  /** bridge runs whose result recorded tokens and cost under this digest */
  readonly requests: number
  readonly tokens: TokenCounts
  readonly cost: number
  /** how many of the strategy's runs those results name (the rest spent an unknown amount) */
  readonly runs_covered: number
}

export interface StrategyStats {
  readonly digest: string
  readonly sessions: number
  /** sessions whose latest observation of every criterion of the intent passed */
  readonly satisfied_sessions: number
  readonly forge_runs: number
  readonly feedback_raised: number
  readonly feedback_resolved: number
  readonly overrides: number
  readonly failed_stages: number
  readonly runs: readonly string[]
  readonly usage: StrategyUsage | "not recorded" | "not read"
}

export interface FollowUp {
  readonly id: string
  readonly intent: string
  readonly criterion: string
  readonly question: string
  readonly because: string
  readonly evidence: readonly Cite[]
}

export interface LifecycleProposal {
  readonly intent: string
  readonly from: string
  readonly to: "active" | "satisfied" | "retired" | "superseded"
  readonly superseded_by?: string
  readonly because: string
  /** the verdicts that justify it: criterion ref -> verdict (and the digest they were proven under) */
  readonly verdicts: Readonly<Record<string, string>>
  readonly digest?: string
}

export interface Insights {
  readonly findings: readonly Finding[]
  readonly followups: readonly FollowUp[]
  readonly lifecycle: readonly LifecycleProposal[]
  /** where a rule had too little data to conclude (no finding made) */
  readonly thin: readonly string[]
}

export interface PinFact {
  readonly kind: "cycle" | "flow"
  readonly id: string
  readonly brief_id: string
  readonly digest: string
  /** current | behind | unbuilt | broken */
  readonly state: string
  /** cycles the pin applies to (the cycle itself, or the flow's covered cycles) */
  readonly cycles: readonly string[]
}

export interface BriefFact {
  readonly id: string
  readonly digest?: string
  readonly needs_build: boolean
  readonly intents: readonly string[]
}

/** One bridge run's result: the brief and digest it ran, the stage records it made, what it spent. */
export interface UsageFact {
  readonly key: string
  readonly brief_id: string
  readonly digest: string
  readonly runs: readonly string[]
  readonly tokens: TokenCounts
  readonly cost: number
}

/** A Foundry config file that changed after the commit that set a pin (read from git by the edge). */
export interface ConfigChange {
  readonly pin: { readonly kind: "cycle" | "flow"; readonly id: string; readonly brief_id: string; readonly digest: string }
  /** the commit that set the pin to its digest */
  readonly pinned_in: string
  /** repository-relative path under foundry/ */
  readonly file: string
  /** the first commit after the pin that changed the file; absent when the change is not committed yet */
  readonly changed_in?: string
}

export interface InsightInput {
  readonly intents: readonly IntentVerdict[]
  readonly observations: readonly Observation[]
  readonly records: readonly RunRecord[]
  readonly briefs: readonly BriefFact[]
  readonly pins: readonly PinFact[]
  /** authored intents (status, tradeoffs, criteria text) */
  readonly authored: readonly Intent[]
  /** ids of intents with lint warnings (lifecycle: draft → active needs none) */
  readonly linted: ReadonlySet<string>
  /** current sha256 of artefact files named by records (undefined: the file is gone) */
  readonly fileHash: (path: string) => string | undefined
  /** the project's capability manifest digest now (undefined: it could not be built, so nothing is compared) */
  readonly capabilities?: string
  /** Foundry config files changed since the pins that use them */
  readonly configChanges?: readonly ConfigChange[]
  /** pins whose config drift could not be dated (e.g. the pin is not committed): said, not guessed */
  readonly configThin?: readonly string[]
  /** tokens and cost of bridge runs */
  readonly usage?: readonly UsageFact[]
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const stableId = (x: unknown) => sha256Hex(canonicalBytes(normalizeJson(x))).slice(0, 16)
const short = (d: string | undefined) => (d ? d.replace(/^sha256:/, "").slice(0, 12) : "")

function cite(o: Observation): Cite {
  const p = o.provenance
  return {
    observation: o.id,
    run_id: p.run_id,
    record: p.record,
    session: p.session,
    ...(p.commit ? { commit: p.commit } : {}),
    ...(p.digest ? { digest: p.digest } : {}),
    ...(o.artefact_version ? { artefact_version: o.artefact_version } : {}),
  }
}

function finding(f: Omit<Finding, "id">): Finding {
  return {
    id: stableId({
      kind: f.kind,
      code: f.code,
      subject: f.subject,
      evidence: f.evidence.map((e) => e.observation ?? e.record ?? e.run_id ?? e.commit ?? e.digest ?? ""),
      data: JSON.stringify(f.data ?? null),
    }),
    ...f,
  }
}

/** Observations sorted into one canonical order, so nothing depends on how records arrived. */
function sortedObservations(obs: readonly Observation[]): Observation[] {
  return [...obs].sort((a, b) => cmp(a.at, b.at) || cmp(a.id, b.id))
}

/**
 * Indexes of the input built once per list (so asking per intent, per brief or per criterion stays
 * linear in the project: filtering every brief or record once per intent was intents × records).
 */
/** The briefs that name an intent. */
const briefsOfIntent = groupedOnce<BriefFact>((b) => new Set(b.intents))

/** The records made under one digest, in their order in `records`. */
const recordsUnder = groupedOnce<RunRecord>((r) => (r.pin ? [r.pin.digest] : []))

/** The observations about an intent's criteria, in the canonical order (sorted once for all intents, not once per intent). */
const observationsOfIntent = groupedOnce<Observation>((o) => [o.criterion.split("#")[0]!], sortedObservations)

function briefOfCriterion(ref: string, briefs: readonly BriefFact[]): string[] {
  return briefsOfIntent(ref.split("#")[0]!, briefs).map((b) => b.id)
}

// ---- drift ------------------------------------------------------------------------------------

function drift(input: InsightInput, thin: string[]): Finding[] {
  const out: Finding[] = []
  const refOf = new Map(input.briefs.map((b) => [b.id, b.digest]))
  for (const p of input.pins) {
    if (p.state !== "behind") continue
    const cur = refOf.get(p.brief_id)
    out.push(
      finding({
        kind: "drift",
        code: "pin_behind",
        subject: `${p.kind} ${p.id}`,
        brief_id: p.brief_id,
        message: `${p.kind} ${p.id} runs brief ${p.brief_id} @ ${short(p.digest)}, but the brief has been built again (now ${short(cur)}): its agents are not told what the brief says today`,
        since: { digest: p.digest },
        evidence: [{ digest: p.digest }, ...(cur ? [{ digest: cur }] : [])],
        fix: `review the change (\`opencode-alloy brief diff ${p.digest} ${p.brief_id}\`), then \`opencode-alloy pin ${p.kind === "flow" ? "--flow " : ""}${p.id} ${p.brief_id}\``,
      }),
    )
  }
  for (const b of input.briefs) {
    if (!b.needs_build || !b.digest) continue
    out.push(
      finding({
        kind: "drift",
        code: "sources_changed",
        subject: b.id,
        brief_id: b.id,
        message: `brief ${b.id}: its intents or recipe were edited after the build ${short(b.digest)} that the pins name; agents still get the old text`,
        since: { digest: b.digest },
        evidence: [{ digest: b.digest }],
        fix: `\`opencode-alloy brief build ${b.id}\`, then re-pin its cycles`,
      }),
    )
  }
  const byRecord = new Map(input.records.map((r) => [r.idempotency_key, r]))
  for (const intent of input.intents) {
    for (const c of intent.criteria) {
      if (c.verdict === "stale") {
        const older = c.evidence.filter((o) => o.older_bundle && o.outcome === "pass")
        if (older.length === 0) continue
        const latest = sortedObservations(older).at(-1)!
        out.push(
          finding({
            kind: "drift",
            code: "satisfied_under_older_bundle",
            subject: c.ref,
            message: `${c.ref} was proven only under an older bundle (${short(latest.provenance.digest)}); nothing has proven it under the current one`,
            since: cite(latest),
            evidence: older.map(cite),
            fix: `run cycle ${latest.provenance.cycle} again under the current pin`,
          }),
        )
      }
      if (c.verdict !== "satisfied") continue
      // the artefacts the deciding runs saw, against the files as they are now
      const decisive = new Set(c.gates.flatMap((g) => g.decisive))
      const changed: Array<{ path: string; was: string; now: string | undefined; o: Observation }> = []
      for (const o of c.evidence) {
        if (!decisive.has(o.id)) continue
        const r = byRecord.get(o.provenance.record)
        for (const a of r?.artefacts ?? []) {
          if (!a.sha256 || a.state === "deleted") continue
          const now = input.fileHash(a.path)
          if (now !== a.sha256 && !changed.some((x) => x.path === a.path)) changed.push({ path: a.path, was: a.sha256, now, o })
        }
      }
      if (changed.length) {
        changed.sort((a, b) => cmp(a.path, b.path))
        out.push(
          finding({
            kind: "drift",
            code: "artefact_changed",
            subject: c.ref,
            message: `${c.ref} is satisfied by a run that saw ${changed.map((x) => x.path).join(", ")}; ${changed.length === 1 ? "that file has" : "those files have"} changed since (${changed.map((x) => (x.now ? "edited" : "gone")).join(", ")})`,
            since: cite(changed[0]!.o),
            evidence: changed.map((x) => cite(x.o)),
            fix: `run cycle ${changed[0]!.o.provenance.cycle} again so the criterion is judged on the files as they are`,
            data: { files: changed.map((x) => ({ path: x.path, was: x.was, now: x.now ?? null })) },
          }),
        )
      }
    }
  }
  out.push(...capabilityDrift(input, thin), ...configDrift(input, thin))
  return out
}

/** A record's capability manifest digest, when it carries one (older records do not: unknown). */
const capsOf = (r: RunRecord): string | undefined => (typeof r.capabilities === "string" ? r.capabilities : undefined)

/**
 * Runs under a brief's current bundle that recorded another capability manifest than the project's:
 * their verdicts were reached with another Foundry (generation, agents) than the one that runs now.
 * A record without a digest is unknown — counted in `thin`, never taken for drift.
 */
function capabilityDrift(input: InsightInput, thin: string[]): Finding[] {
  const out: Finding[] = []
  for (const b of [...input.briefs].sort((x, y) => cmp(x.id, y.id))) {
    if (!b.digest) continue
    const recs = dedupe(recordsUnder(b.digest, input.records).filter((r) => r.pin?.brief_id === b.id))
    if (recs.length === 0) continue
    const unknown = recs.filter((r) => capsOf(r) === undefined).length
    if (!input.capabilities) {
      thin.push(`brief ${b.id}: the project's capability manifest could not be built now, so the runs' manifests were not compared`)
      continue
    }
    if (unknown === recs.length) {
      thin.push(`brief ${b.id}: none of its ${recs.length} run record(s) under the current bundle says which capability manifest it ran under; no capability drift can be told`)
      continue
    }
    const other = new Map<string, RunRecord[]>()
    for (const r of recs) {
      const c = capsOf(r)
      if (c === undefined || c === input.capabilities) continue
      let l = other.get(c)
      if (!l) other.set(c, (l = []))
      l.push(r)
    }
    for (const [caps, list] of [...other.entries()].sort((x, y) => cmp(x[0], y[0]))) {
      const latest = list.at(-1)!
      out.push(
        finding({
          kind: "drift",
          code: "capabilities_changed",
          subject: b.id,
          brief_id: b.id,
          message: `${list.length} run(s) of brief ${b.id} under its current bundle ran under capability manifest ${short(caps)}, but the project's is now ${short(input.capabilities)}: Foundry or its agents changed after those runs, so their verdicts were reached with other tools${unknown ? ` (${unknown} other record(s) do not say which manifest they ran under)` : ""}`,
          since: { run_id: latest.run_id, record: latest.idempotency_key, digest: b.digest, ...(latest.commit ? { commit: latest.commit } : {}) },
          evidence: list.map((r) => ({ run_id: r.run_id, record: r.idempotency_key, digest: b.digest!, ...(r.commit ? { commit: r.commit } : {}) })),
          fix: `see what changed with \`opencode-alloy compat\`, then run ${[...new Set(list.map((r) => r.cycle))].sort().join(", ")} again so the criteria are judged under the Foundry that runs now`,
          data: { recorded: caps, current: input.capabilities, runs: list.length, unknown },
        }),
      )
    }
  }
  return out
}

/** Records in one canonical order, once each (a re-imported record is the same stage run). */
function dedupe(records: readonly RunRecord[]): RunRecord[] {
  const seen = new Map<string, RunRecord>()
  for (const r of records) if (!seen.has(r.idempotency_key)) seen.set(r.idempotency_key, r)
  return [...seen.values()].sort((a, b) => cmp(a.ended_at, b.ended_at) || cmp(a.idempotency_key, b.idempotency_key))
}

/** Foundry config a pinned formation uses, changed after the commit that set the pin: one finding per pin and file. */
function configDrift(input: InsightInput, thin: string[]): Finding[] {
  const out: Finding[] = []
  const seen = new Set<string>()
  for (const c of input.configChanges ?? []) {
    const k = `${c.pin.kind}|${c.pin.id}|${c.file}`
    if (seen.has(k)) continue
    seen.add(k)
    const target = `${c.pin.kind} ${c.pin.id}`
    out.push(
      finding({
        kind: "drift",
        code: "foundry_config_changed",
        subject: target,
        brief_id: c.pin.brief_id,
        message: `${c.file} changed after ${target} was pinned to brief ${c.pin.brief_id} @ ${short(c.pin.digest)} (pinned in commit ${c.pinned_in.slice(0, 7)}; ${c.changed_in ? `changed in commit ${c.changed_in.slice(0, 7)}` : "changed in the work tree, not committed"}): the brief's gates and packs were written against the Foundry config as it was`,
        since: { commit: c.pinned_in, digest: c.pin.digest },
        evidence: [{ commit: c.changed_in ?? c.pinned_in, digest: c.pin.digest }],
        fix: `review the change (\`git diff ${c.pinned_in.slice(0, 12)} -- ${c.file}\`); if the brief no longer fits, update its intents, \`opencode-alloy brief build ${c.pin.brief_id}\` and \`opencode-alloy pin ${c.pin.kind === "flow" ? "--flow " : ""}${c.pin.id} ${c.pin.brief_id}\`; otherwise revert the change`,
        data: { file: c.file, pinned_in: c.pinned_in, changed_in: c.changed_in ?? null },
      }),
    )
  }
  thin.push(...(input.configThin ?? []))
  return out
}

// ---- contradictions ---------------------------------------------------------------------------

function contradictions(input: InsightInput, thin: string[]): Finding[] {
  const out: Finding[] = []
  const obs = sortedObservations(input.observations)
  const byVersion = latestByVersion(obs)
  const criteria = [...byVersion.keys()].sort()
  // only criteria that share a brief are compared: the pairs are found per brief (every pair of the
  // project's criteria was criteria², most of them sharing nothing), then taken in the same order
  const ofBrief = new Map<string, string[]>()
  for (const c of criteria) for (const b of briefOfCriterion(c, input.briefs)) pushTo(ofBrief, b, c)
  const paired = new Set<string>()
  const pairs: Array<[string, string]> = []
  for (const list of ofBrief.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const key = `${list[i]}\u0000${list[j]}`
        if (paired.has(key)) continue
        paired.add(key)
        pairs.push([list[i]!, list[j]!])
      }
    }
  }
  pairs.sort((x, y) => cmp(x[0], y[0]) || cmp(x[1], y[1]))
  for (const [a, b] of pairs) {
    const shared = briefOfCriterion(a, input.briefs).filter((x) => briefOfCriterion(b, input.briefs).includes(x))
    if (shared.length === 0) continue
    const va = byVersion.get(a)!
    const vb = byVersion.get(b)!
    const both = [...va.keys()].filter((v) => vb.has(v)).sort()
    if (both.length === 0) continue
    // never both passing on one version, though each has passed on some: meeting one cost the other
    const together = both.some((v) => va.get(v)!.outcome === "pass" && vb.get(v)!.outcome === "pass")
    const eachPassed = both.some((v) => va.get(v)!.outcome === "pass") && both.some((v) => vb.get(v)!.outcome === "pass")
    if (together || !eachPassed) continue
    if (both.length < MIN_VERSIONS) {
      thin.push(`${a} and ${b} never passed together, but on ${both.length} artefact version(s) only (at least ${MIN_VERSIONS} are needed to call it a contradiction)`)
      continue
    }
    out.push(
      finding({
        kind: "contradiction",
        code: "never_together",
        subject: `${a} ${b}`,
        brief_id: shared[0]!,
        message: `${a} and ${b} were judged on ${both.length} artefact versions and never passed on the same one: meeting one has cost the other every time`,
        evidence: both.flatMap((v) => [cite(va.get(v)!), cite(vb.get(v)!)]),
        fix: `decide which wins and record it as a tradeoff in the intents (or rewrite one criterion), then rebuild ${shared[0]}`,
      }),
    )
  }
  // a waiver that names another criterion
  for (const o of obs) {
    if (o.outcome !== "waived" || !o.reason) continue
    const named = citedCriteria(o.reason, o.criterion).filter((r) => r !== o.criterion)
    if (named.length === 0) continue
    out.push(
      finding({
        kind: "contradiction",
        code: "waiver_cites_criterion",
        subject: o.criterion,
        message: `${o.criterion} was waived (wont-fix) because of ${named.join(", ")}: "${clip(o.reason)}"`,
        evidence: [cite(o)],
        fix: `make the priority explicit: add a tradeoff to the intent, or change one of the criteria`,
        data: { cites: named },
      }),
    )
  }
  // a human pass over a failing gate of the same criterion, in the same session
  const bySession = new Map<string, Observation[]>()
  for (const o of obs) {
    if (!o.current) continue
    const k = `${o.provenance.session}|${o.criterion}`
    let l = bySession.get(k)
    if (!l) bySession.set(k, (l = []))
    l.push(o)
  }
  for (const [, list] of [...bySession.entries()].sort((x, y) => cmp(x[0], y[0]))) {
    // a sign-off that decides nothing (a who: mismatch, a local outbox one) is no approval either
    const human = list.filter((o) => (o.kind === "human" || o.kind === "signoff") && o.outcome === "pass" && !o.excluded)
    if (human.length === 0) continue
    const latestOther = new Map<string, Observation>()
    for (const o of list) if (o.gate_kind !== "human") latestOther.set(`${o.gate_kind}|${o.subject}`, o)
    const failing = [...latestOther.values()].filter((o) => o.outcome === "fail")
    if (failing.length === 0) continue
    const h = human.at(-1)!
    out.push(
      finding({
        kind: "contradiction",
        code: "approval_over_failing",
        subject: h.criterion,
        message: `${h.criterion} was approved by a person while its ${failing.map((f) => f.gate_kind).join(", ")} gate still failed in the same run (${failing.map((f) => f.summary).join("; ")})`,
        evidence: [cite(h), ...failing.map(cite)],
        fix: "resolve the failing gate, or waive it explicitly with a reason; an approval alone does not prove the criterion",
      }),
    )
  }
  // open feedback for two intents on one artefact version
  const open = new Map<string, Observation[]>()
  for (const o of obs) {
    if (!o.current || o.outcome !== "fail" || o.kind !== "appraisal" || !o.artefact_version) continue
    const k = `${o.provenance.session}|${o.artefact_version}`
    let l = open.get(k)
    if (!l) open.set(k, (l = []))
    l.push(o)
  }
  for (const [, list] of [...open.entries()].sort((x, y) => cmp(x[0], y[0]))) {
    const intents = [...new Set(list.map((o) => o.criterion.split("#")[0]!))].sort()
    if (intents.length < 2) continue
    out.push(
      finding({
        kind: "contradiction",
        code: "cross_intent_open",
        subject: intents.join(" "),
        message: `one artefact version failed gates of ${intents.length} intents at once (${[...new Set(list.map((o) => o.criterion))].sort().join(", ")}): check whether the intents pull in different directions`,
        evidence: list.map(cite),
        fix: `compare the constraints of ${intents.join(" and ")} (\`opencode-alloy intent lint\` flags clashes) and record a tradeoff`,
      }),
    )
  }
  out.push(...confirmedClashes(input, obs, thin))
  return out
}

/** The latest outcome per (criterion, artefact version), current bundles only, waivers left out. */
function latestByVersion(sorted: readonly Observation[]): Map<string, Map<string, Observation>> {
  const byVersion = new Map<string, Map<string, Observation>>()
  for (const o of sorted) {
    if (!o.artefact_version || !o.current || o.outcome === "waived") continue
    let m = byVersion.get(o.criterion)
    if (!m) byVersion.set(o.criterion, (m = new Map()))
    m.set(o.artefact_version, o)
  }
  return byVersion
}

/** What a text is about: the lint's subject words (stemmed) and the units it bounds. */
function topicOf(text: string): { words: Set<string>; units: Set<string> } {
  const words = new Set<string>()
  const units = new Set<string>()
  for (const c of parseConstraint(text)) {
    for (const w of c.subject) words.add(w)
    for (const b of c.bounds) if (b.unit) units.add(b.unit)
  }
  return { words, units }
}

/**
 * Constraints of two intents that the lint's word rule says clash become a finding only when the runs
 * confirm it. The criteria that guard a constraint are those of its intent that speak of the same
 * thing most (shared bounded units first, then shared subject words). Confirmed when, on at least MIN_VERSIONS artefact
 * versions judged on both sides, the two sides' guarding criteria never all passed on one version
 * (each side passing on some), or when a wont-fix of one side's criterion cites the other side's.
 */
function confirmedClashes(input: InsightInput, sorted: readonly Observation[], thin: string[]): Finding[] {
  const out: Finding[] = []
  const authored = new Map(input.authored.map((i) => [i.id, i]))
  const byVersion = latestByVersion(sorted)
  const waivers = sorted.filter((o) => o.outcome === "waived" && o.reason)
  // the criteria that speak most of what the constraint speaks of: a shared bounded unit weighs more
  // than any number of shared words (a word limit is guarded by the criterion that counts words)
  const guards = (intent: Intent, constraint: string): string[] => {
    const t = topicOf(constraint)
    const scored = intent.acceptance_criteria.map((ac) => {
      const c = topicOf(ac.text)
      const score = [...c.units].filter((u) => t.units.has(u)).length * 100 + [...c.words].filter((w) => t.words.has(w)).length
      return { ref: `${intent.id}#${ac.id}`, score }
    })
    const best = Math.max(0, ...scored.map((x) => x.score))
    return best === 0
      ? []
      : scored
          .filter((x) => x.score === best)
          .map((x) => x.ref)
          .sort()
  }
  /** per version: every guarding criterion judged there, and whether all of them passed */
  const sideOn = (refs: readonly string[]) => {
    const m = new Map<string, { pass: boolean; obs: Observation[] }>()
    for (const ref of refs) {
      for (const [v, o] of byVersion.get(ref) ?? []) {
        const cur = m.get(v) ?? { pass: true, obs: [] }
        m.set(v, { pass: cur.pass && o.outcome === "pass", obs: [...cur.obs, o] })
      }
    }
    return m
  }
  const done = new Set<string>()
  for (const b of [...input.briefs].sort((x, y) => cmp(x.id, y.id))) {
    const ids = [...new Set(b.intents)].sort()
    for (let x = 0; x < ids.length; x++) {
      for (let y = x + 1; y < ids.length; y++) {
        const A = authored.get(ids[x]!)
        const B = authored.get(ids[y]!)
        if (!A || !B) continue
        A.constraints.forEach((ca, ia) => {
          B.constraints.forEach((cb, ib) => {
            const why = constraintClash(ca, cb)
            if (!why) return
            const key = `${A.id}|${ia}|${B.id}|${ib}`
            if (done.has(key)) return
            done.add(key)
            const label = `${A.id} constraints[${ia}] "${clip(ca, 70)}" vs ${B.id} constraints[${ib}] "${clip(cb, 70)}"`
            const ga = guards(A, ca)
            const gb = guards(B, cb)
            if (ga.length === 0 || gb.length === 0) {
              thin.push(`the lint flags ${label}, but no criterion of ${ga.length ? B.id : A.id} speaks of it, so no run can confirm the clash`)
              return
            }
            const sa = sideOn(ga)
            const sb = sideOn(gb)
            const both = [...sa.keys()].filter((v) => sb.has(v)).sort()
            const together = both.some((v) => sa.get(v)!.pass && sb.get(v)!.pass)
            const eachPassed = both.some((v) => sa.get(v)!.pass) && both.some((v) => sb.get(v)!.pass)
            const byVersions = !together && eachPassed && both.length >= MIN_VERSIONS
            const cites = waivers.filter(
              (o) =>
                (ga.includes(o.criterion) && citedCriteria(o.reason!, o.criterion).some((r) => gb.includes(r))) ||
                (gb.includes(o.criterion) && citedCriteria(o.reason!, o.criterion).some((r) => ga.includes(r))),
            )
            if (!byVersions && cites.length === 0) {
              thin.push(
                `the lint flags ${label}; the runs do not confirm it yet (${both.length} artefact version(s) judged on both sides${together ? ", and both sides passed together on one" : ""}; at least ${MIN_VERSIONS} never passing together, or a wont-fix citing the other side, are needed)`,
              )
              return
            }
            const side = (intent: Intent, i: number, text: string, refs: string[], own: (o: Observation) => boolean) => ({
              intent: intent.id,
              file: intentFilePath(intent.id),
              constraint: i,
              text,
              criteria: refs,
              observations: [...(byVersions ? both.flatMap((v) => (refs === ga ? sa : sb).get(v)!.obs) : []), ...cites.filter(own)].map((o) => o.id).sort(),
            })
            const evidence = [...(byVersions ? both.flatMap((v) => [...sa.get(v)!.obs, ...sb.get(v)!.obs]) : []), ...cites]
            const how = [
              ...(byVersions ? [`on ${both.length} artefact versions judged on both sides, ${ga.join(", ")} and ${gb.join(", ")} never all passed on the same one`] : []),
              ...(cites.length ? [`${cites.length} wont-fix reason(s) give up one side for the other (${[...new Set(cites.map((o) => o.criterion))].sort().join(", ")})`] : []),
            ]
            out.push(
              finding({
                kind: "contradiction",
                code: "constraint_clash_confirmed",
                subject: `${A.id} ${B.id}`,
                brief_id: b.id,
                message: `the lint flags ${label} (${why}), and the runs confirm it: ${how.join("; ")}`,
                evidence: [...new Map(evidence.map((o) => [o.id, o])).values()].map(cite),
                fix: `decide which one wins: change one of the two constraints (${intentFilePath(A.id)}, ${intentFilePath(B.id)}), record the decision under \`tradeoffs\`, then \`opencode-alloy brief build ${b.id}\``,
                data: {
                  lint: why,
                  confirmed_by: [...(byVersions ? ["versions"] : []), ...(cites.length ? ["waiver"] : [])],
                  sides: [side(A, ia, ca, ga, (o) => ga.includes(o.criterion)), side(B, ib, cb, gb, (o) => gb.includes(o.criterion))],
                },
              }),
            )
          })
        })
      }
    }
  }
  return out
}

function citedCriteria(text: string, self: string): string[] {
  const intent = self.split("#")[0]!
  const out = new Set<string>()
  for (const m of text.matchAll(/\b([a-z0-9]+(?:-[a-z0-9]+)*)#(AC-\d+)\b/g)) out.add(`${m[1]}#${m[2]}`)
  for (const m of text.matchAll(/(?<![#\w-])(AC-\d+)\b/g)) out.add(`${intent}#${m[1]}`)
  return [...out].sort()
}

const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)

// ---- strategies -------------------------------------------------------------------------------

/** Per intent and bundle digest: how the work went under it. */
export function strategies(input: InsightInput, intent: IntentVerdict): StrategyStats[] {
  const refs = new Set(intent.criteria.map((c) => c.ref))
  const byDigest = new Map<string, { sessions: Map<string, Map<string, Observation>>; runs: Set<string>; raised: Set<string>; resolved: Set<string>; overrides: number }>()
  for (const o of observationsOfIntent(intent.id, input.observations)) {
    if (!refs.has(o.criterion) || !o.provenance.digest) continue
    let s = byDigest.get(o.provenance.digest)
    if (!s) byDigest.set(o.provenance.digest, (s = { sessions: new Map(), runs: new Set(), raised: new Set(), resolved: new Set(), overrides: 0 }))
    let sess = s.sessions.get(o.provenance.session)
    if (!sess) s.sessions.set(o.provenance.session, (sess = new Map()))
    sess.set(`${o.criterion}|${o.gate_kind}|${o.subject}`, o)
    s.runs.add(o.provenance.run_id)
    if (o.feedback_id) {
      s.raised.add(o.feedback_id)
      if (o.outcome === "pass") s.resolved.add(o.feedback_id)
    }
    if (o.outcome === "waived" || (o.kind === "signoff" && !o.excluded)) s.overrides++
  }
  const out: StrategyStats[] = []
  const intentBriefs = new Set(briefsOfIntent(intent.id, input.briefs).map((b) => b.id))
  for (const [digest, s] of [...byDigest.entries()].sort((a, b) => cmp(a[0], b[0]))) {
    const sessionIds = new Set(s.sessions.keys())
    const recs = recordsUnder(digest, input.records).filter((r) => r.session !== undefined && sessionIds.has(r.session))
    let satisfied = 0
    for (const [, latest] of s.sessions) {
      const passing = new Set<string>()
      const failing = new Set<string>()
      for (const o of latest.values()) (o.outcome === "fail" ? failing : passing).add(o.criterion)
      if ([...refs].every((r) => passing.has(r) && !failing.has(r))) satisfied++
    }
    out.push({
      digest,
      sessions: s.sessions.size,
      satisfied_sessions: satisfied,
      forge_runs: recs.filter((r) => r.stage.split(":")[0] === "forge").length,
      feedback_raised: s.raised.size,
      feedback_resolved: s.resolved.size,
      overrides: s.overrides,
      failed_stages: recs.filter((r) => r.outcome === "error").length,
      runs: [...s.runs].sort(),
      usage: input.usage ? usageOf(input.usage, digest, intentBriefs, s.runs) : "not read",
    })
  }
  return out
}

/**
 * What the bridge recorded spending under one digest for this intent's briefs (each result once, by
 * its key). "not recorded" when none names it: an unknown cost is not a cost of zero.
 */
function usageOf(usage: readonly UsageFact[], digest: string, briefs: ReadonlySet<string>, runs: ReadonlySet<string>): StrategyUsage | "not recorded" {
  const mine = new Map<string, UsageFact>()
  for (const u of usage) if (u.digest === digest && briefs.has(u.brief_id) && !mine.has(u.key)) mine.set(u.key, u)
  if (mine.size === 0) return "not recorded"
  const tokens = { input: 0, output: 0, reasoning: 0, cache_read: 0, cache_write: 0 }
  let cost = 0
  const covered = new Set<string>()
  for (const u of [...mine.values()].sort((a, b) => cmp(a.key, b.key))) {
    for (const k of Object.keys(tokens) as Array<keyof TokenCounts>) tokens[k] += u.tokens[k]
    cost += u.cost
    for (const r of u.runs) if (runs.has(r)) covered.add(r)
  }
  return { requests: mine.size, tokens, cost: Math.round(cost * 1e6) / 1e6, runs_covered: covered.size }
}

const usageText = (s: StrategyStats) =>
  typeof s.usage === "object"
    ? `${s.usage.tokens.input} tokens in / ${s.usage.tokens.output} out, cost ${s.usage.cost.toFixed(4)} over ${s.usage.requests} bridge run(s) naming ${s.usage.runs_covered} of its ${s.runs.length} run(s)`
    : `tokens and cost ${s.usage}`

function strategyFindings(input: InsightInput, thin: string[]): Finding[] {
  const out: Finding[] = []
  for (const intent of input.intents) {
    const stats = strategies(input, intent)
    if (stats.length < 2) continue
    const enough = stats.filter((s) => s.sessions >= MIN_SESSIONS)
    if (enough.length < 2) {
      thin.push(`intent ${intent.id}: ${stats.length} bundle digests ran, but fewer than two have ${MIN_SESSIONS}+ sessions; no comparison made`)
      continue
    }
    const rate = (s: StrategyStats) => s.satisfied_sessions / s.sessions
    const best = [...enough].sort((a, b) => rate(b) - rate(a) || a.forge_runs / a.sessions - b.forge_runs / b.sessions || cmp(a.digest, b.digest))[0]!
    out.push(
      finding({
        kind: "strategy",
        code: "strategy_comparison",
        subject: intent.id,
        message: `intent ${intent.id} ran under ${enough.length} bundles with enough runs to compare: ${enough
          .map(
            (s) =>
              `${short(s.digest)} satisfied ${s.satisfied_sessions}/${s.sessions} sessions, ${(s.forge_runs / s.sessions).toFixed(1)} forge runs each, ${s.feedback_resolved}/${s.feedback_raised} feedback resolved, ${s.overrides} override(s), ${usageText(s)}`,
          )
          .join("; ")}. Best so far: ${short(best.digest)}`,
        evidence: enough.flatMap((s) => s.runs.map((run_id) => ({ run_id, digest: s.digest }))),
        data: { strategies: enough, best: best.digest },
      }),
    )
  }
  return out
}

// ---- tradeoffs --------------------------------------------------------------------------------

const words = (s: string) => new Set(s.toLowerCase().match(/[a-z]{4,}/g) ?? [])

function tradeoffs(input: InsightInput): Finding[] {
  const out: Finding[] = []
  const authored = new Map(input.authored.map((i) => [i.id, i]))
  const waivers = new Map<string, Observation[]>()
  for (const o of sortedObservations(input.observations)) {
    if (o.outcome !== "waived") continue
    let l = waivers.get(o.criterion)
    if (!l) waivers.set(o.criterion, (l = []))
    l.push(o)
  }
  for (const [ref, list] of [...waivers.entries()].sort((a, b) => cmp(a[0], b[0]))) {
    const intent = authored.get(ref.split("#")[0]!)
    const accepted = list.filter((o) => o.summary.includes("accepted") || o.subject.includes("accepted")).length
    const declared = (intent?.tradeoffs ?? []).map((t) => {
      const tw = words(t)
      const hits = list.filter((o) => o.reason && [...words(o.reason)].filter((w) => tw.has(w)).length >= 2).length
      return { tradeoff: t, hits }
    })
    const matched = declared.filter((d) => d.hits > 0).sort((a, b) => b.hits - a.hits)[0]
    out.push(
      finding({
        kind: "tradeoff",
        code: "tradeoff_exercised",
        subject: ref,
        message: `${ref} was given up (wont-fix) ${list.length} time(s), ${accepted} accepted by the reviewer${matched ? `; the reasons match the declared tradeoff "${clip(matched.tradeoff, 100)}"` : "; no declared tradeoff matches the reasons"}`,
        evidence: list.map(cite),
        ...(matched ? {} : { fix: `declare the tradeoff in intent ${ref.split("#")[0]} if it is intended, or hold the criterion` }),
        data: { waivers: list.length, accepted, tradeoff: matched?.tradeoff ?? null },
      }),
    )
  }
  return out
}

// ---- follow-up questions ----------------------------------------------------------------------

function followups(input: InsightInput, findings: readonly Finding[]): FollowUp[] {
  const out: FollowUp[] = []
  const authored = new Map(input.authored.map((i) => [i.id, i]))
  const add = (c: CriterionVerdict, question: string, because: string, evidence: readonly Cite[]) => {
    const intent = c.ref.split("#")[0]!
    out.push({ id: stableId({ c: c.ref, question }), intent, criterion: c.ref, question, because, evidence })
  }
  for (const intent of input.intents) {
    for (const c of intent.criteria) {
      if (c.verdict === "unproven") {
        const kinds = c.gates.map((g) => g.kind)
        add(
          c,
          kinds.length === 0
            ? `How should "${clip(c.text, 120)}" be proven: a check command, an appraisal law, a human sign-off, or a file that must exist?`
            : `No run has produced ${kinds.join(" or ")} evidence for ${c.ref}. Which stage is expected to prove it, and is it in the formation?`,
          kinds.length === 0 ? "the criterion declares no evidence" : "no observation of its gates exists",
          [],
        )
      }
      const text = authored.get(intent.id)?.acceptance_criteria.find((a) => a.id === c.id)?.text ?? c.text
      const vague = vagueReason(text)
      if (vague) add(c, `What measurable result would show that "${clip(text, 120)}" holds?`, `the criterion is vague: ${vague}`, [])
    }
  }
  const byRef = new Map(input.intents.flatMap((i) => i.criteria.map((c) => [c.ref, c] as const)))
  for (const f of findings) {
    if (f.code === "constraint_clash_confirmed") {
      // asked on each side's guarding criteria: settling the priority settles which one may give way
      const sides = (f.data?.["sides"] ?? []) as Array<{ intent: string; text: string; criteria: string[] }>
      const [a, b] = sides
      if (!a || !b) continue
      for (const ref of [...a.criteria, ...b.criteria]) {
        const c = byRef.get(ref)
        if (c) add(c, `The runs confirm that "${clip(a.text, 80)}" (${a.intent}) and "${clip(b.text, 80)}" (${b.intent}) cannot both hold. Which one wins?`, f.message, f.evidence)
      }
      continue
    }
    const refs = f.subject.split(" ").filter((s) => byRef.has(s))
    const c = byRef.get(refs[0] ?? "")
    if (!c) continue
    switch (f.code) {
      case "never_together":
        add(c, `${refs.join(" and ")} have never passed on the same version. Which one takes priority when they conflict?`, f.message, f.evidence)
        break
      case "approval_over_failing":
        add(c, `A person approved ${c.ref} while another gate failed. Should the approval override that gate, and if so, should the criterion say so?`, f.message, f.evidence)
        break
      case "waiver_cites_criterion":
        add(c, `${c.ref} keeps being waived in favour of another criterion. Is that the intended priority?`, f.message, f.evidence)
        break
      case "satisfied_under_older_bundle":
      case "artefact_changed":
        add(c, `Is ${c.ref} still met after the change? It was last proven before it.`, f.message, f.evidence)
        break
    }
  }
  const seen = new Set<string>()
  const first = (q: { id: string }) => {
    if (seen.has(q.id)) return false
    seen.add(q.id)
    return true
  }
  return out.filter(first).sort((a, b) => cmp(a.criterion, b.criterion) || cmp(a.id, b.id))
}

// ---- lifecycle --------------------------------------------------------------------------------

function lifecycle(input: InsightInput): LifecycleProposal[] {
  const out: LifecycleProposal[] = []
  const refOf = new Map(input.briefs.map((b) => [b.id, b]))
  // intents carried by a current pin (the pin equals its brief's ref), and the cycles they run in
  const pinnedCycles = new Map<string, Set<string>>()
  for (const p of input.pins) {
    if (p.state !== "current") continue
    const b = refOf.get(p.brief_id)
    for (const i of b?.intents ?? []) {
      let s = pinnedCycles.get(i)
      if (!s) pinnedCycles.set(i, (s = new Set()))
      for (const c of p.cycles) s.add(c)
    }
  }
  const pinnedOn = new Map<string, string[]>()
  for (const [i, cs] of pinnedCycles) for (const c of cs) pushTo(pinnedOn, c, i)
  const everPinned = new Map<string, Set<string>>()
  for (const r of input.records) {
    if (!r.pin) continue
    const b = refOf.get(r.pin.brief_id)
    for (const i of b?.intents ?? []) {
      let s = everPinned.get(i)
      if (!s) everPinned.set(i, (s = new Set()))
      s.add(r.cycle)
    }
  }
  const verdictOf = new Map(input.intents.map((i) => [i.id, i]))
  // the work was attested under a digest: a record of the session that reached foundry_attest
  const attestedDigests = new Set(input.records.filter((r) => r.attestation && r.pin).map((r) => r.pin!.digest))
  for (const intent of [...input.authored].sort((a, b) => cmp(a.id, b.id))) {
    const v = verdictOf.get(intent.id)
    const verdicts = Object.fromEntries((v?.criteria ?? []).map((c) => [c.ref, c.verdict]))
    const pinned = pinnedCycles.get(intent.id)
    if (intent.status === "draft" && pinned?.size && !input.linted.has(intent.id)) {
      out.push({ intent: intent.id, from: "draft", to: "active", because: `lint is clean and a current build pinned on ${[...pinned].sort().join(", ")} carries it`, verdicts })
    }
    if (intent.status === "active" && v && v.criteria.length > 0 && v.criteria.every((c) => c.verdict === "satisfied")) {
      const digest = briefsOfIntent(intent.id, input.briefs).find((b) => b.digest && attestedDigests.has(b.digest))?.digest
      if (!digest) continue
      out.push({
        intent: intent.id,
        from: "active",
        to: "satisfied",
        because: `every criterion (${v.criteria.length}) is satisfied under the current bundle and the work was attested`,
        verdicts,
        digest,
      })
    }
    if (intent.status === "satisfied" && !pinned?.size) {
      const cycles = everPinned.get(intent.id) ?? new Set<string>()
      // through the cycles (intents pinned on each), not every intent's cycles per intent
      let successor: string | undefined
      for (const c of cycles) for (const other of pinnedOn.get(c) ?? []) if (other !== intent.id && (successor === undefined || other < successor)) successor = other
      if (successor)
        out.push({ intent: intent.id, from: "satisfied", to: "superseded", superseded_by: successor, because: `no current pin carries it; ${successor} is pinned on the cycles it ran in`, verdicts })
      else if (cycles.size > 0) out.push({ intent: intent.id, from: "satisfied", to: "retired", because: "no current pin carries it and nothing replaces it on its cycles", verdicts })
    }
  }
  return out
}

// ---- all --------------------------------------------------------------------------------------

export function computeInsights(input: InsightInput): Insights {
  const thin: string[] = []
  const findings = [...drift(input, thin), ...contradictions(input, thin), ...strategyFindings(input, thin), ...tradeoffs(input)]
  const sorted = findings.sort(
    (a, b) => FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind) || cmp(a.code, b.code) || cmp(a.subject, b.subject) || cmp(a.message, b.message) || cmp(a.id, b.id),
  )
  return { findings: sorted, followups: followups(input, sorted), lifecycle: lifecycle(input), thin: [...new Set(thin)].sort() }
}
