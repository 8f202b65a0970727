/** Lint over the project: intents and brief recipes together (what `intent lint` and builds report). */
import { AlloyError } from "../core/errors.js"
import { assertSlug } from "../core/ids.js"
import type { Intent } from "../core/intent.js"
import type { Recipe } from "../core/recipe.js"
import { intentFilePath, lintBrief, lintIntent, recipeFilePath, type LintWarning } from "../core/lint.js"
import type { AlloyContext } from "./context.js"

import { errInfo, readRecipesLoose } from "./util.js"
import { readIntent } from "./intents.js"

export interface LintEntry {
  readonly kind: "intent" | "brief"
  readonly id: string
  readonly file: string
  readonly warnings: LintWarning[]
  /** the record could not be read at all (invalid) */
  readonly error?: { code: string; message: string; details?: ReadonlyArray<{ path?: string; message: string }> }
}

export interface LintReport {
  readonly entries: LintEntry[]
  readonly warnings: number
  readonly errors: number
  /** true when nothing is invalid (and, with `strict`, nothing warns) */
  readonly ok: boolean
}

/** Formation names that do not exist in `foundry/` (the pure lint cannot see the project). */
function formationWarnings(ctx: AlloyContext, recipe: Recipe, file: string): LintWarning[] {
  if (!ctx.project.isFoundryProject()) return []
  const out: LintWarning[] = []
  const cycles = new Set(ctx.project.listCycleIds())
  recipe.formation.cycles.forEach((c, n) => {
    if (!cycles.has(c)) {
      out.push({
        code: "formation_unknown",
        severity: "warning",
        file,
        path: `formation.cycles[${n}]`,
        message: `brief ${recipe.id} names cycle ${c}, which is not in foundry/cycles/`,
        fix: `check the id; known cycles: ${[...cycles].join(", ") || "none"}`,
      })
    }
  })
  if (recipe.formation.flow && !ctx.project.listFlowIds().includes(recipe.formation.flow)) {
    out.push({
      code: "formation_unknown",
      severity: "warning",
      file,
      path: "formation.flow",
      message: `brief ${recipe.id} names flow ${recipe.formation.flow}, which is not in foundry/flows/`,
      fix: `check the id; known flows: ${ctx.project.listFlowIds().join(", ") || "none"}`,
    })
  }
  return out
}

/** Lint warnings for one brief: the brief itself and each of its intents. Throws when the recipe cannot be read. */
export function lintBriefSources(ctx: AlloyContext, briefId: string): { warnings: LintWarning[]; recipe: Recipe; intents: Intent[] } {
  const r = ctx.store.readRecipe(assertSlug(briefId, "brief id"))
  const intents: Intent[] = []
  for (const id of r.value.intents) {
    try {
      intents.push(readIntent(ctx, id).value)
    } catch (e) {
      if (e instanceof AlloyError && e.code === "intent_not_found") continue // reported by lintBrief
      throw e
    }
  }
  const warnings = [...lintBrief(r.value, intents, { file: r.file }), ...formationWarnings(ctx, r.value, r.file), ...intents.flatMap((i) => lintIntent(i))]
  return { warnings, recipe: r.value, intents }
}

/**
 * Lint intents (the given ids, or all) and the briefs that use them (or all briefs when no
 * ids are given). Invalid records are errors; `strict` makes warnings fail too.
 */
export function lintProject(ctx: AlloyContext, opts: { ids?: readonly string[]; strict?: boolean } = {}): LintReport {
  ctx.store.requireInit()
  const ids = opts.ids?.length ? opts.ids.map((i) => assertSlug(i, "intent id")) : ctx.store.listIntentIds()
  const entries: LintEntry[] = []
  for (const id of ids) {
    const file = intentFilePath(id)
    try {
      const r = readIntent(ctx, id)
      entries.push({ kind: "intent", id, file, warnings: lintIntent(r.value, { file }) })
    } catch (e) {
      entries.push({ kind: "intent", id, file, warnings: [], error: errInfo(e) })
    }
  }
  const filter = opts.ids?.length ? new Set(ids) : undefined
  for (const r of readRecipesLoose(ctx)) {
    const file = recipeFilePath(r.id)
    if (!r.recipe) {
      if (!filter) entries.push({ kind: "brief", id: r.id, file, warnings: [], error: r.error! })
      continue
    }
    if (filter && !r.recipe.intents.some((i) => filter.has(i))) continue
    const intents: Intent[] = []
    for (const iid of r.recipe.intents) {
      try {
        intents.push(readIntent(ctx, iid).value)
      } catch {
        /* invalid or missing intents are reported on their own */
      }
    }
    entries.push({ kind: "brief", id: r.id, file, warnings: [...lintBrief(r.recipe, intents, { file }), ...formationWarnings(ctx, r.recipe, file)] })
  }
  const warnings = entries.reduce((n, e) => n + e.warnings.filter((w) => w.severity === "warning").length, 0)
  const errors = entries.filter((e) => e.error).length
  return { entries, warnings, errors, ok: errors === 0 && (!opts.strict || warnings === 0) }
}

