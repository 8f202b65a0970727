/**
 * Export verdicts as in-toto Statements (v1, unsigned; sign them with your own tooling, e.g. wrap in a
 * DSSE envelope). One Statement per brief, written as JSON Lines:
 *
 *   _type          https://in-toto.io/Statement/v1
 *   subject        the artefacts of the brief's latest finished, attested or observed session, each
 *                  `{name: <repo-relative path>, digest: {sha256}}` — the hash recorded at import when
 *                  known, else the file as it is in the work tree at export time (files that do not exist
 *                  are left out). With no artefact at all, the bundle object itself
 *                  (`.alloy/objects/sha256/<hex>.json`, whose sha256 is the digest).
 *   predicateType  https://opencode-alloy.dev/verdicts/v1 (VERDICTS_PREDICATE_TYPE)
 *   predicate      the brief, its current bundle digest, and for each intent and criterion the verdict,
 *                  the reason and the evidence (run ids, stages, digests, commits) — verdicts judged
 *                  again from only the observations made under this brief's bundles.
 */
import type { RunRecord } from "../core/run-record.js"
import { ALLOY_VERSION } from "../version.js"
import type { EvidenceModel } from "./model.js"
import { pulledStores, sessionOfRecord } from "./observations.js"
import { cmpTime } from "../core/run-record.js"

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
export const VERDICTS_PREDICATE_TYPE = "https://opencode-alloy.dev/verdicts/v1"

export interface Subject {
  name: string
  digest: { sha256: string }
}

export interface Statement {
  _type: typeof STATEMENT_TYPE
  subject: Subject[]
  predicateType: typeof VERDICTS_PREDICATE_TYPE
  predicate: Record<string, unknown>
}

const CLOSING = new Set(["finish", "attest", "observe"])

/** Each brief's latest closing record with artefacts (its subjects), in one pass; of equal times the last read wins, as the stable sort before did. */
function latestArtefactsByBrief(records: readonly RunRecord[]): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>()
  for (const r of records) {
    if (!r.pin || !CLOSING.has(r.stage) || !r.artefacts) continue
    const prev = out.get(r.pin.brief_id)
    if (!prev || cmpTime(r.ended_at, prev.ended_at) >= 0) out.set(r.pin.brief_id, r)
  }
  return out
}

/**
 * Statements for every brief in the model. `hashFile` gives the sha256 hex of a work-tree file (or
 * undefined when it does not exist); it is only asked for artefacts without a recorded hash.
 */
export function exportIntoto(model: EvidenceModel, hashFile: (repoPath: string) => string | undefined): Statement[] {
  const out: Statement[] = []
  // once for all briefs: each brief's latest closing record, and the team stores (asking the records again for every brief was briefs × records)
  const closingOf = latestArtefactsByBrief(model.records)
  const stores = pulledStores(model.records, model.signoffs)
  for (const brief of model.briefs) {
    const closing = closingOf.get(brief.id)
    const subject: Subject[] = []
    for (const a of closing?.artefacts ?? []) {
      // subjects are the work's artefacts, not Foundry's bookkeeping files
      if (a.state === "deleted" || isFoundryBookkeeping(a.path)) continue
      const sha = a.sha256 ?? hashFile(a.path)
      if (sha && !subject.some((s) => s.name === a.path)) subject.push({ name: a.path, digest: { sha256: sha } })
    }
    if (!subject.length && brief.current) {
      const hex = brief.current.replace(/^sha256:/, "")
      subject.push({ name: `.alloy/objects/sha256/${hex}.json`, digest: { sha256: hex } })
    }
    if (!subject.length) continue
    // the brief's verdicts judged from its own evidence only: a run under another brief's bundle never proves this brief's criteria
    const intents = model.verdictsFor(brief.id).intents
    out.push({
      _type: STATEMENT_TYPE,
      subject,
      predicateType: VERDICTS_PREDICATE_TYPE,
      predicate: {
        generator: { name: "opencode-alloy", version: ALLOY_VERSION },
        generated_at: model.generated_at,
        brief: { id: brief.id, title: brief.title, digest: brief.current ?? null, formation: brief.formation },
        ...(stores.length ? { stores } : {}),
        ...(closing ? { artefacts_from: { run_id: closing.run_id, stage: closing.stage, session: sessionOfRecord(closing), commit: closing.commit ?? null } } : {}),
        verdicts: intents.map((i) => ({
          intent: i.id,
          title: i.title,
          verdict: i.verdict,
          reason: i.reason,
          criteria: i.criteria.map((c) => ({
            ref: c.ref,
            text: c.text,
            verdict: c.verdict,
            reason: c.reason,
            // the observations that decided each gate (the report summary's `decisive`), by id into `evidence`
            gates: c.gates.map((g) => ({ id: g.id, kind: g.kind, verdict: g.verdict, decisive: g.decisive })),
            // only evidence produced under this brief's bundles
            evidence: c.evidence
              .filter((o) => o.provenance.brief_id === brief.id)
              .map((o) => ({
                id: o.id,
                kind: o.kind,
                outcome: o.outcome,
                summary: o.summary,
                run_id: o.provenance.run_id,
                stage: o.provenance.stage,
                digest: o.provenance.digest ?? null,
                commit: o.provenance.commit ?? null,
                ...(o.provenance.store ? { store: o.provenance.store } : {}),
                ...(o.provenance.source === "ledger" ? { ledger: o.provenance.record } : {}),
                ...(o.excluded ? { excluded: o.excluded } : {}),
                older_bundle: o.older_bundle,
                at: o.at,
              })),
          })),
        })),
      },
    })
  }
  return out
}

/** WORK.md, WORK.history.yaml, WORK.feedback.yaml and ATTEST.md at the work tree's root. */
function isFoundryBookkeeping(p: string): boolean {
  return /^(WORK\.(md|history\.yaml|feedback\.yaml)|ATTEST\.md)$/.test(p)
}
