/** The project status: intents, briefs, current digests, which cycles pin them and whether those pins are behind. */
import { AlloyError } from "../core/errors.js"
import { recipeFilePath } from "../core/lint.js"
import { readPinBlock } from "../core/pin.js"
import type { AlloyContext } from "./context.js"
import { computeBuild } from "./build.js"
import { resolvePin } from "./resolve.js"

import { errInfo, isObj } from "./util.js"
import { listIntents, type IntentSummary } from "./intents.js"

export type PinState = "current" | "behind" | "unbuilt" | "broken"

export interface PinStatus {
  readonly kind: "cycle" | "flow"
  readonly id: string
  readonly file: string
  readonly brief_id: string
  readonly digest: string
  /** current: equals the brief's ref; behind: the brief was built again since; unbuilt: the brief has no ref; broken: does not verify */
  readonly state: PinState
  /** for flow pins: the flow's cycles without a pin of their own, which the flow pin covers */
  readonly covers?: string[]
  readonly error?: { code: string; message: string; fix?: string }
}

export interface BriefStatus {
  readonly id: string
  readonly file: string
  readonly title?: string
  readonly intents: string[]
  readonly formation?: { flow?: string; cycles: string[] }
  /** the digest the ref names (the current build), if built */
  readonly digest?: string
  /** the digest a build would give now */
  readonly source_digest?: string
  /** the sources changed since the last build (or it was never built) */
  readonly needs_build: boolean
  /** cycles (and flows) whose pin names this brief */
  readonly pins: PinStatus[]
  readonly error?: { code: string; message: string }
}

export interface ProjectStatus {
  readonly root_initialised: boolean
  readonly branch?: string
  readonly flow_branch?: string
  readonly foundry_version?: string
  readonly intents: IntentSummary[]
  readonly briefs: BriefStatus[]
  /** pins naming a brief that has no recipe here */
  readonly orphan_pins: PinStatus[]
  readonly unpinned_cycles: string[]
}

function readPins(ctx: AlloyContext): { pins: PinStatus[]; unpinned: string[] } {
  const pins: PinStatus[] = []
  const ownPinned = new Set<string>()
  const cycles = ctx.project.listCycleIds()
  const flows = ctx.project.listFlowIds()
  const check = (kind: "cycle" | "flow", id: string) => {
    const file = kind === "cycle" ? ctx.project.cycleRel(id) : ctx.project.flowRel(id)
    let pin
    try {
      const def = kind === "cycle" ? ctx.project.readCycle(id) : ctx.project.readFlow(id)
      pin = readPinBlock(def.data, def.file, { kind, id })
    } catch (e) {
      const err = e instanceof AlloyError ? e : new AlloyError("io_error", String(e))
      const raw = (() => {
        try {
          const d = (kind === "cycle" ? ctx.project.readCycle(id) : ctx.project.readFlow(id)).data["alloy"]
          return isObj(d) ? d : undefined
        } catch {
          return undefined
        }
      })()
      if (kind === "cycle") ownPinned.add(id)
      pins.push({
        kind,
        id,
        file,
        brief_id: typeof raw?.["brief_id"] === "string" ? (raw["brief_id"] as string) : "",
        digest: typeof raw?.["digest"] === "string" ? (raw["digest"] as string) : "",
        state: "broken",
        error: { code: err.code, message: err.describe(), ...(err.fix ? { fix: err.fix } : {}) },
      })
      return
    }
    if (!pin) return
    if (kind === "cycle") ownPinned.add(id)
    let ref: string | undefined
    try {
      ref = ctx.store.exists() ? ctx.store.readRef(pin.brief_id) : undefined
    } catch {
      ref = undefined
    }
    let state: PinState = ref === undefined ? "unbuilt" : ref === pin.digest ? "current" : "behind"
    let error: PinStatus["error"]
    try {
      resolvePin(ctx, { ...pin, source: { kind, id, file } })
    } catch (e) {
      const err = e instanceof AlloyError ? e : new AlloyError("io_error", String(e))
      state = "broken"
      error = { code: err.code, message: err.describe(), ...(err.fix ? { fix: err.fix } : {}) }
    }
    pins.push({ kind, id, file, brief_id: pin.brief_id, digest: pin.digest, state, ...(error ? { error } : {}) })
  }
  for (const c of cycles) check("cycle", c)
  for (const f of flows) check("flow", f)
  for (let i = 0; i < pins.length; i++) {
    const p = pins[i]!
    if (p.kind !== "flow") continue
    let covers: string[] = []
    try {
      covers = ctx.project.cyclesOfFlow(p.id).filter((c) => !ownPinned.has(c))
    } catch {
      covers = []
    }
    pins[i] = { ...p, covers }
  }
  const covered = new Set(pins.flatMap((p) => p.covers ?? []))
  return { pins, unpinned: cycles.filter((c) => !ownPinned.has(c) && !covered.has(c)) }
}

/** Intents, briefs with their current digests, and every pin with its state. Read-only. */
export function projectStatus(ctx: AlloyContext): ProjectStatus {
  const initialised = ctx.store.exists()
  const { pins, unpinned } = ctx.project.isFoundryProject() ? readPins(ctx) : { pins: [], unpinned: [] }
  const branch = ctx.project.currentBranch()
  const flowBranch = ctx.project.onFlowBranch()
  const version = ctx.project.version()
  const briefs: BriefStatus[] = []
  const seen = new Set<string>()
  if (initialised) {
    const ids = [...new Set([...ctx.store.listRecipeIds(), ...ctx.store.listRefIds()])].sort()
    for (const id of ids) {
      seen.add(id)
      const file = recipeFilePath(id)
      const briefPins = pins.filter((p) => p.brief_id === id)
      let digest: string | undefined
      try {
        digest = ctx.store.readRef(id)
      } catch {
        digest = undefined
      }
      if (!ctx.store.hasRecipe(id)) {
        briefs.push({ id, file, intents: [], ...(digest ? { digest } : {}), needs_build: false, pins: briefPins, error: { code: "brief_not_found", message: `brief ${id} has a ref but no recipe (${file})` } })
        continue
      }
      try {
        const r = ctx.store.readRecipe(id).value
        let source: string | undefined
        let error: BriefStatus["error"]
        try {
          source = computeBuild(ctx, id).digest
        } catch (e) {
          error = errInfo(e)
        }
        briefs.push({
          id,
          file,
          ...(r.title ? { title: r.title } : {}),
          intents: r.intents,
          formation: { ...(r.formation.flow ? { flow: r.formation.flow } : {}), cycles: r.formation.cycles },
          ...(digest ? { digest } : {}),
          ...(source ? { source_digest: source } : {}),
          needs_build: source === undefined ? false : source !== digest,
          pins: briefPins,
          ...(error ? { error } : {}),
        })
      } catch (e) {
        briefs.push({ id, file, intents: [], ...(digest ? { digest } : {}), needs_build: false, pins: briefPins, error: errInfo(e) })
      }
    }
  }
  return {
    root_initialised: initialised,
    ...(branch ? { branch } : {}),
    ...(flowBranch ? { flow_branch: flowBranch } : {}),
    ...(version ? { foundry_version: version } : {}),
    intents: listIntents(ctx),
    briefs,
    orphan_pins: pins.filter((p) => !seen.has(p.brief_id)),
    unpinned_cycles: unpinned,
  }
}

