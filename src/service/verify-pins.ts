/** Check every pin in `foundry/cycles` and `foundry/flows`: the CI gate (`opencode-alloy verify`). */
import { AlloyError } from "../core/errors.js"
import { readPinBlock, type LocatedPin } from "../core/pin.js"
import type { AlloyContext } from "./context.js"
import { strayTemps } from "../store/atomic.js"
import { inPinContext, resolvePin } from "./resolve.js"

export interface PinCheck {
  readonly kind: "cycle" | "flow"
  readonly id: string
  readonly file: string
  readonly brief_id?: string
  readonly digest?: string
  readonly status: "ok" | "stale" | "error"
  readonly current?: string
  readonly code?: string
  readonly message?: string
  readonly fix?: string
}

export interface VerifyReport {
  readonly ok: boolean
  readonly checked: number
  readonly failed: number
  readonly stale: number
  readonly unpinned: string[]
  readonly pins: PinCheck[]
  /** problems that are not pin failures, e.g. temp files an interrupted write left in foundry/ */
  readonly warnings: string[]
}

export function verifyAllPins(ctx: AlloyContext, opts: { strict?: boolean } = {}): VerifyReport {
  const pins: PinCheck[] = []
  const unpinned: string[] = []
  const defs: Array<{ kind: "cycle" | "flow"; id: string }> = [
    ...ctx.project.listCycleIds().map((id) => ({ kind: "cycle" as const, id })),
    ...ctx.project.listFlowIds().map((id) => ({ kind: "flow" as const, id })),
  ]
  for (const { kind, id } of defs) {
    const file = kind === "cycle" ? ctx.project.cycleRel(id) : ctx.project.flowRel(id)
    let pin: LocatedPin | undefined
    try {
      const def = kind === "cycle" ? ctx.project.readCycle(id) : ctx.project.readFlow(id)
      const p = readPinBlock(def.data, def.file, { kind, id })
      if (!p) {
        if (kind === "cycle") unpinned.push(id)
        continue
      }
      pin = { ...p, source: { kind, id, file } }
      const r = resolvePin(ctx, pin)
      pins.push({ kind, id, file, brief_id: p.brief_id, digest: p.digest, status: r.stale ? "stale" : "ok", ...(r.current ? { current: r.current } : {}) })
    } catch (e) {
      const err = inPinContext(e instanceof AlloyError ? e : new AlloyError("io_error", String(e)), pin ?? { source: { kind, id, file } })
      pins.push({
        kind,
        id,
        file,
        ...(pin ? { brief_id: pin.brief_id, digest: pin.digest } : {}),
        status: "error",
        code: err.code,
        message: err.message,
        ...(err.fix ? { fix: err.fix } : {}),
      })
    }
  }
  const warnings: string[] = []
  for (const dir of ["foundry/cycles", "foundry/flows"]) {
    for (const n of strayTemps(ctx.project.abs(dir))) {
      warnings.push(`${dir}/${n} is a temp file left by an interrupted write; delete it (Foundry's finish refuses untracked foundry/** files)`)
    }
  }
  const failed = pins.filter((p) => p.status === "error").length
  const stale = pins.filter((p) => p.status === "stale").length
  return { ok: failed === 0 && (!opts.strict || stale === 0), checked: pins.length, failed, stale, unpinned, pins, warnings }
}
