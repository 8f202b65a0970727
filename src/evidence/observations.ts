/**
 * Evidence observations (pure): run records + the bundles they ran under -> facts that bear on one
 * acceptance criterion (`<intent>#AC-n`), each with its provenance. The rules (docs/evidence.md):
 *
 * appraisal   A feedback item cites a criterion when its tag is the criterion's gate law
 *             (`law:alloy--<intent>--ac-<n>`), or `law:<id>` where the criterion's law evidence names
 *             that Foundry law (`evidence: {kind: law, law: <id>}`). Its current state decides:
 *             open / actioned / rejected -> fail; wont-fix -> waived (with the reason); resolved -> pass,
 *             except resolved right after wont-fix -> waived (the waiver was accepted). Foundry's
 *             auto-resolution ("superseded by forge revision ...") counts as resolved: if the re-run stage
 *             still sees the problem it raises a new, open item.
 * quench      A `check` gate whose command is a Foundry validator's command (laws.ts) is judged by
 *             each quench run: an issue tagged `law:<law>:<validator>` at the judged artefact version
 *             -> fail, none -> pass. Unbound check gates get no quench evidence.
 * check       Alloy's own recorded run of a check gate (`opencode-alloy check --record`) with the bundle's
 *             command: every command exited 0 within its limits -> pass, else fail. Nothing else proves a
 *             check gate.
 * human       An item tagged `human` (from human-appraise) counts for the human gates of the bundle
 *             (only the gate of the criterion its text names, `AC-n` or `<intent>#AC-n`, when it names
 *             one), with the state rule above. A human-appraise run that leaves no human item open is a
 *             pass for every human gate of its bundle.
 * signoff     A sign-off in the committed evidence ledger (`opencode-alloy evidence signoff`, docs/ledger.md),
 *             signed by a git identity under a bundle: approve -> pass, reject -> fail, waive -> waived
 *             (with its reason), for that criterion's human gate; one subject per signer (their latest
 *             word counts). When the gate's `who:` names people by email and the signer is not one of
 *             them, the sign-off is shown but `excluded` (it decides nothing). Sign-offs of the old
 *             outbox (`.alloy/runs/`, a typed name, never committed) are shown as local and
 *             unaccountable and are `excluded` too: CI and other clones cannot see them.
 * artefact    An `artefact` gate's globs against the files of the work: a match -> pass; no match in the
 *             final diff (dry-run finish, attested outputs) -> fail; no match among the files stages have
 *             changed so far (observe) -> no observation.
 * presented   An appraise run whose appraisers were shown a law gate (the live hook records which gates each
 *             appraiser task received) and that raised no unresolved item on it: pass, in that appraisal only.
 * attestation ATTEST.md reached under a bundle (every stage run, every item resolved): pass for its human
 *             gates when human-appraise ran. It proves nothing about law or check gates (no proof by silence).
 *
 * Missing data is no observation: a failed quench, or a record whose feedback is missing or was left out
 * to fit the size limit, judges no check gate and no presented law gate.
 *
 * Every observation about a cycle's run counts only for criteria that apply to that cycle (`appliesTo`,
 * core/formation.ts); sign-offs are about the criterion itself.
 *
 * Every observation carries run id, stage, session, bundle digest and commit; one made under a digest
 * that is not the brief's current one is marked `older_bundle`.
 */
import type { Bundle, Gate, GateKind } from "../core/bundle.js"
import { checkCommandPassed, checkRunPassed, compareRecords, type FeedbackItemSummary, type RunRecord } from "../core/run-record.js"
import { appliesTo } from "../core/formation.js"

import { criterionRef, parseGateLawId } from "../core/ids.js"
import { canonicalBytes, normalizeJson, sha256Hex } from "../core/digest.js"
import { bindCheckCommand, type Validator } from "../foundry/laws.js"
import { matchesAny, splitGlobs } from "../core/glob.js"
import { describeSigner, matchWho } from "../core/signoff.js"
import type { SignoffEntry } from "../service/pulled.js"

export const OBSERVATION_KINDS = ["appraisal", "quench", "check", "human", "signoff", "artefact", "attestation"] as const
export type ObservationKind = (typeof OBSERVATION_KINDS)[number]
export const OUTCOMES = ["pass", "fail", "waived"] as const
export type Outcome = (typeof OUTCOMES)[number]

export interface Provenance {
  readonly run_id: string
  /** the record's idempotency key (its file name under .alloy/runs/records/) */
  readonly record: string
  readonly stage: string
  readonly cycle: string
  readonly session: string
  /** hook | import | cli */
  readonly source: string
  /** `snapshot <ref>`, `branch <ref>`, ... for imported records */
  readonly origin?: string
  /** the team store a pulled record came from, with the repository and machine that pushed it */
  readonly store?: string
  readonly brief_id?: string
  readonly digest?: string
  readonly commit?: string
  readonly base_sha?: string
  /** the stage that made the observed transition (feedback items) */
  readonly by_stage?: string
}

/** `oci://… (repository@machine)`: how evidence names the team store a pulled record came from. */
export function describePulled(p: NonNullable<RunRecord["pulled"]>): string {
  const who = [p.repository, p.machine].filter(Boolean).join("@")
  return who ? `${p.store} (${who})` : p.store
}

/** The team stores pulled records (and pulled ledger sign-offs) came from (docs/oci-store.md), with how many each gave. */
export function pulledStores(records: readonly RunRecord[], signoffs: readonly SignoffEntry[] = []): Array<{ store: string; records: number; signoffs?: number }> {
  const n = new Map<string, { records: number; signoffs: number }>()
  const at = (s: string) => n.get(s) ?? n.set(s, { records: 0, signoffs: 0 }).get(s)!
  for (const r of records) if (r.pulled) at(r.pulled.store).records++
  for (const e of signoffs) if (e.pulled) at(e.pulled.store).signoffs++
  return [...n.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([store, c]) => ({ store, records: c.records, ...(c.signoffs ? { signoffs: c.signoffs } : {}) }))
}

export interface Observation {
  /** stable id: hash of what was observed */
  readonly id: string
  readonly criterion: string
  readonly gate_kind: GateKind
  readonly kind: ObservationKind
  readonly outcome: Outcome
  readonly summary: string
  readonly reason?: string
  /** what the observation is about within a session (one feedback item, one quench validator...) */
  readonly subject: string
  /** when the observed state was reached */
  readonly at: string
  readonly provenance: Provenance
  /** made under the brief's current digest */
  readonly current: boolean
  /** made under an older bundle of the brief, or under no known pin */
  readonly older_bundle: boolean
  readonly feedback_id?: string
  readonly artefact_version?: string
  /** set when the observation is shown but decides nothing, and why (a sign-off by someone `who:` does not name, a local one) */
  readonly excluded?: string
}

export interface ObservationInput {
  readonly records: readonly RunRecord[]
  /** bundles by digest (the ones records ran under, and the current ones) */
  readonly bundles: ReadonlyMap<string, Bundle>
  /** brief id -> current digest (the brief's ref) */
  readonly current: ReadonlyMap<string, string>
  /** Foundry law validators of the project (for check-gate binding) */
  readonly validators: readonly Validator[]
  /** sign-offs of the committed evidence ledger (and pulled ledgers), as `readAllSignoffs` gives them */
  readonly signoffs?: readonly SignoffEntry[]
}

const FAIL_LABEL: Record<string, string> = {
  open: "open",
  actioned: "actioned by forge, not yet re-checked",
  rejected: "rejected by the stage that raised it",
  deadlocked: "deadlocked",
}

export function itemOutcome(item: FeedbackItemSummary): { outcome: Outcome; label: string; reason?: string } | undefined {
  const state = item.state
  if (state in FAIL_LABEL) return { outcome: "fail", label: FAIL_LABEL[state]!, ...(item.reason ? { reason: item.reason } : {}) }
  if (state === "wont-fix") return { outcome: "waived", label: "wont-fix", ...(item.reason ? { reason: item.reason } : {}) }
  if (state === "resolved") {
    const prev = item.history?.[1]
    if (prev?.state === "wont-fix") return { outcome: "waived", label: "wont-fix accepted", ...(prev.reason ? { reason: prev.reason } : {}) }
    return { outcome: "pass", label: "resolved", ...(item.reason ? { reason: item.reason } : {}) }
  }
  return undefined
}

const base = (stage: string) => stage.split(":")[0]!
const clip = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
const short = (hex: string | undefined) => (hex ? hex.replace(/^sha256:/, "").slice(0, 12) : "")

/** Criteria a feedback item cites, with the kind of gate it bears on. */
export function itemTargets(item: FeedbackItemSummary, bundle: Bundle | undefined): Array<{ criterion: string; kind: GateKind }> {
  const out: Array<{ criterion: string; kind: GateKind }> = []
  const add = (criterion: string, kind: GateKind) => {
    if (!out.some((o) => o.criterion === criterion && o.kind === kind)) out.push({ criterion, kind })
  }
  if (item.criterion) add(item.criterion, "law")
  const law = /^law:([^:]+)$/.exec(item.tag)?.[1]
  if (law) {
    const c = parseGateLawId(law)
    if (c) add(criterionRef(c.intent, c.ac), "law")
    else if (bundle) {
      for (const i of bundle.intents) for (const ac of i.acceptance_criteria) if (ac.evidence.some((e) => e.kind === "law" && e.law === law)) add(ac.ref, "law")
    }
  }
  if (item.tag === "human" && bundle) {
    const human = bundle.overlay.gates.filter((g) => g.kind === "human")
    const named = human.filter((g) => citesCriterion(item.text ?? "", g.criterion))
    for (const g of named.length ? named : human) add(g.criterion, "human")
  }
  return out
}

function citesCriterion(text: string, ref: string): boolean {
  const [intent, ac] = ref.split("#") as [string, string]
  if (text.includes(ref)) return true
  const re = new RegExp(`(^|[^A-Za-z0-9#-])${ac}(?![0-9])`)
  if (!re.test(text)) return false
  // a bare AC-n counts unless the text names another intent's criterion with that number
  return !new RegExp(`[a-z0-9-]+#${ac}(?![0-9])`).test(text) || text.includes(`${intent}#${ac}`)
}

export function sessionOfRecord(r: RunRecord): string {
  return r.session ?? `${r.source}:${r.flow ?? ""}:${r.cycle}`
}

/** Derive every observation from the records, oldest first. Deterministic for the same input. */
export function deriveObservations(input: ObservationInput): Observation[] {
  const records = [...input.records].sort(compareRecords)
  const out: Observation[] = []
  const seen = new Set<string>()
  const bindings = new Map<string, string[] | undefined>()
  const bound = (g: Gate): string[] | undefined => {
    if (!g.command) return undefined
    if (!bindings.has(g.command)) bindings.set(g.command, bindCheckCommand(g.command, input.validators))
    return bindings.get(g.command)
  }

  for (const r of records) {
    const pin = r.pin
    const bundle = pin ? input.bundles.get(pin.digest) : undefined
    const current = !!pin && input.current.get(pin.brief_id) === pin.digest
    const session = sessionOfRecord(r)
    const prov: Provenance = {
      run_id: r.run_id,
      record: r.idempotency_key,
      stage: r.stage,
      cycle: r.cycle,
      session,
      source: r.source,
      ...(r.origin ? { origin: `${r.origin.kind} ${r.origin.ref}` } : {}),
      ...(r.pulled ? { store: describePulled(r.pulled) } : {}),
      ...(pin ? { brief_id: pin.brief_id, digest: pin.digest } : {}),
      ...(r.commit ? { commit: r.commit } : {}),
      ...(r.base_sha ? { base_sha: r.base_sha } : {}),
    }
    /** `when` identifies the observed moment; it defaults to `at` (items without timestamps use their state) */
    const emit = (o: Omit<Observation, "id" | "provenance" | "current" | "older_bundle"> & { by_stage?: string | undefined }, when: string = o.at) => {
      // a run of one cycle never counts for a criterion scoped to another (a sign-off is a person's word on the criterion, no cycle's run)
      if (bundle && o.kind !== "signoff" && !appliesTo(bundle, o.criterion, r.cycle)) return
      const { by_stage, ...rest } = o
      const identity = [o.criterion, o.gate_kind, o.subject, session, o.outcome, when, pin?.digest ?? null]
      const id = sha256Hex(canonicalBytes(normalizeJson(identity))).slice(0, 16)
      if (seen.has(id)) return
      seen.add(id)
      out.push({ ...rest, id, provenance: { ...prov, ...(by_stage ? { by_stage } : {}) }, current, older_bundle: !current })
    }
    const gates = bundle?.overlay.gates ?? []

    // appraisal and human feedback items
    const items = new Map<string, FeedbackItemSummary>()
    for (const i of r.feedback?.items ?? []) items.set(i.id, i)
    for (const i of r.feedback?.alloy_items ?? []) items.set(i.id, { ...items.get(i.id), ...i })
    for (const item of items.values()) {
      const o = itemOutcome(item)
      if (!o) continue
      for (const t of itemTargets(item, bundle)) {
        const top = item.history?.[0]
        emit(
          {
            criterion: t.criterion,
            gate_kind: t.kind,
            kind: t.kind === "human" ? "human" : "appraisal",
            outcome: o.outcome,
            summary: `${item.tag} ${o.label}: ${clip(item.text ?? item.file)}`,
            ...(o.reason ? { reason: o.reason } : {}),
            subject: `item:${item.id}`,
            at: top?.timestamp ?? r.ended_at,
            feedback_id: item.id,
            ...(item.artefact_version ? { artefact_version: item.artefact_version } : {}),
            by_stage: top?.stage ?? item.source,
          },
          top?.timestamp ?? `state:${item.state}`,
        )
      }
    }
    if (!bundle) {
      continue
    }

    // quench runs judge bound check gates — only a quench that ran to its end with its feedback recorded in full
    // (a failed quench, or one whose feedback is missing or was left out, observes nothing: silence is not a pass)
    const fullFeedback = !!r.feedback?.items && !r.feedback.omitted
    if (base(r.stage) === "quench" && r.quench && r.outcome === "ok" && fullFeedback) {
      for (const g of gates) {
        if (g.kind !== "check") continue
        const tags = bound(g)
        if (!tags) continue
        const issues = r.quench.issues.filter((i) => tags.includes(i.tag))
        emit({
          criterion: g.criterion,
          gate_kind: "check",
          kind: "quench",
          outcome: issues.length ? "fail" : "pass",
          summary: issues.length
            ? `${r.stage} found ${issues.length} issue${issues.length === 1 ? "" : "s"} (${tags.join(", ")}): ${clip(issues[0]!.text ?? issues[0]!.file)}`
            : `${r.stage} ran ${tags.join(", ")}${r.artefact_version ? ` on artefact ${short(r.artefact_version)}` : ""}: no issues`,
          subject: `quench:${g.id}`,
          at: r.ended_at,
          ...(r.artefact_version ? { artefact_version: r.artefact_version } : {}),
        })
      }
    }

    // Alloy's own recorded run of a check gate (`opencode-alloy check --record`): the gate it ran, with the bundle's command
    if (r.check && r.stage === "check") {
      const g = gates.find((x) => x.kind === "check" && x.id === r.check!.gate && x.criterion === r.check!.criterion)
      if (g && g.command === r.check.command) {
        const passed = checkRunPassed(r.check)
        const bad = r.check.commands.find((c) => !checkCommandPassed(c))
        const why = bad ? (bad.timed_out ? "timed out" : bad.output_over_limit ? "output over the limit" : bad.error ? bad.error : `exit ${bad.exit_code ?? bad.signal ?? "?"}`) : ""
        const ms = r.check.commands.reduce((n, c) => n + c.duration_ms, 0)
        emit({
          criterion: g.criterion,
          gate_kind: "check",
          kind: "check",
          outcome: passed ? "pass" : "fail",
          summary: passed ? `check ran \`${clip(g.command, 120)}\`: exit 0 (${ms} ms)` : `check ran \`${clip(bad?.command ?? g.command, 120)}\`: ${clip(why, 120)}`,
          subject: `check:${g.id}`,
          at: r.ended_at,
        })
      }
    }

    // an appraisal that was shown a law gate and did not cite it (or cited it and resolved it) passes it — in that appraisal only
    if (base(r.stage) === "appraise" && r.presented_gates && r.outcome === "ok" && fullFeedback) {
      for (const g of gates) {
        if (g.kind !== "law" || !r.presented_gates.includes(g.law_id ?? g.id)) continue
        const cited = [...items.values()].filter((i) => itemTargets(i, bundle).some((t) => t.criterion === g.criterion && t.kind === "law"))
        if (cited.some((i) => itemOutcome(i)?.outcome !== "pass")) continue // the item observations carry it
        emit({
          criterion: g.criterion,
          gate_kind: "law",
          kind: "appraisal",
          outcome: "pass",
          summary: `${r.stage} was shown ${g.law_id ?? g.id}${r.artefact_version ? ` on artefact ${short(r.artefact_version)}` : ""} and ${cited.length ? "every item citing it is resolved" : "raised no item on it"}`,
          subject: `presented:${g.id}`,
          at: r.ended_at,
          ...(r.artefact_version ? { artefact_version: r.artefact_version } : {}),
        })
      }
    }

    // a human-appraise run that left no human item open
    if (base(r.stage) === "human-appraise" && r.feedback?.items) {
      const open = r.feedback.items.filter((i) => i.tag === "human" && itemOutcome(i)?.outcome === "fail")
      if (!open.length) {
        for (const g of gates) {
          if (g.kind !== "human") continue
          emit({
            criterion: g.criterion,
            gate_kind: "human",
            kind: "human",
            outcome: "pass",
            summary: `${r.stage} completed with no open human feedback${g.who ? ` (gate: ${g.who})` : ""}`,
            subject: "human-run",
            at: r.ended_at,
          })
        }
      }
    }

    // sign-offs of the old outbox: a typed name in a git-ignored folder; shown, never deciding (docs/ledger.md)
    for (const s of r.signoffs ?? []) {
      emit({
        criterion: s.criterion,
        gate_kind: "human",
        kind: "signoff",
        outcome: "pass",
        summary: `signed off locally by ${s.by} (typed name, outbox only)${s.note ? `: ${clip(s.note)}` : ""}`,
        subject: `signoff-local:${s.by}`,
        at: r.ended_at,
        excluded:
          "a local sign-off: a typed name in the git-ignored outbox, which CI and other clones never see; sign off again with `opencode-alloy evidence signoff` to record it in the committed ledger",
      })
    }

    // artefacts of the work
    if (r.artefacts) {
      const final = r.stage === "finish" || r.stage === "attest"
      for (const g of gates) {
        if (g.kind !== "artefact" || !g.path) continue
        const globs = splitGlobs(g.path)
        const hits = r.artefacts.filter((a) => a.state !== "deleted" && matchesAny(a.path, globs))
        if (!hits.length && !final) continue
        emit({
          criterion: g.criterion,
          gate_kind: "artefact",
          kind: "artefact",
          outcome: hits.length ? "pass" : "fail",
          summary: hits.length
            ? `${final ? "the final diff" : "the work so far"} includes ${hits
                .map((h) => h.path)
                .slice(0, 5)
                .join(", ")}${hits.length > 5 ? ` and ${hits.length - 5} more` : ""}`
            : `the final diff has no file matching ${g.path}`,
          subject: `artefact:${g.id}`,
          at: r.ended_at,
        })
      }
    }

    // attestation reached
    if (r.attestation) {
      const bases = new Set(r.attestation.stages.map(base))
      for (const g of gates) {
        // an attestation proves that human-appraise ran and every item was resolved, nothing more: it is no proof that an
        // appraiser was shown a law gate (that is the appraisal's own record) or that a check ran (the quench record's)
        const ok = g.kind === "human" && bases.has("human-appraise")
        if (!ok) continue
        emit({
          criterion: g.criterion,
          gate_kind: g.kind,
          kind: "attestation",
          outcome: "pass",
          summary: "attested: human-appraise ran under this bundle and every feedback item was resolved",
          subject: `attest:${g.id}`,
          at: r.ended_at,
        })
      }
    }
  }
  for (const o of ledgerObservations(input)) {
    if (seen.has(o.id)) continue
    seen.add(o.id)
    out.push(o)
  }
  return out
}

const DECISION_OUTCOME = { approve: "pass", reject: "fail", waive: "waived" } as const
const DECISION_VERB = { approve: "approved", reject: "rejected", waive: "waived" } as const

/** Human sign-offs of the committed ledger (and pulled ledgers): one observation each, with the signer, bundle and commit. */
function ledgerObservations(input: ObservationInput): Observation[] {
  const out: Observation[] = []
  for (const e of input.signoffs ?? []) {
    const s = e.signoff
    const bundle = input.bundles.get(s.bundle.digest)
    const current = input.current.get(s.bundle.brief_id) === s.bundle.digest
    const gate = bundle?.overlay.gates.find((g) => g.kind === "human" && g.criterion === s.criterion)
    const who = matchWho(gate?.who ?? s.who, s.signer)
    const c = e.commit
    const signature = c
      ? c.signature === "unsigned"
        ? `commit ${c.sha.slice(0, 7)}, unsigned`
        : `commit ${c.sha.slice(0, 7)}, signature ${c.signature}${c.signed_by ? ` (${c.signed_by})` : ""}`
      : e.pulled
        ? undefined
        : "not committed yet"
    const whoNote = who.kind === "role" ? ` as ${clip(who.who, 80)}` : who.kind === "match" ? " (named by who:)" : ""
    const summary = `${DECISION_VERB[s.decision]} by ${describeSigner(s.signer)}${whoNote}${s.reason ? `: ${clip(s.reason)}` : ""}${signature ? ` [${signature}]` : ""}`
    const key = e.rel.split("/").pop()!.slice(0, 32)
    out.push({
      id: sha256Hex(canonicalBytes(normalizeJson(["ledger", e.rel]))).slice(0, 16),
      criterion: s.criterion,
      gate_kind: "human",
      kind: "signoff",
      outcome: DECISION_OUTCOME[s.decision],
      summary,
      ...(s.reason ? { reason: s.reason } : {}),
      subject: `signoff:${s.signer.email.toLowerCase()}`,
      at: s.at,
      provenance: {
        run_id: key,
        record: e.rel,
        stage: "signoff",
        cycle: "",
        session: `signoff:${s.criterion}`,
        source: "ledger",
        origin: e.pulled ? "pulled ledger" : "ledger",
        ...(e.pulled ? { store: describePulled(e.pulled) } : {}),
        brief_id: s.bundle.brief_id,
        digest: s.bundle.digest,
        ...(c ? { commit: c.sha } : {}),
      },
      current,
      older_bundle: !current,
      ...(who.kind === "mismatch" ? { excluded: `who: names ${who.expected.join(", ")}; signed by ${s.signer.email}, so this sign-off does not count` } : {}),
    })
  }
  return out
}
