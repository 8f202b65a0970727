/** Check every pin in `foundry/cycles` and `foundry/flows`: the CI gate (`opencode-alloy verify`). */
import { readPinBlock, type LocatedPin } from "../core/pin.js"
import type { AlloyContext } from "./context.js"
import { strayTemps } from "../store/atomic.js"
import { foundryVersionWarning } from "../foundry/compat.js"
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
      const err = inPinContext(e, pin ?? { source: { kind, id, file } })
      pins.push({
        kind,
        id,
        file,
        ...(pin ? { brief_id: pin.brief_id, digest: pin.digest } : {}),
        status: "error",
        code: err.code,
        message: err.describe(),
        ...(err.fix ? { fix: err.fix } : {}),
      })
    }
  }
  const warnings: string[] = []
  const versionWarning = foundryVersionWarning(ctx.project.version())
  if (versionWarning) warnings.push(versionWarning)
  checkFormations(ctx, pins, warnings)
  for (const dir of ["foundry/cycles", "foundry/flows"]) {
    for (const n of strayTemps(ctx.project.abs(dir))) {
      warnings.push(`${dir}/${n} is a temp file left by an interrupted write; delete it (Foundry's finish refuses untracked foundry/** files)`)
    }
  }
  const failed = pins.filter((p) => p.status === "error").length
  const stale = pins.filter((p) => p.status === "stale").length
  return { ok: failed === 0 && (!opts.strict || stale === 0), checked: pins.length, failed, stale, unpinned, pins, warnings }
}

/**
 * A pin is *missing* when a brief's recipe names a cycle in its formation and that cycle carries
 * no pin (of its own or through a flow): e.g. a config rebuild dropped the `alloy` block. That
 * is a failure. A cycle pinned to another brief, or a formation naming a cycle that does not
 * exist, is a warning.
 */
function checkFormations(ctx: AlloyContext, pins: PinCheck[], warnings: string[]): void {
  const known = new Set(ctx.project.listCycleIds())
  const failedAlready = new Set(pins.filter((p) => p.status === "error" && p.kind === "cycle").map((p) => p.id))
  for (const briefId of ctx.store.listRecipeIds()) {
    let cycles: string[]
    let recipeFile: string
    try {
      const r = ctx.store.readRecipe(briefId)
      cycles = r.value.formation.cycles
      recipeFile = r.file
    } catch {
      continue // a broken recipe is `intent lint`'s to report
    }
    for (const cycle of cycles) {
      if (!known.has(cycle)) {
        warnings.push(`brief ${briefId} (${recipeFile}) names cycle ${cycle} in its formation, but foundry/cycles/${cycle}.md does not exist`)
        continue
      }
      if (failedAlready.has(cycle)) continue
      let pin: LocatedPin | undefined
      try {
        pin = ctx.project.pinForCycle(cycle)
      } catch {
        continue // reported with the flow or cycle it comes from
      }
      const file = ctx.project.cycleRel(cycle)
      if (!pin) {
        pins.push({
          kind: "cycle",
          id: cycle,
          file,
          brief_id: briefId,
          status: "error",
          code: "not_pinned",
          message: `cycle ${cycle} (${file}) is in the formation of brief ${briefId} (${recipeFile}) but carries no \`alloy\` pin, so its stages would run without the brief`,
          fix: `opencode-alloy pin ${cycle} ${briefId} (or remove the cycle from the brief's formation)`,
        })
        failedAlready.add(cycle)
      } else if (pin.brief_id !== briefId) {
        warnings.push(`cycle ${cycle} is in the formation of brief ${briefId} but pins brief ${pin.brief_id}`)
      }
    }
  }
}
