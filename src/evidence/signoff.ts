/**
 * Explicit human sign-off: `opencode-alloy evidence signoff <intent>#AC-n --by <name>` records, under the
 * brief's current bundle, that a person approved a criterion that has a human gate. One record per
 * (criterion, person, bundle digest): signing twice under the same build adds nothing; after a rebuild
 * the old sign-off is evidence under an older bundle (stale) until someone signs again.
 */
import { ulid } from "ulid"
import { AlloyError } from "../core/errors.js"
import { parseCriterionRef } from "../core/ids.js"
import { verifyObjectBytes } from "../core/verify.js"
import { RUN_RECORD_TYPE, recordKey, type RunRecord } from "../core/run-record.js"
import type { AlloyContext } from "../service/context.js"
import { ALLOY_VERSION } from "../version.js"
import { writeRecord } from "../store/outbox.js"

export interface SignoffResult {
  readonly created: boolean
  readonly records: RunRecord[]
}

export function recordSignoff(ctx: AlloyContext, ref: string, by: string, note?: string, now: Date = new Date()): SignoffResult {
  ctx.store.requireInit()
  const c = parseCriterionRef(ref)
  if (!c) throw new AlloyError("invalid_id", `${JSON.stringify(ref.slice(0, 80))} is not a criterion reference`, { fix: "write it as <intent-id>#AC-<n>, e.g. release-note-voice#AC-4" })
  const who = by.trim()
  if (!who || who.length > 120 || /[\u0000-\u001f\u007f]/.test(who)) {
    throw new AlloyError("usage", "the sign-off needs the name of the person who approves (at most 120 characters, one line)", { fix: `opencode-alloy evidence signoff ${ref} --by "Ada Lovelace"` })
  }
  const records: RunRecord[] = []
  for (const briefId of ctx.store.listRefIds()) {
    const digest = ctx.store.readRef(briefId)
    if (!digest) continue
    const bytes = ctx.store.readObject(digest)
    if (!bytes) continue
    const bundle = verifyObjectBytes(bytes, { brief_id: briefId, digest }, ctx.store.rel(ctx.store.objectFile(digest)))
    if (!bundle.overlay.gates.some((g) => g.kind === "human" && g.criterion === ref)) continue
    const at = now.toISOString()
    records.push({
      $type: RUN_RECORD_TYPE,
      run_id: ulid(now.getTime()),
      idempotency_key: recordKey(["signoff", ref, who, digest]),
      pin: { brief_id: briefId, digest },
      pin_source: "explicit",
      cycle: bundle.brief.formation.cycles[0] ?? "",
      stage: "signoff",
      ...(bundle.brief.formation.flow ? { flow: bundle.brief.formation.flow } : {}),
      summary: `${who} signed off ${ref}${note ? `: ${note}` : ""}`,
      ended_at: at,
      alloy_version: ALLOY_VERSION,
      source: "cli",
      origin: { kind: "cli", ref: "evidence signoff" },
      session: `signoff:${ref}`,
      signoffs: [{ criterion: ref, by: who, ...(note ? { note } : {}) }],
      outcome: "ok",
    })
  }
  if (!records.length) {
    throw new AlloyError("usage", `${ref} has no human gate in any built brief, so there is nothing to sign off`, {
      fix: `give the criterion \`evidence: {kind: human}\` in .alloy/intents/${c.intent}.md and rebuild its brief`,
    })
  }
  let created = false
  for (const r of records) if (writeRecord(ctx.root, r).created) created = true
  return { created, records }
}
