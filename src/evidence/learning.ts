/**
 * The learning loop's edge: gather the facts (evidence model, pins, builds, authored intents, the
 * artefact files as they are now), compute the insights (pure, insights.ts), and apply what a person
 * accepts — follow-up questions into `open_questions`, lifecycle transitions into `status` — through
 * the normal intent update, on the base branch only.
 */
import { createHash } from "node:crypto"
import path from "node:path"
import { AlloyError, toAlloyError } from "../core/errors.js"
import { lintIntent } from "../core/lint.js"
import type { Intent } from "../core/intent.js"
import { makeDirs, writeFileOnce } from "../store/atomic.js"
import { readFileBounded } from "../store/read-file.js"
import type { AlloyContext } from "../service/context.js"
import { assertNotOnFlowBranch } from "../service/guard.js"
import { updateIntent } from "../service/intents.js"
import { projectStatus, type ProjectStatus } from "../service/status.js"
import { commitPaths } from "./git.js"
import { projectCapabilitiesDigest } from "../service/capabilities.js"
import { foundryConfigChanges } from "./config-drift.js"
import { computeInsights, FINDING_KINDS, type ConfigChange, type FindingKind, type Insights, type LifecycleProposal, type UsageFact } from "./insights.js"
import { loadEvidence, satisfactionSummary, summaryOf, type EvidenceModel, type SatisfactionSummary } from "./model.js"

/** Largest artefact Alloy hashes to see whether it changed since a run: 64 MiB. */
const MAX_ARTEFACT_BYTES = 64 * 1024 * 1024

export interface ProjectInsights extends Insights {
  readonly generated_at: string
  readonly problems: readonly string[]
}

/**
 * Facts from outside the evidence layer, given by the caller that may read them: the bridge's results
 * (tokens and cost). Left out, strategies say their usage was not read here — never that it was zero.
 */
export interface InsightSources {
  readonly usage?: readonly UsageFact[]
}

export function loadInsights(ctx: AlloyContext, model?: EvidenceModel, status?: ProjectStatus, sources: InsightSources = {}): ProjectInsights {
  // one scan for everything it reads: each store folder is proven once, not once per intent file
  return ctx.store.inOneScan(() => insightsOf(ctx, model ?? loadEvidence(ctx), status ?? projectStatus(ctx), sources))
}

function insightsOf(ctx: AlloyContext, model: EvidenceModel, status: ProjectStatus, sources: InsightSources): ProjectInsights {
  const authored: Intent[] = []
  const linted = new Set<string>()
  const problems = [...model.problems]
  for (const id of ctx.store.listIntentIds()) {
    try {
      const intent = ctx.store.readIntent(id).value
      authored.push(intent)
      if (lintIntent(intent).some((w) => w.severity === "warning")) linted.add(id)
    } catch {
      /* an unreadable intent is already a problem of the evidence model */
    }
  }
  const pins = [...status.briefs.flatMap((b) => b.pins), ...status.orphan_pins].map((p) => ({
    kind: p.kind,
    id: p.id,
    brief_id: p.brief_id,
    digest: p.digest,
    state: p.state,
    cycles: p.kind === "cycle" ? [p.id] : [...(p.covers ?? [])],
  }))
  const hashes = new Map<string, string | undefined>()
  const fileHash = (rel: string): string | undefined => {
    if (hashes.has(rel)) return hashes.get(rel)
    let h: string | undefined
    const abs = path.resolve(ctx.root, rel)
    if (abs.startsWith(ctx.root + path.sep)) {
      try {
        const bytes = readFileBounded(abs, MAX_ARTEFACT_BYTES, rel)
        h = bytes ? createHash("sha256").update(bytes).digest("hex") : undefined
      } catch (e) {
        problems.push(`${rel}: ${(e as AlloyError).message ?? String(e)}`)
      }
    }
    hashes.set(rel, h)
    return h
  }
  let config: { changes: ConfigChange[]; thin: string[] } = { changes: [], thin: [] }
  try {
    config = foundryConfigChanges(ctx, pins)
  } catch (e) {
    problems.push(`Foundry config drift: ${toAlloyError(e).describe()}`)
  }
  const capabilities = projectCapabilitiesDigest(ctx)
  const insights = computeInsights({
    intents: model.intents,
    observations: model.observations,
    records: model.records,
    briefs: status.briefs.map((b) => ({ id: b.id, ...(b.digest ? { digest: b.digest } : {}), needs_build: b.needs_build, intents: b.intents })),
    pins,
    authored,
    linted,
    fileHash,
    ...(capabilities ? { capabilities } : {}),
    configChanges: config.changes,
    configThin: config.thin,
    ...(sources.usage ? { usage: sources.usage } : {}),
  })
  return { generated_at: model.generated_at, ...insights, problems }
}

/** Accept follow-up questions: each lands in its intent's `open_questions` (once). */
export function acceptFollowups(ctx: AlloyContext, ids: readonly string[], insights: ProjectInsights = loadInsights(ctx)): Array<{ id: string; intent: string; question: string; added: boolean }> {
  assertNotOnFlowBranch(ctx, "accept follow-up questions")
  const chosen = ids.map((id) => {
    const q = insights.followups.find((f) => f.id === id)
    if (!q) throw new AlloyError("usage", `there is no follow-up question ${JSON.stringify(id.slice(0, 40))}`, { fix: "list them with `opencode-alloy followups`" })
    return q
  })
  const out: Array<{ id: string; intent: string; question: string; added: boolean }> = []
  for (const intentId of [...new Set(chosen.map((q) => q.intent))].sort()) {
    const intent = ctx.store.readIntent(intentId).value
    const have = new Set(intent.open_questions ?? [])
    const fresh: string[] = []
    for (const q of chosen.filter((c) => c.intent === intentId)) {
      const text = `${q.question} (${q.criterion})`
      const added = !have.has(text)
      if (added) fresh.push(text)
      have.add(text)
      out.push({ id: q.id, intent: intentId, question: text, added })
    }
    if (fresh.length) updateIntent(ctx, intentId, { append: { open_questions: fresh } })
  }
  return out
}

/**
 * Apply lifecycle proposals: each intent's status changes through the intent update, an in-toto
 * Statement of the verdicts that justify it is written beside the ledger, and everything is one
 * commit on the base branch. Refused on Foundry's flow branches.
 */
export function applyLifecycle(ctx: AlloyContext, proposals: readonly LifecycleProposal[], now: Date = new Date()): { applied: LifecycleProposal[]; commit?: string; files: string[] } {
  assertNotOnFlowBranch(ctx, "change intent statuses")
  if (proposals.length === 0) return { applied: [], files: [] }
  const files: string[] = []
  // the statements' folder first: a failure there must come before any intent is changed
  const dir = path.join(ctx.root, ".alloy", "lifecycle")
  try {
    makeDirs(dir)
  } catch (e) {
    throw toAlloyError(e, "io_error", { file: ".alloy/lifecycle" })
  }
  for (const p of proposals) {
    const w = updateIntent(ctx, p.intent, { set: { status: p.to, ...(p.superseded_by ? { superseded_by: p.superseded_by } : {}) } })
    files.push(w.file)
    const statement = {
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name: w.file, digest: { sha256: w.source_digest.replace(/^sha256:/, "") } }],
      predicateType: "https://opencode-alloy.dev/lifecycle/v1",
      predicate: {
        intent: p.intent,
        from: p.from,
        to: p.to,
        ...(p.superseded_by ? { superseded_by: p.superseded_by } : {}),
        because: p.because,
        verdicts: p.verdicts,
        ...(p.digest ? { digest: p.digest } : {}),
        at: now.toISOString(),
      },
    }
    const rel = `.alloy/lifecycle/${p.intent}-${p.to}-${now.toISOString().replace(/[:.]/g, "-")}.intoto.json`
    const abs = path.join(ctx.root, rel)
    writeFileOnce(abs, `${JSON.stringify(statement, null, 2)}\n`, 0o644, rel)
    files.push(rel)
  }
  const message = `alloy: intent lifecycle\n\n${proposals.map((p) => `- ${p.intent}: ${p.from} -> ${p.to}${p.superseded_by ? ` (by ${p.superseded_by})` : ""}: ${p.because}`).join("\n")}\n`
  const sha = commitPaths(ctx.root, files, message)
  return { applied: [...proposals], ...(sha ? { commit: sha } : {}), files }
}

export interface InsightsSummary {
  readonly lines: string[]
  readonly json: { findings: Record<FindingKind, number>; followups: number; lifecycle: LifecycleProposal[]; thin: number; problems?: string[] }
}

/**
 * For `status`: the verdicts and a summary of the insights from one load of the evidence (the model
 * and the project status are read once). A failure of the insights is shown, never hidden.
 */
export function statusEvidence(ctx: AlloyContext, status: ProjectStatus, sources: InsightSources = {}, loaded?: EvidenceModel): { satisfaction: SatisfactionSummary; insights: InsightsSummary } {
  const findings = Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>
  let model: EvidenceModel
  try {
    model = loaded ?? loadEvidence(ctx)
  } catch {
    // the same error, rendered the way status always rendered it
    const satisfaction = satisfactionSummary(ctx)
    return { satisfaction, insights: { lines: [], json: { findings, followups: 0, lifecycle: [], thin: 0 } } }
  }
  const satisfaction = summaryOf(model)
  try {
    const ins = loadInsights(ctx, model, status, sources)
    for (const f of ins.findings) findings[f.kind]++
    const counts = FINDING_KINDS.filter((k) => findings[k] > 0).map((k) => `${findings[k]} ${k}`)
    const lines = [
      `Insights: ${ins.findings.length ? counts.join(", ") : "no findings"}; ${ins.followups.length} follow-up question${ins.followups.length === 1 ? "" : "s"}; ${ins.lifecycle.length} lifecycle change${ins.lifecycle.length === 1 ? "" : "s"} due (\`opencode-alloy insights\`)`,
      ...ins.lifecycle.map((p) => `  ${p.intent}: ${p.from} -> ${p.to}${p.superseded_by ? ` (by ${p.superseded_by})` : ""} — ${p.because}`),
    ]
    return { satisfaction, insights: { lines, json: { findings, followups: ins.followups.length, lifecycle: [...ins.lifecycle], thin: ins.thin.length } } }
  } catch (e) {
    const msg = toAlloyError(e).describe()
    return { satisfaction, insights: { lines: [`Insights: unavailable (${msg})`], json: { findings, followups: 0, lifecycle: [], thin: 0, problems: [msg] } } }
  }
}
