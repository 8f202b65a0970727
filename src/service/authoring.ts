/**
 * Authoring (issue #4): create, update and list intent records, write brief recipes, build with
 * lint, and the project status (intents, briefs, current digests, which cycles pin them and
 * whether those pins are behind). Shared by the CLI and the agent tools.
 *
 * Every write is refused on a Foundry flow branch (`work/*`, `dry-run/*\/*`), validates the whole
 * result before anything touches the disk, and is atomic. The first write creates `.alloy/`.
 */
import { isDeepStrictEqual } from "node:util"
import { AlloyError } from "../core/errors.js"
import { assertDigest, assertSlug, isSlug } from "../core/ids.js"
import { sourceDigest } from "../core/digest.js"
import { intentTemplate, nextCriterionId, parseIntent, readIntentSource, renderIntentFile, validateIntent, type Intent } from "../core/intent.js"
import { validateRecipe, type Recipe } from "../core/recipe.js"
import { failsStrict, intentFilePath, lintBrief, lintIntent, recipeFilePath, type LintWarning } from "../core/lint.js"
import { readPinBlock } from "../core/pin.js"
import type { AlloyContext } from "./context.js"
import { assertNotOnFlowBranch } from "./guard.js"
import { buildBrief, computeBuild, type BuildResult } from "./build.js"
import { pinBrief, type PinResult } from "./pin.js"
import { resolvePin } from "./resolve.js"
import { writeFileOnce } from "../store/atomic.js"

/** The list fields of an intent that `append`/`remove` patches address. */
export const INTENT_LIST_FIELDS = ["constraints", "non_goals", "tradeoffs", "open_questions", "links"] as const
export type IntentListField = (typeof INTENT_LIST_FIELDS)[number]

type Json = Record<string, unknown>

const isObj = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v)

/** Drop `undefined` members and empty optional strings an agent may send for "not given". */
function clean(v: Json, optional: readonly string[] = []): Json {
  const out: Json = {}
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue
    if ((x === null || x === "") && optional.includes(k)) continue
    out[k] = x
  }
  return out
}

const EVIDENCE_OPTIONAL = ["command", "law", "passing", "failing", "who", "path", "description"]

function cleanEvidence(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(cleanEvidence)
  return isObj(e) ? clean(e, EVIDENCE_OPTIONAL) : e
}

/** Fill in missing criterion ids (`AC-<n>`, after the highest id already used) and tidy evidence. */
function prepareCriteria(list: unknown, existing: ReadonlyArray<{ id: string }> = []): unknown {
  if (!Array.isArray(list)) return list
  const used = [...existing, ...list.filter(isObj).filter((c) => typeof c["id"] === "string").map((c) => ({ id: c["id"] as string }))]
  return list.map((c) => {
    if (!isObj(c)) return c
    const out = clean(c)
    if (out["evidence"] !== undefined) out["evidence"] = cleanEvidence(out["evidence"])
    if (out["id"] === undefined || out["id"] === null || out["id"] === "") {
      const id = nextCriterionId(used)
      used.push({ id })
      return { id, ...out }
    }
    return out
  })
}

/**
 * Read an intent record; a file the store refuses before parsing (too big, not a regular file)
 * is an invalid intent like any other, not a generic `malformed`.
 */
export function readIntent(ctx: AlloyContext, id: string): ReturnType<AlloyContext["store"]["readIntent"]> {
  try {
    return ctx.store.readIntent(id)
  } catch (e) {
    if (e instanceof AlloyError && e.code === "malformed") {
      throw new AlloyError("invalid_intent", e.message, { file: e.file ?? intentFilePath(id), fix: `fix or replace ${intentFilePath(id)}` })
    }
    throw e
  }
}

function ensureInit(ctx: AlloyContext): string[] {
  return ctx.store.exists() ? [] : ctx.store.init().created
}

// ---- intents -------------------------------------------------------------------------------

export interface IntentWrite {
  readonly intent: Intent
  readonly file: string
  readonly source_digest: string
  readonly changed: boolean
  readonly warnings: LintWarning[]
  /** folders and files created because `.alloy/` did not exist yet */
  readonly initialised: string[]
}

/**
 * Create an intent record from data (tool arguments, or a file's frontmatter). `status`
 * defaults to `draft`; criteria without an id get `AC-1`, `AC-2`... The whole record is checked
 * before anything is written; an existing record is never replaced (`already_exists`).
 */
export function createIntent(ctx: AlloyContext, input: Json & { body?: unknown }, opts: { source?: string } = {}): IntentWrite {
  const id = assertSlug(input["id"], "intent id")
  assertNotOnFlowBranch(ctx, `create intent ${id}`)
  const file = intentFilePath(id)
  const { body, ...fields } = input
  if (body !== undefined && typeof body !== "string") {
    throw new AlloyError("invalid_intent", `${opts.source ?? file}: body must be Markdown text`, { file, details: [{ path: "body", message: "expected text" }] })
  }
  const data = clean(fields, ["context", "superseded_by"])
  if (data["status"] === undefined) data["status"] = "draft"
  if (data["acceptance_criteria"] !== undefined) data["acceptance_criteria"] = prepareCriteria(data["acceptance_criteria"])
  const intent = validateIntent(data, body ?? "", opts.source ?? file, id)
  if (ctx.store.exists() && ctx.store.readBytes(ctx.store.intentFile(id)) !== undefined) {
    throw new AlloyError("already_exists", `intent ${id} already exists (${file})`, {
      file,
      fix: "choose another id, or change the existing record (`alloy_intent_update`, or edit the file)",
    })
  }
  const initialised = ensureInit(ctx)
  const w = ctx.store.writeIntent(intent, "create")
  return { intent, file: w.file, source_digest: sourceDigest(w.text), changed: true, warnings: lintIntent(intent, { file: w.file }), initialised }
}

/**
 * Create an intent from a Markdown file with frontmatter (`intent new <id> --from <file>`).
 * The file's `id` may be omitted; when present it must equal `id`.
 */
export function createIntentFromText(ctx: AlloyContext, id: string, text: string, source: string): IntentWrite {
  assertSlug(id, "intent id")
  assertNotOnFlowBranch(ctx, `create intent ${id}`)
  const parsed = readIntentSource(text, source)
  const data = { ...parsed.data }
  if (data["id"] === undefined) data["id"] = id
  else if (data["id"] !== id) {
    throw new AlloyError("invalid_intent", `${source}: id is ${JSON.stringify(data["id"])} but the command names intent ${id}`, {
      file: source,
      details: [{ path: "id", message: `expected "${id}" (or leave it out)` }],
      fix: `run \`opencode-alloy intent new ${isSlug(data["id"]) ? String(data["id"]) : "<id>"} --from ${source}\`, or change the id in the file`,
    })
  }
  return createIntent(ctx, { ...data, body: parsed.body }, { source })
}

/** A partial change to an intent record (what `alloy_intent_update` takes). */
export interface IntentPatch {
  /** fields to replace; `null` clears an optional field (`context`, `superseded_by`, `metadata`) */
  readonly set?: Json
  /** items to append to list fields */
  readonly append?: Partial<Record<IntentListField, unknown>>
  /** items to remove from list fields, by exact text */
  readonly remove?: Partial<Record<IntentListField, unknown>>
  readonly criteria?: {
    /** new criteria; ids are assigned after the highest existing one unless given */
    readonly add?: unknown
    /** criteria to change, by id: `text` and/or `evidence` (evidence is replaced as a whole) */
    readonly replace?: unknown
    /** ids of criteria to remove (ids are never reused) */
    readonly remove?: unknown
  }
  /** refuse the update when the file changed since this source digest was read */
  readonly expected_digest?: string
}

const SETTABLE = new Set(["title", "status", "goal", "context", "constraints", "acceptance_criteria", "non_goals", "tradeoffs", "open_questions", "links", "superseded_by", "metadata", "body"])
const CLEARABLE = new Set(["context", "superseded_by", "metadata"])

/**
 * Apply a patch to an intent and write it back. Everything is checked before the write: an
 * unknown field, a criterion id that does not exist, an item to remove that is not there, or
 * a result that is not a valid intent -> `invalid_intent` (with every problem), nothing written.
 * The file is rewritten in Alloy's layout (YAML comments are not kept; the body is).
 */
export function updateIntent(ctx: AlloyContext, idIn: unknown, patch: IntentPatch): IntentWrite {
  const id = assertSlug(idIn, "intent id")
  assertNotOnFlowBranch(ctx, `update intent ${id}`)
  ctx.store.requireInit()
  const current = readIntent(ctx, id)
  const file = current.file
  const problems: Array<{ path: string; message: string }> = []
  if (patch.expected_digest !== undefined) {
    const want = assertDigest(patch.expected_digest, "expected_digest")
    const have = sourceDigest(current.text)
    if (want !== have) {
      throw new AlloyError("invalid_intent", `${file} changed since it was read (it is now ${have}, the update expected ${want}); nothing was written`, {
        file,
        fix: "read the intent again (`alloy_intent_list` with its id) and redo the change",
      })
    }
  }
  const { body: oldBody, ...old } = current.value
  const next: Json = structuredClone(old) as Json
  let body: string = oldBody

  if (patch.set !== undefined) {
    if (!isObj(patch.set)) problems.push({ path: "set", message: "expected a mapping of fields to new values" })
    else
      for (const [k, v] of Object.entries(patch.set)) {
        if (v === undefined) continue
        if (k === "id") problems.push({ path: "set.id", message: "an intent's id cannot change (create a new intent and supersede this one)" })
        else if (!SETTABLE.has(k)) problems.push({ path: `set.${k}`, message: `unknown field; settable: ${[...SETTABLE].join(", ")}` })
        else if (k === "body") {
          if (typeof v !== "string") problems.push({ path: "set.body", message: "expected Markdown text" })
          else body = v
        } else if (v === null) {
          if (CLEARABLE.has(k)) delete next[k]
          else problems.push({ path: `set.${k}`, message: `${k} cannot be cleared${INTENT_LIST_FIELDS.includes(k as IntentListField) ? " with null; set it to []" : ""}` })
        } else if (k === "acceptance_criteria") next[k] = prepareCriteria(v)
        else next[k] = v
      }
  }

  for (const [op, spec] of [
    ["append", patch.append],
    ["remove", patch.remove],
  ] as const) {
    if (spec === undefined) continue
    if (!isObj(spec)) {
      problems.push({ path: op, message: `expected a mapping of list fields (${INTENT_LIST_FIELDS.join(", ")}) to items` })
      continue
    }
    for (const [k, items] of Object.entries(spec)) {
      if (items === undefined) continue
      if (!INTENT_LIST_FIELDS.includes(k as IntentListField)) {
        problems.push({ path: `${op}.${k}`, message: `not a list field; use one of ${INTENT_LIST_FIELDS.join(", ")}` })
        continue
      }
      const list = Array.isArray(items) ? items : [items]
      const have = Array.isArray(next[k]) ? [...(next[k] as unknown[])] : []
      if (op === "append") next[k] = [...have, ...list]
      else {
        list.forEach((item, n) => {
          const at = have.findIndex((h) => typeof h === "string" && typeof item === "string" && h.trim() === item.trim())
          if (at < 0) problems.push({ path: `remove.${k}[${n}]`, message: `${JSON.stringify(String(item).slice(0, 60))} is not in ${k}` })
          else have.splice(at, 1)
        })
        next[k] = have
      }
    }
  }

  if (patch.criteria !== undefined) {
    const c = patch.criteria
    if (!isObj(c)) problems.push({ path: "criteria", message: "expected {add?, replace?, remove?}" })
    else {
      let list = (Array.isArray(next["acceptance_criteria"]) ? (next["acceptance_criteria"] as Json[]) : []).map((x) => ({ ...x }))
      const known = new Set(list.map((x) => String(x["id"])))
      const everUsed = [...list.map((x) => ({ id: String(x["id"]) })), ...old.acceptance_criteria.map((x) => ({ id: x.id }))]
      if (c["remove"] !== undefined) {
        const ids = Array.isArray(c["remove"]) ? c["remove"] : [c["remove"]]
        ids.forEach((rid, n) => {
          if (typeof rid !== "string" || !known.has(rid)) problems.push({ path: `criteria.remove[${n}]`, message: `no criterion ${JSON.stringify(rid)} in ${id}; it has ${[...known].join(", ") || "none"}` })
        })
        list = list.filter((x) => !ids.includes(x["id"]))
      }
      if (c["replace"] !== undefined) {
        const reps = Array.isArray(c["replace"]) ? c["replace"] : [c["replace"]]
        reps.forEach((r, n) => {
          if (!isObj(r) || typeof r["id"] !== "string") {
            problems.push({ path: `criteria.replace[${n}]`, message: "expected {id: \"AC-n\", text?, evidence?}" })
            return
          }
          const target = list.find((x) => x["id"] === r["id"])
          if (!target) {
            problems.push({ path: `criteria.replace[${n}].id`, message: `no criterion ${r["id"]} in ${id}; it has ${[...known].join(", ") || "none"}` })
            return
          }
          for (const [k, v] of Object.entries(clean(r))) {
            if (k === "id") continue
            if (k !== "text" && k !== "evidence") problems.push({ path: `criteria.replace[${n}].${k}`, message: "only text and evidence can be replaced" })
            else target[k] = k === "evidence" ? cleanEvidence(v) : v
          }
        })
      }
      if (c["add"] !== undefined) {
        const adds = Array.isArray(c["add"]) ? c["add"] : [c["add"]]
        list = [...list, ...(prepareCriteria(adds, everUsed) as Json[])]
      }
      next["acceptance_criteria"] = list
    }
  }

  if (problems.length) {
    throw new AlloyError("invalid_intent", `update of ${file} has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was written:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`, {
      file,
      details: problems,
      fix: "fix the patch and call the update again",
    })
  }
  const intent = validateIntent(next, body, file, id)
  const changed = renderIntentFile(intent) !== renderIntentFile(current.value)
  if (!changed) {
    return { intent, file, source_digest: sourceDigest(current.text), changed: false, warnings: lintIntent(intent, { file }), initialised: [] }
  }
  const w = ctx.store.writeIntent(intent, "replace")
  return { intent, file: w.file, source_digest: sourceDigest(w.text), changed: true, warnings: lintIntent(intent, { file: w.file }), initialised: [] }
}

export interface IntentSummary {
  readonly id: string
  readonly file: string
  readonly title?: string
  readonly status?: string
  readonly criteria?: number
  readonly open_questions?: number
  readonly source_digest?: string
  /** briefs whose recipe names this intent */
  readonly briefs: string[]
  readonly error?: { code: string; message: string }
}

/** Every intent record, valid or not (an invalid one is listed with its error). */
export function listIntents(ctx: AlloyContext): IntentSummary[] {
  if (!ctx.store.exists()) return []
  const recipes = readRecipesLoose(ctx)
  return ctx.store.listIntentIds().map((id) => {
    const file = intentFilePath(id)
    const briefs = recipes.filter((r) => r.recipe?.intents.includes(id)).map((r) => r.id)
    try {
      const r = readIntent(ctx, id)
      const i = r.value
      return {
        id,
        file,
        title: i.title,
        status: i.status,
        criteria: i.acceptance_criteria.length,
        open_questions: i.open_questions.length,
        source_digest: sourceDigest(r.text),
        briefs,
      }
    } catch (e) {
      const err = e instanceof AlloyError ? e : new AlloyError("io_error", String(e))
      return { id, file, briefs, error: { code: err.code, message: err.message } }
    }
  })
}

export function showIntent(ctx: AlloyContext, idIn: unknown): { intent: Intent; file: string; source_digest: string; text: string; warnings: LintWarning[]; briefs: string[] } {
  const id = assertSlug(idIn, "intent id")
  ctx.store.requireInit()
  const r = readIntent(ctx, id)
  const briefs = readRecipesLoose(ctx)
    .filter((x) => x.recipe?.intents.includes(id))
    .map((x) => x.id)
  return { intent: r.value, file: r.file, source_digest: sourceDigest(r.text), text: r.text, warnings: lintIntent(r.value, { file: r.file }), briefs }
}

// ---- lint ----------------------------------------------------------------------------------

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

function errInfo(e: unknown): { code: string; message: string; details?: ReadonlyArray<{ path?: string; message: string }> } {
  const err = e instanceof AlloyError ? e : new AlloyError("io_error", String((e as Error)?.message ?? e))
  return { code: err.code, message: err.message, ...(err.details.length ? { details: err.details } : {}) }
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
  const ids = opts.ids && opts.ids.length ? opts.ids.map((i) => assertSlug(i, "intent id")) : ctx.store.listIntentIds()
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
  const filter = opts.ids && opts.ids.length ? new Set(ids) : undefined
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

// ---- briefs --------------------------------------------------------------------------------

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

function readRecipesLoose(ctx: AlloyContext): Array<{ id: string; recipe?: Recipe; error?: { code: string; message: string } }> {
  if (!ctx.store.exists()) return []
  return ctx.store.listRecipeIds().map((id) => {
    try {
      return { id, recipe: ctx.store.readRecipe(id).value }
    } catch (e) {
      return { id, error: errInfo(e) }
    }
  })
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
  if (given(opts.cycle)) target = { cycle: assertSlug(opts.cycle, "cycle id") }
  else if (given(opts.flow)) target = { flow: assertSlug(opts.flow, "flow id") }
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

// ---- status --------------------------------------------------------------------------------

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
        error: { code: err.code, message: err.message, ...(err.fix ? { fix: err.fix } : {}) },
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
      error = { code: err.code, message: err.message, ...(err.fix ? { fix: err.fix } : {}) }
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

/**
 * Write a template intent (`intent new <id>` without `--from`): valid YAML with comments and
 * TODO placeholders, status draft (or as given). Checked like any record before it is written.
 */
export function createIntentTemplate(ctx: AlloyContext, idIn: unknown, opts: { title?: string; goal?: string; status?: string } = {}): IntentWrite {
  const id = assertSlug(idIn, "intent id")
  assertNotOnFlowBranch(ctx, `create intent ${id}`)
  const file = intentFilePath(id)
  const text = intentTemplate(id, opts)
  const intent = parseIntent(text, file, id)
  const initialised = ensureInit(ctx)
  const abs = ctx.store.intentFile(id)
  ctx.store.readBytes(abs) // proves the folder lies inside .alloy/ (no symlink out)
  if (!writeFileOnce(abs, text, 0o644, ctx.store.rel(abs))) {
    throw new AlloyError("already_exists", `intent ${id} already exists (${file})`, { file, fix: "edit it, or choose another id" })
  }
  return { intent, file, source_digest: sourceDigest(text), changed: true, warnings: lintIntent(intent, { file }), initialised }
}
