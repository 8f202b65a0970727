/** Build a brief: read its recipe and intents, build the bundle, store the object, move the ref. */
import { buildBundle, type BuildOutput } from "../core/build.js"
import { AlloyError } from "../core/errors.js"
import { assertSlug } from "../core/ids.js"
import type { AlloyContext } from "./context.js"
import { assertNotOnFlowBranch } from "./guard.js"

export interface BuildResult {
  readonly brief_id: string
  readonly digest: string
  readonly previous: string | undefined
  readonly changed: boolean
  readonly object: string
  readonly ref: string
  readonly created: boolean
  readonly output: BuildOutput
}

/** Build without writing anything (for `--dry-run`, lint and status). */
export function computeBuild(ctx: AlloyContext, briefId: string): BuildOutput {
  const id = assertSlug(briefId, "brief id")
  ctx.store.requireInit()
  const recipe = ctx.store.readRecipe(id)
  const intents = recipe.value.intents.map((iid) => {
    try {
      const r = ctx.store.readIntent(iid)
      return { value: r.value, text: r.text }
    } catch (e) {
      if (e instanceof AlloyError && e.code === "intent_not_found") {
        throw new AlloyError("intent_not_found", `brief ${id} (${recipe.file}) names intent ${iid}, which does not exist`, {
          fix: `create it (\`opencode-alloy intent new ${iid}\`) or remove it from ${recipe.file}`,
        })
      }
      throw e
    }
  })
  return buildBundle({ recipe: { value: recipe.value, text: recipe.text }, intents })
}

export function buildBrief(ctx: AlloyContext, briefId: string): BuildResult {
  assertNotOnFlowBranch(ctx, `build brief ${briefId}`)
  const output = computeBuild(ctx, briefId)
  let previous: string | undefined
  try {
    previous = ctx.store.readRef(briefId)
  } catch {
    previous = undefined // a damaged ref is what this build repairs
  }
  const obj = ctx.store.writeObject(output.bytes, output.digest)
  const ref = ctx.store.writeRef(briefId, output.digest)
  return {
    brief_id: briefId,
    digest: output.digest,
    previous,
    changed: previous !== output.digest,
    object: obj.file,
    ref: ref.file,
    created: obj.created,
    output,
  }
}
