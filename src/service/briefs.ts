/** Brief recipes for the CLI and the agent tools: write or update a recipe, build with lint, pin with verification. */
import { isDeepStrictEqual } from "node:util"
import { AlloyError } from "../core/errors.js"
import { assertDigest, assertFoundryId, assertSlug } from "../core/ids.js"
import { validateRecipe, type Recipe } from "../core/recipe.js"
import { failsStrict, intentFilePath, recipeFilePath, type LintWarning } from "../core/lint.js"
import { readPinBlock } from "../core/pin.js"
import type { AlloyContext } from "./context.js"
import { assertNotOnFlowBranch } from "./guard.js"
import { buildBrief, computeBuild, type BuildResult } from "./build.js"
import { pinBrief, type PinResult } from "./pin.js"
import { resolvePin } from "./resolve.js"

import { clean, ensureInit, isObj, type Json } from "./util.js"
import { lintBriefSources } from "./lint-project.js"

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
  const data: Json = existing
    ? { id, ...(existing.title ? { title: existing.title } : {}), intents: existing.intents, formation: { ...existing.formation }, stages: { ...existing.stages } }
    : { id }
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
  const body = typeof input.notes === "string" ? input.notes : existing?.body ?? ""
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
    throw new AlloyError(onlyIntents ? "intent_not_found" : "invalid_recipe", `brief ${id} names things that do not exist; nothing was written:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`, {
      file,
      details: problems,
      fix: onlyIntents ? "create the intents first (`opencode-alloy intent new <id>` or `alloy_intent_create`)" : "check the ids against foundry/cycles/ and foundry/flows/",
    })
  }
  if (existing && isDeepStrictEqual({ ...existing }, { ...recipe })) {
    return { recipe, file, created: false, changed: false, initialised: [] }
  }
  const initialised = ensureInit(ctx)
  const w = ctx.store.writeRecipe(recipe, existing ? "replace" : "create")
  return { recipe, file: w.file, created: !existing, changed: true, initialised }
}

export interface CheckedBuild {
  readonly brief_id: string
  readonly digest: string
  readonly previous: string | undefined
  readonly changed: boolean
  readonly dry_run: boolean
  /** set when something was written */
  readonly object?: string
  readonly ref?: string
  readonly created?: boolean
  readonly warnings: LintWarning[]
  readonly sources: ReadonlyArray<{ kind: string; id: string; digest: string }>
  readonly result?: BuildResult
}

/**
 * Build a brief after linting it. With `strict`, any warning fails with `lint_failed` and
 * nothing is written; with `dryRun`, the digest is computed and nothing is written.
 */
export function buildChecked(ctx: AlloyContext, briefIdIn: unknown, opts: { strict?: boolean; dryRun?: boolean } = {}): CheckedBuild {
  const briefId = assertSlug(briefIdIn, "brief id")
  if (!opts.dryRun) assertNotOnFlowBranch(ctx, `build brief ${briefId}`)
  ctx.store.requireInit()
  const { warnings } = lintBriefSources(ctx, briefId)
  if (opts.strict && failsStrict(warnings)) {
    const list = warnings.filter((w) => w.severity === "warning")
    throw new AlloyError("lint_failed", `brief ${briefId} has ${list.length} lint warning${list.length === 1 ? "" : "s"} and --strict is set; nothing was written:\n${list.map((w) => `  - ${[w.file, w.path].filter(Boolean).join(" ")}: ${w.message}`).join("\n")}`, {
      details: list.map((w) => ({ path: [w.file, w.path].filter(Boolean).join(" "), message: `[${w.code}] ${w.message}` })),
      fix: "fix the warnings listed (see `opencode-alloy intent lint`), or build without --strict",
    })
  }
  if (opts.dryRun) {
    const out = computeBuild(ctx, briefId)
    const previous = ctx.store.readRef(briefId)
    return { brief_id: briefId, digest: out.digest, previous, changed: previous !== out.digest, dry_run: true, warnings, sources: out.bundle.sources }
  }
  const r = buildBrief(ctx, briefId)
  return {
    brief_id: briefId,
    digest: r.digest,
    previous: r.previous,
    changed: r.changed,
    dry_run: false,
    object: r.object,
    ref: r.ref,
    created: r.created,
    warnings,
    sources: r.output.bundle.sources,
    result: r,
  }
}

/**
 * Pin a brief and prove the pin resolves. Without `cycle`/`flow`, the brief's own formation
 * decides: its single cycle, else its flow.
 */
export function pinChecked(ctx: AlloyContext, opts: { brief_id: unknown; cycle?: unknown; flow?: unknown; digest?: unknown }): PinResult & { verified: true; object: string; note?: string } {
  const briefId = assertSlug(opts.brief_id, "brief id")
  assertNotOnFlowBranch(ctx, `pin brief ${briefId}`)
  const given = (v: unknown) => v !== undefined && v !== null && v !== ""
  if (given(opts.cycle) && given(opts.flow)) throw new AlloyError("usage", "give either `cycle` or `flow`, not both")
  let target: { cycle?: string; flow?: string }
  if (given(opts.cycle)) target = { cycle: assertFoundryId(opts.cycle, "cycle id") }
  else if (given(opts.flow)) target = { flow: assertFoundryId(opts.flow, "flow id") }
  else {
    const recipe = ctx.store.exists() && ctx.store.hasRecipe(briefId) ? ctx.store.readRecipe(briefId).value : undefined
    const cycles = recipe?.formation.cycles ?? []
    if (cycles.length === 1) target = { cycle: cycles[0]! }
    else if (recipe?.formation.flow && cycles.length === 0) target = { flow: recipe.formation.flow }
    else {
      throw new AlloyError("usage", `say where to pin brief ${briefId}: a \`cycle\` or a \`flow\`${cycles.length > 1 ? ` (its formation lists ${cycles.join(", ")})` : ""}`, {
        fix: `e.g. \`opencode-alloy pin <cycle-id> ${briefId}\``,
      })
    }
  }
  const digest = given(opts.digest) ? assertDigest(opts.digest) : undefined
  const r = pinBrief(ctx, { ...target, brief_id: briefId, ...(digest ? { digest } : {}) })
  // read it back from the file, the way the hooks will
  const kind = r.target.kind
  const def = kind === "flow" ? ctx.project.readFlow(r.target.id) : ctx.project.readCycle(r.target.id)
  const pin = readPinBlock(def.data, def.file, { kind, id: r.target.id })
  if (!pin || pin.digest !== r.digest) throw new AlloyError("malformed", `${def.file}: the pin did not read back after writing`, { file: def.file })
  const resolved = resolvePin(ctx, { ...pin, source: { kind, id: r.target.id, file: def.file } })
  const recipe = ctx.store.hasRecipe(briefId) ? ctx.store.readRecipe(briefId).value : undefined
  const outside =
    recipe && kind === "cycle" && recipe.formation.cycles.length > 0 && !recipe.formation.cycles.includes(r.target.id)
      ? `cycle ${r.target.id} is not in brief ${briefId}'s formation (${recipe.formation.cycles.join(", ")})`
      : undefined
  return { ...r, verified: true, object: resolved.objectFile, ...(outside ? { note: outside } : {}) }
}

