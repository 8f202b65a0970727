/**
 * Live equals imported. In Foundry 3.6, quench and appraise run inside `foundry_orchestrate` (quench
 * inline, appraisers consolidated) and never call `foundry_stage_end`; only the WORK files and the
 * stage commit show them. After every `foundry_orchestrate` result, the hook reads the work tree's WORK
 * files with the same reader and the same record rules `import` uses, so at every point of a run the
 * live records (and so the verdicts) are the ones an import would give. Keys are the import's, so a
 * later import adds nothing.
 *
 * Foundry's own end states emit events: `done` -> `cycle_done`, `blocked` -> `cycle_blocked`,
 * `violation` -> `violation`; on them the closing record of the cycle run is written too.
 */
import { statSync } from "node:fs"
import path from "node:path"
import type { AlloyContext } from "../service/context.js"
import { appendEvent } from "../store/outbox.js"
import { importWorktree } from "./import.js"

/** largest rewritten appraiser dispatch read back for the gates it showed */
const MAX_PARSED = 8 * 1024 * 1024

type Logger = (level: "warn" | "info", message: string) => void

const TERMINAL: Record<string, "cycle_done" | "cycle_blocked" | "violation"> = { done: "cycle_done", blocked: "cycle_blocked", violation: "violation" }

export interface LiveRecorder {
  /** after `foundry_orchestrate`, with Foundry's own result text and what Alloy made of it (the prompts sent on) */
  afterOrchestrate(text: string, sent?: string): void
}

function stampOf(root: string): string {
  return ["WORK.history.yaml", "WORK.feedback.yaml"]
    .map((f) => {
      try {
        const st = statSync(path.join(root, f))
        return `${st.size}:${st.mtimeMs}:${st.ino}`
      } catch {
        return "-"
      }
    })
    .join("|")
}

export function createLiveRecorder(ctx: AlloyContext, opts: { exportUnpinned: boolean }, log: Logger): LiveRecorder {
  let last = ""
  /** appraiser dispatches this process sent on: cycle/stage -> [time, law ids shown to every task] */
  const shown = new Map<string, Array<{ at: number; laws: string[] }>>()
  const presented = (cycle: string, stage: string): string[] | undefined => {
    const list = shown.get(`${cycle} ${stage}`) ?? []
    return list.length ? list[list.length - 1]!.laws : undefined
  }
  return {
    afterOrchestrate(text, sent) {
      rememberShown(sent, shown)
      if (typeof text !== "string" || text.charCodeAt(0) !== 123 /* { */) return
      // Foundry emits `action` first; only the small end states are parsed (a dispatch may carry a 50 MB prompt)
      const action = /^\{\s*"action"\s*:\s*"(\w+)"/.exec(text.slice(0, 64))?.[1]
      const terminal = action ? TERMINAL[action] : undefined
      let result: Record<string, unknown> = {}
      if (terminal) {
        try {
          const v: unknown = JSON.parse(text)
          if (v && typeof v === "object" && !Array.isArray(v)) result = v as Record<string, unknown>
        } catch {
          return
        }
      }
      if (!ctx.store.exists() && !opts.exportUnpinned) return
      // nothing finalised since the last look: no new history, no new feedback (one stat per file)
      const stamp = stampOf(ctx.root)
      if (stamp === last && !terminal) return
      last = stamp
      const work = ctx.project.readWork()
      const r = importWorktree(ctx, { live: true, closing: terminal !== undefined, pinnedOnly: !opts.exportUnpinned, presented })
      for (const w of r.warnings) log("warn", `live record of ${work?.cycle ?? "the cycle"}: ${w}`)
      if (terminal) {
        const cycle = typeof result["cycle"] === "string" ? result["cycle"] : work?.cycle
        const reason = typeof result["reason"] === "string" ? result["reason"] : typeof result["details"] === "string" ? result["details"] : undefined
        let pin: { brief_id: string; digest: string } | null = null
        try {
          const p = cycle ? ctx.project.pinForCycleCached(cycle) : undefined
          pin = p ? { brief_id: p.brief_id, digest: p.digest } : null
        } catch {
          pin = null
        }
        if (!pin && !opts.exportUnpinned) return
        appendEvent(ctx.root, { kind: terminal, ...(cycle ? { cycle } : {}), pin, ...(reason ? { reason: reason.slice(0, 2000) } : {}) })
      }
    },
  }
}

/** Remember the law ids Alloy put into an appraiser dispatch it sent on (`alloy.laws` of a rewritten `dispatch_multi`). */
function rememberShown(sent: string | undefined, shown: Map<string, Array<{ at: number; laws: string[] }>>): void {
  if (typeof sent !== "string" || sent.length > MAX_PARSED || !sent.slice(0, 64).includes('"dispatch_multi"')) return
  let v: unknown
  try {
    v = JSON.parse(sent)
  } catch {
    return
  }
  const r = v as { action?: unknown; cycle?: unknown; stage?: unknown; alloy?: { laws?: unknown } }
  if (r.action !== "dispatch_multi" || typeof r.stage !== "string" || !Array.isArray(r.alloy?.laws)) return
  const cycle = typeof r.cycle === "string" ? r.cycle : (r.stage.split(":")[1] ?? "")
  const laws = r.alloy.laws.filter((l): l is string => typeof l === "string")
  const k = `${cycle} ${r.stage}`
  const list = shown.get(k) ?? []
  list.push({ at: Date.now(), laws })
  if (list.length > 64) list.shift()
  shown.set(k, list)
  if (shown.size > 256) shown.delete(shown.keys().next().value!)
}
