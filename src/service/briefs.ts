/** Brief recipes for the CLI and the agent tools: write or update a recipe (building is service/build.ts, pinning service/pin.ts). */
import { isDeepStrictEqual } from "node:util"
import { AlloyError } from "../core/errors.js"
import { assertSlug } from "../core/ids.js"
import { validateRecipe, type Recipe } from "../core/recipe.js"
import { intentFilePath, recipeFilePath } from "../core/lint.js"
import type { AlloyContext } from "./context.js"
import { assertNotOnFlowBranch } from "./guard.js"

import { clean, ensureInit, isObj, type Json } from "./util.js"

export interface BriefInput {
  readonly id: unknown
  readonly intents?: unknown
  readonly cycles?: unknown
  readonly flow?: unknown
  readonly title?: unknown
  /** notes per stage: `{forge: "...", "appraise": "..."}` */
  readonly stages?: unknown
  /** Markdown notes for the whole brief (the recipe's body) */
  readonly notes?: unknown
}

/**
 * Write a brief recipe. `mode: "create"` refuses an existing one; `"upsert"` merges the given
 * fields into an existing recipe (fields not given stay) or creates it. Intents must exist;
 * cycles and the flow must exist in `foundry/` when this is a Foundry project.
 */
export function saveBrief(ctx: AlloyContext, input: BriefInput, mode: "create" | "upsert"): { recipe: Recipe; file: string; created: boolean; changed: boolean; initialised: string[] } {
  const id = assertSlug(input.id, "brief id")
  assertNotOnFlowBranch(ctx, `write brief ${id}`)
  const file = recipeFilePath(id)
  let existing: Recipe | undefined
  if (ctx.store.exists() && ctx.store.hasRecipe(id)) {
    if (mode === "create") {
      throw new AlloyError("already_exists", `brief ${id} already exists (${file})`, { file, fix: "edit the file, or build it with `opencode-alloy brief build " + id + "`" })
    }
    existing = ctx.store.readRecipe(id).value
  }
  const data: Json = existing ? { id, ...(existing.title ? { title: existing.title } : {}), intents: existing.intents, formation: { ...existing.formation }, stages: { ...existing.stages } } : { id }
  if (input.title !== undefined && input.title !== null && input.title !== "") data["title"] = input.title
  if (input.intents !== undefined) data["intents"] = input.intents
  if (input.cycles !== undefined || input.flow !== undefined) {
    const formation = isObj(data["formation"]) ? { ...data["formation"] } : {}
    if (input.cycles !== undefined) formation["cycles"] = input.cycles
    if (input.flow !== undefined && input.flow !== null && input.flow !== "") formation["flow"] = input.flow
    data["formation"] = formation
  }
  if (input.stages !== undefined) data["stages"] = isObj(input.stages) && isObj(data["stages"]) ? { ...data["stages"], ...clean(input.stages) } : input.stages
  if (data["intents"] === undefined) {
    throw new AlloyError("invalid_recipe", `brief ${id} needs at least one intent`, {
      file,
      details: [{ path: "intents", message: "expected a list of intent ids" }],
      fix: `name the intents it is built from (\`--intent <id>\`, or \`intents: [...]\`)`,
    })
  }
  if (input.notes !== undefined && typeof input.notes !== "string") {
    throw new AlloyError("invalid_recipe", `${file}: notes must be Markdown text`, { file, details: [{ path: "notes", message: "expected text" }] })
  }
  const body = typeof input.notes === "string" ? input.notes : (existing?.body ?? "")
  const recipe = validateRecipe(data, body, file, id)

  // references must resolve: intents in .alloy/intents/, formation in foundry/
  const problems: Array<{ path: string; message: string }> = []
  recipe.intents.forEach((iid, n) => {
    if (!ctx.store.exists() || ctx.store.readBytes(ctx.store.intentFile(iid)) === undefined) {
      problems.push({ path: `intents[${n}]`, message: `intent ${iid} does not exist (${intentFilePath(iid)})` })
    }
  })
  if (ctx.project.isFoundryProject()) {
    const cycles = new Set(ctx.project.listCycleIds())
    recipe.formation.cycles.forEach((c, n) => {
      if (!cycles.has(c)) problems.push({ path: `formation.cycles[${n}]`, message: `cycle ${c} is not in foundry/cycles/ (known: ${[...cycles].join(", ") || "none"})` })
    })
    if (recipe.formation.flow && !ctx.project.listFlowIds().includes(recipe.formation.flow)) {
      problems.push({ path: "formation.flow", message: `flow ${recipe.formation.flow} is not in foundry/flows/ (known: ${ctx.project.listFlowIds().join(", ") || "none"})` })
    }
  }
  if (problems.length) {
    const onlyIntents = problems.every((p) => p.path.startsWith("intents"))
    throw new AlloyError(
      onlyIntents ? "intent_not_found" : "invalid_recipe",
      `brief ${id} names things that do not exist; nothing was written:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`,
      {
        file,
        details: problems,
        fix: onlyIntents ? "create the intents first (`opencode-alloy intent new <id>` or `alloy_intent_create`)" : "check the ids against foundry/cycles/ and foundry/flows/",
      },
    )
  }
  if (existing && isDeepStrictEqual({ ...existing }, { ...recipe })) {
    return { recipe, file, created: false, changed: false, initialised: [] }
  }
  const initialised = ensureInit(ctx)
  const w = ctx.store.writeRecipe(recipe, existing ? "replace" : "create")
  return { recipe, file: w.file, created: !existing, changed: true, initialised }
}
