/**
 * The one build use case, for the CLI, the tools and the library: lint every named brief first
 * (with `strict`, one warning anywhere writes nothing anywhere), then build each recipe and its
 * intents into a bundle, store the object and move the ref (or, with `dryRun`, write nothing).
 */
import { buildBundle, type BuildOutput } from "../core/build.js"
import { AlloyError } from "../core/errors.js"
import { assertSlug } from "../core/ids.js"
import { failsStrict, formatWarning, type LintWarning } from "../core/lint.js"
import type { AlloyContext } from "./context.js"
import { assertNotOnFlowBranch } from "./guard.js"
import { knownFormation, lintBriefSources } from "./lint-project.js"
import { formationTargets } from "./formation-targets.js"

export interface BuildOptions {
  /** any lint warning fails the whole build with `lint_failed`; nothing is written */
  readonly strict?: boolean
  /** compute digests and warnings; write nothing */
  readonly dryRun?: boolean
  /**
   * build even when a criterion has no gate in the formation, for this build only (sets the
   * recipe's `formation.allow_ungated`; the bundle records it and the ungated criteria)
   */
  readonly allowUngated?: boolean
  /** called after each brief is built (`done` of `total`), for a progress line */
  readonly onProgress?: (done: number, total: number, briefId: string) => void
}

export interface BuildResult {
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
  readonly output: BuildOutput
}

/** Build without writing anything: what a build would give now (dry runs, `brief diff`, `brief show`). */
export function computeBuild(ctx: AlloyContext, briefId: string, opts: Pick<BuildOptions, "allowUngated"> = {}): BuildOutput {
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
  const value = opts.allowUngated ? { ...recipe.value, formation: { ...recipe.value.formation, allow_ungated: true } } : recipe.value
  return buildBundle({ recipe: { value, text: recipe.text }, intents, ...formationTargets(ctx, value) })
}

/** The `--strict` rule, written once: every warning is listed, in the message and as details. */
function lintFailed(ids: readonly string[], warnings: readonly LintWarning[]): AlloyError {
  const list = warnings.filter((w) => w.severity === "warning")
  const what = ids.length === 1 ? `brief ${ids[0]}` : `briefs ${ids.join(", ")}`
  return new AlloyError(
    "lint_failed",
    `${what}: ${list.length} lint warning${list.length === 1 ? "" : "s"} and --strict is set; nothing was written:\n${list.map((w) => `  ${formatWarning(w)}`).join("\n")}`,
    {
      details: list.map((w) => ({ path: [w.file, w.path].filter(Boolean).join(" "), message: `[${w.code}] ${w.message}` })),
      fix: "fix the warnings listed (see `opencode-alloy intent lint`), or build without --strict",
    },
  )
}

/** Lint all, then build all. Throws before writing anything when a brief cannot be read or `strict` fails. */
export function buildBriefs(ctx: AlloyContext, briefIds: readonly unknown[], opts: BuildOptions = {}): BuildResult[] {
  const ids = briefIds.map((b) => assertSlug(b, "brief id"))
  if (!opts.dryRun) assertNotOnFlowBranch(ctx, `build brief${ids.length === 1 ? "" : "s"} ${ids.join(", ")}`)
  ctx.store.requireInit()
  const k = knownFormation(ctx)
  const linted = ids.map((id) => lintBriefSources(ctx, id, k).warnings)
  if (opts.strict && failsStrict(linted.flat())) throw lintFailed(ids, linted.flat())
  const outputs = ids.map((id, i) => {
    const out = computeBuild(ctx, id, opts)
    opts.onProgress?.(i + 1, ids.length, id)
    return out
  })
  return ids.map((id, i) => store(ctx, id, outputs[i]!, linted[i]!, opts.dryRun === true))
}

/** One brief: `buildBriefs` for a single id. */
export function buildBrief(ctx: AlloyContext, briefId: unknown, opts: BuildOptions = {}): BuildResult {
  return buildBriefs(ctx, [briefId], opts)[0]!
}

function store(ctx: AlloyContext, briefId: string, output: BuildOutput, warnings: LintWarning[], dryRun: boolean): BuildResult {
  let previous: string | undefined
  try {
    previous = ctx.store.readRef(briefId)
  } catch {
    previous = undefined // a damaged ref is what this build repairs
  }
  const base = { brief_id: briefId, digest: output.digest, previous, changed: previous !== output.digest, warnings, sources: output.bundle.sources, output }
  if (dryRun) return { ...base, dry_run: true }
  const obj = ctx.store.writeObject(output.bytes, output.digest)
  const ref = ctx.store.writeRef(briefId, output.digest)
  return { ...base, dry_run: false, object: obj.file, ref: ref.file, created: obj.created }
}
