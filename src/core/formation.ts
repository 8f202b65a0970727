/**
 * Formation composition (`alloy.formation/v1`): which criteria apply to which cycle of a
 * brief's formation, which gates prove them there, and the pack each stage of each cycle gets.
 * Pure. The hooks render from the bundle through `packFor` / `gatesFor`; evidence asks
 * `appliesTo` whether a cycle's result may count for a criterion.
 */
import { AlloyError } from "./errors.js"
import { FORMATION_TYPE, type Bundle, type BundleIntent, type Composition, type Gate } from "./bundle.js"
import { parseStage } from "./ids.js"
import type { Recipe } from "./recipe.js"
import { renderAppraisePack, renderAssayPack, renderForgePack, renderHumanPack, renderQuenchPack } from "./render.js"

/** The cycles each criterion applies to: its own scope, else its intent's, else every formation cycle. */
export function criterionCycles(recipe: Recipe, intents: readonly BundleIntent[]): Map<string, string[]> {
  const scope = recipe.formation.scope ?? {}
  const all = recipe.formation.cycles
  const out = new Map<string, string[]>()
  for (const i of intents) {
    for (const c of i.acceptance_criteria) out.set(c.ref, scope[c.ref] ?? scope[i.id] ?? all)
  }
  return out
}

/** Does this recipe use the composition fields (and so get a composition in its bundle)? */
export function usesComposition(recipe: Recipe): boolean {
  return recipe.formation.scope !== undefined || recipe.formation.allow_ungated !== undefined
}

/** An intent restricted to the criteria that apply to one cycle (undefined when nothing of it applies). */
function intentForCycle(i: BundleIntent, cycle: string, applies: ReadonlyMap<string, string[]>, scope: Readonly<Record<string, string[]>>): BundleIntent | undefined {
  const criteria = i.acceptance_criteria.filter((c) => applies.get(c.ref)?.includes(cycle))
  const whole = scope[i.id]
  const intentApplies = whole ? whole.includes(cycle) : criteria.length > 0 || i.acceptance_criteria.length === 0
  if (!intentApplies && criteria.length === 0) return undefined
  return { ...i, acceptance_criteria: criteria }
}

export interface CompositionInput {
  readonly recipe: Recipe
  readonly intents: readonly BundleIntent[]
  readonly gates: readonly Gate[]
  /** Foundry's `targets` per formation cycle, when the project was readable at build time */
  readonly targets?: Readonly<Record<string, readonly string[]>>
  readonly notes: (stage: string) => string | undefined
  readonly briefNotes: string
}

/**
 * Derive the composition. A criterion is gated when it has evidence and applies to at least
 * one cycle of the formation; an ungated criterion fails the build unless the recipe sets
 * `formation.allow_ungated: true` (then the bundle lists it in `ungated`).
 */
export function deriveComposition(input: CompositionInput): Composition {
  const { recipe, intents, gates } = input
  const applies = criterionCycles(recipe, intents)
  const scope = recipe.formation.scope ?? {}
  const cycles = recipe.formation.cycles
  const ungated: string[] = []
  for (const i of intents) {
    for (const c of i.acceptance_criteria) {
      if (c.evidence.length === 0 || (applies.get(c.ref) ?? []).length === 0) ungated.push(c.ref)
    }
  }
  const allow = recipe.formation.allow_ungated === true
  if (ungated.length && !allow) {
    throw new AlloyError("ungated", `brief ${recipe.id}: ${ungated.length} acceptance criteri${ungated.length === 1 ? "on has" : "a have"} no gate in the formation, so nothing could prove ${ungated.length === 1 ? "it" : "them"}: ${ungated.join(", ")}`, {
      details: ungated.map((r) => ({ path: r, message: "no evidence, or applies to no cycle of the formation" })),
      fix: "give each criterion evidence and scope it to a formation cycle (formation.scope), or set `formation.allow_ungated: true` in the recipe (shown in the bundle)",
    })
  }
  const inFormation = new Set(cycles)
  return {
    $type: FORMATION_TYPE,
    cycles: cycles.map((id) => {
      const mine = intents.map((i) => intentForCycle(i, id, applies, scope)).filter((i): i is BundleIntent => i !== undefined)
      const refs = new Set(mine.flatMap((i) => i.acceptance_criteria.map((c) => c.ref)))
      const cycleGates = gates.filter((g) => refs.has(g.criterion))
      return {
        id,
        targets: [...new Set(input.targets?.[id] ?? [])].filter((t) => inFormation.has(t)).sort(),
        criteria: [...refs],
        gates: cycleGates.map((g) => g.id),
        packs: {
          forge: { text: renderForgePack(mine, input.notes("forge"), input.briefNotes) },
          quench: { text: renderQuenchPack(cycleGates, input.notes("quench")) },
          appraise: { text: renderAppraisePack(cycleGates, input.notes("appraise")) },
          "human-appraise": { text: renderHumanPack(cycleGates, input.notes("human-appraise"), mine) },
          assay: { text: renderAssayPack(mine, input.notes("assay")) },
        },
      }
    }),
    ungated,
    allow_ungated: allow,
  }
}

function cycleEntry(bundle: Bundle, cycle: string | undefined): Composition["cycles"][number] | undefined {
  if (!bundle.composition || cycle === undefined) return undefined
  return bundle.composition.cycles.find((c) => c.id === cycle)
}

/**
 * Does a criterion apply to a cycle? Without a composition, every criterion applies to every
 * cycle (old recipes). With one, only the cycles it is scoped to: evidence from any other
 * cycle (or from a cycle outside the formation) never counts for it.
 */
export function appliesTo(bundle: Bundle, criterion: string, cycle: string): boolean {
  if (!bundle.composition) return true
  return cycleEntry(bundle, cycle)?.criteria.includes(criterion) ?? false
}

/**
 * The pack text a stage of a cycle gets: the cycle's own pack when the bundle has a
 * composition (else the brief's pack for the stage), then the notes written for this exact
 * `<base>:<alias>` (if any). A cycle outside a composed formation gets the brief's pack.
 */
export function packFor(bundle: Bundle, cycle: string | undefined, stage: string): { key: string; text: string } {
  const s = parseStage(stage)
  const own = cycleEntry(bundle, cycle)?.packs[s.base as keyof Composition["cycles"][number]["packs"]]
  const base = own?.text ?? bundle.packs[s.base]?.text ?? ""
  const specific = s.alias !== undefined ? bundle.packs[`${s.base}:${s.alias}`]?.text : undefined
  return { key: specific !== undefined ? `${s.base}:${s.alias}` : s.base, text: specific ? `${base}\n\n**Notes for ${s.raw}**\n\n${specific}` : base }
}

/** The gates that apply in a cycle (all of the brief's without a composition), at a stage if given. */
export function gatesFor(bundle: Bundle, cycle: string | undefined, stage?: string): Gate[] {
  const entry = cycleEntry(bundle, cycle)
  const ids = entry ? new Set(entry.gates) : undefined
  const inCycle = ids ? bundle.overlay.gates.filter((g) => ids.has(g.id)) : bundle.overlay.gates
  if (stage === undefined) return inCycle
  const s = parseStage(stage)
  if (s.base === "forge" || s.base === "assay") return inCycle
  return inCycle.filter((g) => g.stage === s.base)
}
