/**
 * The edges between a scoped formation's cycles, read from Foundry's `targets`: what a build
 * records in its composition and what the pin scan compares with the files now. A module of its
 * own so that the scan (`verify`, `status`) does not load the build use case and, through its
 * lint, the run records.
 */
import { usesComposition } from "../core/build.js"
import type { Recipe } from "../core/recipe.js"
import type { AlloyContext } from "./context.js"

/** The edges between a scoped formation's cycles, from Foundry's `targets` (absent cycles have none). */
export function formationTargets(ctx: AlloyContext, recipe: Recipe): { targets?: Record<string, string[]> } {
  if (!usesComposition(recipe) || !ctx.project.isFoundryProject()) return {}
  const targets: Record<string, string[]> = {}
  for (const c of recipe.formation.cycles) {
    try {
      const t = ctx.project.readCycle(c).data["targets"]
      targets[c] = Array.isArray(t) ? t.filter((x): x is string => typeof x === "string") : []
    } catch {
      targets[c] = [] // a missing cycle is lint's and verify's to report
    }
  }
  return { targets }
}
