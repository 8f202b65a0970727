/**
 * Brief recipes (`.alloy/briefs/<id>.md`): which intents a Formation Brief is built from,
 * which Foundry formation (flow and/or cycles) it is for, and notes per stage.
 */
import { z } from "zod"
import { yamlLib } from "./yaml-lib.js"
import { AlloyError } from "./errors.js"
import { decodeText, parseMarkdown } from "./frontmatter.js"
import { describeValue, Slug } from "./intent.js"
import { isStage } from "./ids.js"
import { safeParseBounded, schemaError } from "./schema-errors.js"
import { assertSafeText } from "./prompt-safety.js"

const SCOPE_KEY_RE = /^[a-z0-9]+(-[a-z0-9]+)*(#AC-[1-9][0-9]{0,3})?$/

const StageKey = z.string().refine(isStage, { message: "expected a stage such as `forge`, `appraise`, `human-appraise` or `forge:<cycle>`" })

export const RECIPE_FIELDS = ["id", "title", "intents", "formation", "stages"] as const

const STAGE_HINT = "expected a stage: forge, quench, appraise, human-appraise or assay, optionally as `<stage>:<cycle-or-alias>` (e.g. `forge:draft-release-note`)"

export const RecipeSchema = z
  .strictObject(
    {
      id: Slug,
      title: z
        .string({ error: (iss) => `expected the title as text; ${describeValue(iss.input)}` })
        .trim()
        .min(1, "title must not be empty")
        .max(200, "title is longer than 200 characters")
        .optional(),
      intents: z
        .array(Slug, { error: (iss) => `expected a list of intent ids; ${describeValue(iss.input)}` })
        .min(1, "a brief is built from at least one intent")
        .max(64, "at most 64 intents; split the brief into briefs for smaller formations"),
      formation: z
        .strictObject(
          {
            flow: Slug.optional(),
            cycles: z
              .array(Slug, { error: (iss) => `expected a list of cycle ids; ${describeValue(iss.input)}` })
              .max(64, "at most 64 cycles; split the brief into briefs for smaller formations")
              .default([]),
            /**
             * What applies where (alloy.formation/v1): an intent id, or `<intent>#AC-<n>`, to the
             * formation cycles it applies to. Not given: everything applies to every cycle.
             */
            scope: z
              .record(
                z.string().regex(SCOPE_KEY_RE, { message: "expected an intent id or `<intent-id>#AC-<n>`" }),
                z
                  .array(Slug, { error: (iss) => `expected a list of cycle ids; ${describeValue(iss.input)}` })
                  .min(1, "name at least one cycle")
                  .max(64),
                { error: (iss) => `expected scope as a mapping of intent (or criterion) to cycles; ${describeValue(iss.input)}` },
              )
              .optional(),
            /** build even when a criterion has no gate in the formation (shown in the bundle) */
            allow_ungated: z.boolean({ error: (iss) => `expected true or false; ${describeValue(iss.input)}` }).optional(),
          },
          {
            error: (iss) =>
              iss.code === "unrecognized_keys"
                ? `unknown field${iss.keys.length === 1 ? "" : "s"} ${iss.keys.map((k) => `"${k}"`).join(", ")} in formation; allowed: flow, cycles, scope, allow_ungated`
                : `expected formation as a mapping with \`flow\` and/or \`cycles\`; ${describeValue(iss.input)}`,
          },
        )
        .default({ cycles: [] }),
      stages: z
        .record(
          StageKey,
          z
            .string({ error: (iss) => `expected the notes for this stage as text; ${describeValue(iss.input)}` })
            .trim()
            .min(1, "notes must not be empty")
            .max(8_000, "notes are longer than 8000 characters; shorten them, or move the detail into an intent"),
          {
            error: (iss) =>
              iss.code === "invalid_key"
                ? `${JSON.stringify(String(iss.path?.[iss.path.length - 1] ?? ""))} is not a stage: ${STAGE_HINT}`
                : `expected a mapping of stage to notes; ${describeValue(iss.input)}`,
          },
        )
        .default({}),
    },
    {
      error: (iss) =>
        iss.code === "unrecognized_keys"
          ? `unknown field${iss.keys.length === 1 ? "" : "s"} ${iss.keys.map((k) => `"${k}"`).join(", ")} in the brief recipe; allowed: ${RECIPE_FIELDS.join(", ")}`
          : undefined,
    },
  )
  .superRefine((r, ctx) => {
    const seen = new Set<string>()
    r.intents.forEach((id, i) => {
      if (seen.has(id)) ctx.addIssue({ code: "custom", path: ["intents", i], message: `intent ${id} is listed twice` })
      seen.add(id)
    })
    const cycles = new Set<string>()
    r.formation.cycles.forEach((id, i) => {
      if (cycles.has(id)) ctx.addIssue({ code: "custom", path: ["formation", "cycles", i], message: `cycle ${id} is listed twice` })
      cycles.add(id)
    })
    for (const [key, list] of Object.entries(r.formation.scope ?? {})) {
      const intent = key.split("#")[0]!
      if (!seen.has(intent)) ctx.addIssue({ code: "custom", path: ["formation", "scope", key], message: `intent ${intent} is not one of this brief's intents (${r.intents.join(", ")})` })
      list.forEach((c, i) => {
        if (!cycles.has(c)) {
          ctx.addIssue({
            code: "custom",
            path: ["formation", "scope", key, i],
            message: `cycle ${c} is not in formation.cycles (${[...cycles].join(", ") || "none"}); scope names cycles of the formation`,
          })
        }
      })
    }
  })
export type RecipeFrontmatter = z.infer<typeof RecipeSchema>

export interface Recipe extends RecipeFrontmatter {
  readonly body: string
}

const RECIPE_FIX = "fix the fields listed, then check with `opencode-alloy brief build <brief-id> --dry-run`"

/** Validate recipe data (parsed YAML or tool input): every problem at once, as one `invalid_recipe` error. */
export function validateRecipe(data: unknown, body: string, file: string, expectedId?: string): Recipe {
  const r = safeParseBounded(RecipeSchema, data, { split: "split the brief into briefs for smaller formations" })
  if (!r.success) throw schemaError("invalid_recipe", file, "brief recipe", r.error, RECIPE_FIX)
  // a valid recipe whose text could steer Foundry's agents is refused with its own code
  assertSafeText("brief recipe", file, data as Record<string, unknown>, body)
  if (expectedId !== undefined && r.data.id !== expectedId) {
    throw new AlloyError("invalid_recipe", `${file}: id is "${r.data.id}" but the file is named ${expectedId}.md; the id and the file name must match`, {
      file,
      details: [{ path: "id", message: `is "${r.data.id}" but the file is named ${expectedId}.md` }],
    })
  }
  return { ...r.data, body: body.trim() }
}

export function parseRecipe(text: string, file: string, expectedId?: string): Recipe {
  let parsed
  try {
    parsed = parseMarkdown(text, file)
  } catch (e) {
    if (e instanceof AlloyError && e.code === "malformed") throw new AlloyError("invalid_recipe", e.message, { file, fix: RECIPE_FIX })
    throw e
  }
  return validateRecipe(parsed.data, parsed.body, file, expectedId)
}

export function parseRecipeBytes(bytes: Uint8Array, file: string, expectedId?: string): Recipe {
  let text: string
  try {
    text = decodeText(bytes, file)
  } catch (e) {
    if (e instanceof AlloyError) throw new AlloyError("invalid_recipe", e.message, { file })
    throw e
  }
  return parseRecipe(text, file, expectedId)
}

export function renderRecipeFile(recipe: Recipe): string {
  const { body, ...fm } = recipe
  const out: Record<string, unknown> = { id: fm.id }
  if (fm.title) out["title"] = fm.title
  out["intents"] = fm.intents
  const formation: Record<string, unknown> = {}
  if (fm.formation.flow) formation["flow"] = fm.formation.flow
  if (fm.formation.cycles.length) formation["cycles"] = fm.formation.cycles
  if (fm.formation.scope && Object.keys(fm.formation.scope).length) formation["scope"] = fm.formation.scope
  if (fm.formation.allow_ungated !== undefined) formation["allow_ungated"] = fm.formation.allow_ungated
  if (Object.keys(formation).length) out["formation"] = formation
  if (Object.keys(fm.stages).length) out["stages"] = fm.stages
  return `---\n${yamlLib().stringify(out, { lineWidth: 0 })}---\n${body ? `\n${body.trim()}\n` : ""}`
}
