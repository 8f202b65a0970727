/** Small helpers shared by the authoring services: tidy agent/CLI input, summarise errors, first-write init. */
import { errorView } from "../core/errors.js"
import type { AlloyContext } from "./context.js"
import type { Recipe } from "../core/recipe.js"

export type Json = Record<string, unknown>

export const isObj = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v)

/** Drop `undefined` members and empty optional strings an agent may send for "not given". */
export function clean(v: Json, optional: readonly string[] = []): Json {
  const out: Json = {}
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue
    if ((x === null || x === "") && optional.includes(k)) continue
    out[k] = x
  }
  return out
}

export function errInfo(e: unknown): { code: string; message: string; details?: ReadonlyArray<{ path?: string; message: string }> } {
  const { code, message, details } = errorView(e)
  return { code, message, ...(details ? { details } : {}) }
}

/** Create `.alloy/` on the first write; returns what was created. */
export function ensureInit(ctx: AlloyContext): string[] {
  return ctx.store.exists() ? [] : ctx.store.init().created
}

export function readRecipesLoose(ctx: AlloyContext): Array<{ id: string; recipe?: Recipe; error?: { code: string; message: string } }> {
  if (!ctx.store.exists()) return []
  return ctx.store.listRecipeIds().map((id) => {
    try {
      return { id, recipe: ctx.store.readRecipe(id).value }
    } catch (e) {
      return { id, error: errInfo(e) }
    }
  })
}
