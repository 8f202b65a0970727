/**
 * Brief recipes (`.alloy/briefs/<id>.md`): which intents a Formation Brief is built from,
 * which Foundry formation (flow and/or cycles) it is for, and notes per stage.
 */
import { z } from "zod"
import { stringify } from "yaml"
import { AlloyError } from "./errors.js"
import { decodeText, parseMarkdown } from "./frontmatter.js"
import { Slug } from "./intent.js"
import { parseStage } from "./ids.js"
import { schemaError } from "./schema-errors.js"

const StageKey = z.string().refine(
  (s) => {
    try {
      parseStage(s)
      return true
    } catch {
      return false
    }
  },
  { message: "expected a stage such as `forge`, `appraise`, `human-appraise` or `forge:<cycle>`" },
)

export const RecipeSchema = z
  .strictObject({
    id: Slug,
    title: z.string().trim().min(1, "title must not be empty").max(200).optional(),
    intents: z.array(Slug, { error: "expected a list of intent ids" }).min(1, "a brief is built from at least one intent").max(64),
    formation: z
      .strictObject({
        flow: Slug.optional(),
        cycles: z.array(Slug).max(64).default([]),
      })
      .default({ cycles: [] }),
    stages: z.record(StageKey, z.string().trim().min(1).max(8_000), { error: "expected a mapping of stage to notes" }).default({}),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>()
    r.intents.forEach((id, i) => {
      if (seen.has(id)) ctx.addIssue({ code: "custom", path: ["intents", i], message: `intent ${id} is listed twice` })
      seen.add(id)
    })
  })
export type RecipeFrontmatter = z.infer<typeof RecipeSchema>

export interface Recipe extends RecipeFrontmatter {
  readonly body: string
}

export function parseRecipe(text: string, file: string, expectedId?: string): Recipe {
  let parsed
  try {
    parsed = parseMarkdown(text, file)
  } catch (e) {
    if (e instanceof AlloyError && e.code === "malformed") throw new AlloyError("invalid_recipe", e.message, { file })
    throw e
  }
  const r = RecipeSchema.safeParse(parsed.data)
  if (!r.success) throw schemaError("invalid_recipe", file, "brief recipe", r.error)
  if (expectedId !== undefined && r.data.id !== expectedId) {
    throw new AlloyError("invalid_recipe", `${file}: id is "${r.data.id}" but the file is named ${expectedId}.md`, { file })
  }
  return { ...r.data, body: parsed.body.trim() }
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
  if (Object.keys(formation).length) out["formation"] = formation
  if (Object.keys(fm.stages).length) out["stages"] = fm.stages
  return `---\n${stringify(out, { lineWidth: 0 })}---\n${body ? `\n${body.trim()}\n` : ""}`
}
