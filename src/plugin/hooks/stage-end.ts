/**
 * Stage runs (ALLOY.md §6): capture Foundry's open stage before `foundry_stage_end` runs (it
 * deletes `.foundry/active-stage.json`), then, after it, export one run record per stage run into
 * `.alloy/runs/`. `foundry_stage_begin` results give a `stage_begun` event. Never changes a
 * Foundry result.
 *
 * Idempotency marker of a run: the token hash (else start time) from active-stage.json, captured
 * per call id in the before-hook. When that is missing (the after-hook fired without its
 * before-hook), the marker seen earlier for the same `last-stage.json` content is reused, else
 * the one from the matching `foundry_stage_begin` result, else `summary:<summary>`.
 */
import { AlloyError, toAlloyError } from "../../core/errors.js"
import { isSlug } from "../../core/ids.js"
import type { Pin } from "../../core/pin.js"
import type { AlloyContext } from "../../service/context.js"
import { exportStageRun, type ExportResult } from "../../service/runs.js"
import { appendEvent } from "../../store/outbox.js"
import { ActiveStageSchema, LastStageSchema, readFoundryState, type ActiveStage } from "../../foundry/runtime-state.js"
import { observeWorkTree } from "../../foundry/work-files.js"
import type { Logger } from "../log.js"
import type { AlloyOptions } from "../options.js"
import { isObject } from "./dispatch.js"

const MAX_REMEMBERED = 64

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key)
  if (map.size >= MAX_REMEMBERED) map.delete(map.keys().next().value!)
  map.set(key, value)
}

const markerOf = (a: ActiveStage | undefined): string | undefined => (a ? a.tokenHash || a.startedAt || undefined : undefined)
const runKey = (cycle: string, stage: string, baseSha: string | undefined) => `${cycle}|${stage}|${baseSha ?? ""}`

function parseJson(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== "string" || text.charCodeAt(0) !== 123 /* { */) return undefined
  try {
    const v: unknown = JSON.parse(text)
    return isObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

export interface StageRunTracker {
  beforeStageEnd(callID: string): void
  afterStageEnd(callID: string, output: { output: string }): ExportResult | undefined
  afterStageBegin(output: { output: string }): void
}

export function createStageRunTracker(ctx: AlloyContext, options: AlloyOptions, log: Logger): StageRunTracker {
  const byCall = new Map<string, ActiveStage>()
  const begun = new Map<string, ActiveStage>()
  const markers = new Map<string, string>()

  /** The pin that applies to a cycle now; a pin block that cannot be read is reported, not thrown. */
  function pinOf(cycle: string): { pin: Pin | null; pinError?: { code: string; message: string } } {
    if (!isSlug(cycle)) return { pin: null }
    try {
      const p = ctx.project.pinForCycleCached(cycle)
      return { pin: p ? { brief_id: p.brief_id, digest: p.digest } : null }
    } catch (e) {
      if (e instanceof AlloyError && e.code === "cycle_not_found") return { pin: null }
      const err = toAlloyError(e)
      return { pin: null, pinError: { code: err.code, message: err.describe() } }
    }
  }

  return {
    beforeStageEnd(callID) {
      const active = readFoundryState(ctx.root, "active-stage.json", ActiveStageSchema)
      // a second before-hook for the same call (file already gone) keeps what the first one saw
      if (active) remember(byCall, callID, active)
    },

    afterStageBegin(output) {
      const res = parseJson(output.output)
      if (res?.["ok"] !== true) return
      const a = ActiveStageSchema.safeParse(res["active"])
      if (!a.success) return
      const active = a.data
      remember(begun, runKey(active.cycle, active.stage, active.baseSha), active)
      const { pin, pinError } = pinOf(active.cycle)
      if (!pin && !pinError && !options.exportUnpinned) return
      appendEvent(ctx.root, {
        kind: "stage_begun",
        ...(active.startedAt ? { at: active.startedAt } : {}),
        cycle: active.cycle,
        stage: active.stage,
        pin,
        ...(pinError ? { code: pinError.code, reason: pinError.message } : {}),
      })
    },

    afterStageEnd(callID, output) {
      const res = parseJson(output.output)
      if (!res) return undefined
      const ok = res["ok"] === true
      const error = typeof res["error"] === "string" ? res["error"] : undefined
      if (!ok && error === undefined) return undefined
      const active = byCall.get(callID)
      if (!ok && !active) return undefined // an error with no stage open: nothing ran

      const last = readFoundryState(ctx.root, "last-stage.json", LastStageSchema)
      const matches = last && (!active || (last.cycle === active.cycle && last.stage === active.stage && (!active.baseSha || last.baseSha === active.baseSha)))
      const lastUsed = matches ? last : undefined
      const cycle = active?.cycle ?? lastUsed?.cycle
      const stage = active?.stage ?? lastUsed?.stage
      if (!cycle || !stage) return undefined
      const baseSha = active?.baseSha ?? lastUsed?.baseSha
      const summary = lastUsed?.summary ?? (typeof res["summary"] === "string" ? res["summary"] : undefined)

      const sig = `${runKey(cycle, stage, baseSha)}|${summary ?? ""}`
      const fromBegin = begun.get(runKey(cycle, stage, baseSha))
      const marker = markerOf(active) ?? markers.get(sig) ?? markerOf(fromBegin) ?? `summary:${summary ?? ""}`
      remember(markers, sig, marker)
      const source = active ?? fromBegin

      const { pin, pinError } = pinOf(cycle)
      if (!pin && !pinError && !options.exportUnpinned) return undefined
      const tokenHash = source?.tokenHash ?? undefined
      const observed = observeWorkTree(ctx.root)
      const r = exportStageRun(ctx.root, {
        cycle,
        stage,
        pin,
        pinError,
        marker,
        flow: observed.work.work?.flow,
        summary,
        baseSha,
        tokenHash: tokenHash && /^[0-9a-f]{64}$/.test(tokenHash) ? tokenHash : undefined,
        startedAt: source?.startedAt,
        foundryVersion: ctx.project.version(),
        session: observed.session,
        feedback: observed.feedback ?? null,
        outcome: ok ? "ok" : "error",
        error,
      })
      const warning = [...observed.warnings, ...(r.warning ? [r.warning] : [])].join("; ")
      if (warning) log("warn", `run record for ${cycle} / ${stage}: ${warning}`)
      return r
    },
  }
}
