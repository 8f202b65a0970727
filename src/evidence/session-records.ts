/**
 * One session's WORK files -> run records (pure). A session is one run of one cycle; every non-sort
 * history entry becomes one record (that stage run, with the feedback as it stood when the entry was
 * written), and one closing record carries the end state:
 *
 *   finish   a dry-run snapshot: final feedback, the files of `diff.patch`
 *   attest   ATTEST.md was found: final feedback, the attested outputs, the attested stages
 *   observe  anything else (a work branch tip, the work tree): final feedback, the files stages changed
 *
 * Idempotency keys depend only on what was observed, never on where it was read or when it was imported,
 * so the same stage run read from a branch, an archive branch and the work tree is one record.
 */
import { RUN_RECORD_TYPE, isBridgedStage, recordKey, runIdFor, stageRunKey, type RunRecord } from "../core/run-record.js"
import type { Pin } from "../core/pin.js"
import { ALLOY_VERSION } from "../version.js"
import { feedbackSummary, itemAsOf, sessionOf, isHex64, type Attestation, type DiffFile, type FeedbackItem, type HistoryEntry, type WorkFiles } from "../foundry/work-files.js"

export type OriginKind = "snapshot" | "branch" | "worktree" | "outbox" | "cli"
export type PinSourceKind = "hook" | "trace" | "branch" | "worktree" | "explicit"

export interface SessionInput {
  readonly work: WorkFiles
  readonly origin: { kind: OriginKind; ref: string }
  /** the pin for a cycle at a moment (the session's cycle; `at` = ISO time of the stage) */
  readonly pinFor: (cycle: string, at: string) => { pin: Pin; source: PinSourceKind } | undefined
  /** commit per history entry `seq` */
  readonly commits?: ReadonlyMap<number, string>
  /** the commit a stage started from, per history entry `seq` (the parent of its commit) */
  readonly bases?: ReadonlyMap<number, string>
  /** when forge / human-appraise stages began, and from which commit (a dry run's trace): `<cycle> <stage>` -> begins in order */
  readonly stageBegins?: ReadonlyMap<string, ReadonlyArray<{ at: string; baseSha?: string }>>
  readonly close:
    | { kind: "finish"; at?: string; summary: string; failed?: boolean; files: readonly DiffFile[] }
    | { kind: "attest"; at?: string; commit?: string; attestation: Attestation; shaOf?: (path: string) => string | undefined }
    | { kind: "observe"; at?: string; commit?: string; contentKey: string }
  readonly foundryVersion?: string
  /** the Alloy gate law ids appraisers were shown for an appraise stage that ended at `at` (live hook: from its dispatch events) */
  readonly presented?: (cycle: string, stage: string, at: string) => readonly string[] | undefined
  /** who records: an import (default) or the live hook reading the work tree after `foundry_orchestrate` */
  readonly source?: "import" | "hook"
}

const presentedOf = (g: readonly string[] | undefined) => (g ? { presented_gates: [...g] } : {})

function ms(at: string | undefined): number {
  const t = at ? Date.parse(at) : NaN
  return Number.isNaN(t) ? 0 : t
}

const isSort = (e: HistoryEntry) => e.stage === "sort"
const base = (stage: string) => stage.split(":")[0]!

/** Records for one session. Returns [] when the files name no cycle (nothing to attribute runs to). */
export function sessionRecords(input: SessionInput): RunRecord[] {
  const { work, origin } = input
  const session = sessionOf(work)
  const cycle = work.work?.cycle ?? work.history[0]?.cycle
  if (!session || !cycle) return []
  const flow = work.work?.flow
  const common = {
    $type: RUN_RECORD_TYPE as typeof RUN_RECORD_TYPE,
    ...(flow ? { flow } : {}),
    ...(input.foundryVersion ? { foundry_version: input.foundryVersion } : {}),
    alloy_version: ALLOY_VERSION,
    source: input.source ?? "import",
    origin,
    session,
  }
  const pinFields = (c: string, at: string) => {
    const p = input.pinFor(c, at)
    return p ? { pin: { brief_id: p.pin.brief_id, digest: p.pin.digest }, pin_source: p.source } : { pin: null }
  }

  const out: RunRecord[] = []
  const beginsUsed = new Map<string, number>()
  let lastVersion: string | undefined
  for (const e of work.history) {
    if (isSort(e)) continue
    if (base(e.stage) === "forge" && isHex64(e.artefact_version)) lastVersion = e.artefact_version
    const version = isHex64(e.artefact_version) ? e.artefact_version : lastVersion
    const items = work.feedback.map((i) => itemAsOf(i, e.timestamp)).filter((i): i is FeedbackItem => i !== undefined)
    const beginKey = `${e.cycle} ${e.stage}`
    const n = beginsUsed.get(beginKey) ?? 0
    const begin = isBridgedStage(e.stage) ? input.stageBegins?.get(beginKey)?.[n] : undefined
    if (begin) beginsUsed.set(beginKey, n + 1)
    const began = begin?.at
    const commit = e.seq !== undefined ? input.commits?.get(e.seq) : undefined
    // one identity per stage run: a stage Foundry opened with stage_begin is named by its base commit, as the live hook names it
    const baseSha = isBridgedStage(e.stage) ? ((e.seq !== undefined ? input.bases?.get(e.seq) : undefined) ?? begin?.baseSha) : undefined
    const key = baseSha ? stageRunKey(e.cycle, e.stage, baseSha) : recordKey([session, e.cycle, e.stage, e.seq ?? null, e.timestamp])
    // no feedback file is no data: neither a summary nor a clean quench can be read from it
    const quench =
      base(e.stage) === "quench" && !work.feedbackMissing
        ? {
            issues: items
              .filter((i) => i.source === e.stage && /^law:[^:]+:[^:]+$/.test(i.tag) && (!version || i.artefact_version === version))
              .map((i) => ({ tag: i.tag, file: i.file, id: i.id, ...(i.text ? { text: i.text } : {}) })),
          }
        : undefined
    const contractFailed = e.contract_passed === false
    out.push({
      ...common,
      run_id: runIdFor(key, ms(e.timestamp)),
      idempotency_key: key,
      ...(baseSha ? { base_sha: baseSha } : {}),
      provenance: [{ source: input.source ?? "import", origin }],
      ...pinFields(e.cycle, e.timestamp),
      cycle: e.cycle,
      stage: e.stage,
      ...(e.comment ? { summary: e.comment } : {}),
      ...(began ? { started_at: began } : {}),
      ended_at: e.timestamp,
      ...(e.seq !== undefined ? { seq: e.seq } : {}),
      ...(commit ? { commit } : {}),
      ...(version ? { artefact_version: version } : {}),
      ...(work.feedbackMissing ? {} : { feedback: feedbackSummary(items) }),
      ...(quench ? { quench } : {}),
      ...(base(e.stage) === "appraise" && input.presented ? presentedOf(input.presented(e.cycle, e.stage, e.timestamp)) : {}),
      outcome: contractFailed ? "error" : "ok",
      ...(contractFailed ? { error: "the forge contract failed (feedback items were not actioned or the artefact did not change as claimed)" } : {}),
    })
  }

  const latest = [...work.history.map((e) => e.timestamp), ...work.feedback.flatMap((i) => i.history.map((h) => h.timestamp ?? ""))]
    .filter((t) => !Number.isNaN(Date.parse(t)))
    .sort((a, b) => ms(a) - ms(b))
    .pop()
  const close = input.close
  const at = close.at && !Number.isNaN(Date.parse(close.at)) ? close.at : (latest ?? new Date(0).toISOString())
  const identity = (key: string) => ({ idempotency_key: key, run_id: runIdFor(key, ms(at)), provenance: [{ source: input.source ?? "import", origin }] })
  const closing = {
    ...common,
    ...pinFields(cycle, at),
    cycle,
    ended_at: at,
    ...(lastVersion ? { artefact_version: lastVersion } : {}),
    ...(work.feedbackMissing ? {} : { feedback: feedbackSummary(work.feedback) }),
  }
  if (close.kind === "finish") {
    out.push({
      ...closing,
      ...identity(recordKey([session, "finish", origin.ref])),
      stage: "finish",
      summary: close.summary,
      artefacts: close.files.map((f) => ({ path: f.path, state: f.state, ...(f.sha256 ? { sha256: f.sha256 } : {}) })),
      outcome: close.failed ? "error" : "ok",
      ...(close.failed ? { error: `the dry run ended with status failed` } : {}),
    })
  } else if (close.kind === "attest") {
    const a = close.attestation
    out.push({
      ...closing,
      ...identity(recordKey([session, "attest", a.diffSha256 ?? close.commit ?? null])),
      stage: "attest",
      summary: a.message.split("\n")[0]?.slice(0, 500) || "attest: cycle complete",
      ...(close.commit ? { commit: close.commit } : {}),
      artefacts: a.payload.outputs.map((o) => {
        const state: "new" | "modified" | "deleted" = o.state === "new" || o.state === "deleted" ? o.state : "modified"
        const sha = state === "deleted" ? undefined : close.shaOf?.(o.path)
        return { path: o.path, state, ...(sha ? { sha256: sha } : {}) }
      }),
      attestation: {
        ...(a.diffSha256 ? { diff_sha256: a.diffSha256 } : {}),
        stages: [...new Set(a.payload.process.stages.map((s) => s.stage))],
        ...(a.payload.work_branch_archive?.name ? { archive: a.payload.work_branch_archive.name } : {}),
      },
      outcome: "ok",
    })
  } else {
    const changed = [...new Set(work.history.flatMap((e) => (isSort(e) ? [] : (e.changed_files ?? []))))].sort()
    out.push({
      ...closing,
      ...identity(recordKey([session, "observe", close.contentKey])),
      stage: "observe",
      summary: `WORK files as found on ${origin.kind} ${origin.ref}${work.work?.status ? ` (status ${work.work.status})` : ""}`,
      ...(close.commit ? { commit: close.commit } : {}),
      artefacts: changed.map((p) => ({ path: p, state: "changed" as const })),
      outcome: work.work?.status === "failed" ? "error" : "ok",
    })
  }
  return out
}
