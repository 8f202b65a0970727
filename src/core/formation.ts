/**
 * Formation composition (`alloy.formation/v1`) at run time: which criteria apply to which cycle
 * of a brief's formation (derived at build time, core/build.ts), and what each stage of a cycle
 * is given. Pure. The hooks render from the bundle through `packFor` / `gatesFor`; evidence asks
 * `appliesTo` whether a cycle's result may count for a criterion.
 */
import type { Bundle, BundleIntent, Composition, Gate } from "./bundle.js"
import { intentForCycle, renderBasePack } from "./build.js"
import { parseStage } from "./ids.js"
import { quote } from "./prompt-safety.js"

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

/**
 * The pack text a stage of a cycle gets, rendered again from the bundle's structured parts
 * through the prompt-safe renderer (never a stored text as it is): restricted to what applies to
 * the cycle when the bundle has a composition, then the notes written for this exact
 * `<base>:<alias>` (if any), quoted. A cycle outside a composed formation gets the whole brief.
 */
export function packFor(bundle: Bundle, cycle: string | undefined, stage: string): { key: string; text: string } {
  const s = parseStage(stage)
  const entry = cycleEntry(bundle, cycle)
  let scope: { intents: BundleIntent[]; gates: Gate[] } | undefined
  if (entry) {
    const refs = new Set(entry.criteria)
    const whole = (id: string) => (entry.criteria.some((r) => r.startsWith(`${id}#`)) ? undefined : [])
    scope = {
      intents: bundle.intents.map((i) => intentForCycle(i, entry.id, (r) => refs.has(r), whole(i.id))).filter((i): i is BundleIntent => i !== undefined),
      gates: gatesFor(bundle, entry.id),
    }
  }
  const base = renderBasePack(bundle, s.base, scope)
  const specific = s.alias !== undefined ? bundle.packs[`${s.base}:${s.alias}`]?.text : undefined
  return { key: specific !== undefined ? `${s.base}:${s.alias}` : s.base, text: specific ? `${base}\n\n**Notes for ${s.raw}**\n\n${quote(specific)}` : base }
}
