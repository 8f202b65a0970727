/**
 * A brief or intent named on the command line that is not there is a usage error (exit 2) that
 * names it and the nearest known name, worded the same by every command that takes one.
 */
import { isSlug } from "../../core/ids.js"
import type { AlloyContext } from "../../service/context.js"
import { shown } from "../args.js"
import { unknownNameFix } from "../../core/nearest.js"
import { unknownNameError } from "../io.js"

/** A brief with neither a recipe nor a build. */
export function assertKnownBrief(ctx: AlloyContext, id: string): void {
  if (!isSlug(id)) return // the service reports a malformed id with its own code
  if (ctx.store.hasRecipe(id)) return
  try {
    if (ctx.store.readRef(id)) return
  } catch {
    return // a broken ref is the service's to report
  }
  const known = ctx.store.exists() ? ctx.store.listRecipeIds() : []
  throw unknownNameError(
    "brief_not_found",
    `unknown brief ${shown(id)}: there is no .alloy/briefs/${id}.md and no build of it`,
    unknownNameFix(id, known, { kind: "brief", create: `opencode-alloy brief new ${id} --intent <intent-id>` }),
  )
}

/**
 * An intent with no file in .alloy/intents/ and not among `alsoKnown` (intents a command also
 * finds elsewhere, e.g. in built briefs).
 */
export function assertKnownIntent(ctx: AlloyContext, id: string, alsoKnown: readonly string[] = []): void {
  if (!isSlug(id)) return
  const files = ctx.store.exists() ? ctx.store.listIntentIds() : []
  if (files.includes(id) || alsoKnown.includes(id)) return
  // unknownNameFix takes each name once and lists them in order
  const known = [...files, ...alsoKnown]
  throw unknownNameError(
    "intent_not_found",
    `unknown intent ${shown(id)}: there is no .alloy/intents/${id}.md${alsoKnown.length ? " and no built brief carries it" : ""}`,
    unknownNameFix(id, known, { kind: "intent", create: `opencode-alloy intent new ${id}` }),
  )
}
