/** Lint over the project: intents and brief recipes together (what `intent lint` and builds report). */
import { AlloyError } from "../core/errors.js"
import { assertSlug } from "../core/ids.js"
import { suggest, unknownNameFix } from "../core/nearest.js"
import type { Intent } from "../core/intent.js"
import type { Recipe } from "../core/recipe.js"
import { intentFilePath, lintBrief, lintIntent, recipeFilePath, type LintWarning } from "../core/lint.js"
import { globToRegExp, splitGlobs } from "../core/glob.js"
import { bindCheckCommand } from "../foundry/laws.js"
import { readFoundryConfig, type FoundryConfig } from "../foundry/config.js"
import { existsSync } from "node:fs"
import path from "node:path"
import type { AlloyContext } from "./context.js"

import { errInfo, readRecipesLoose } from "./util.js"
import { readAllRecords } from "./pulled.js"
import { MAX_RECORD_BYTES } from "../store/outbox.js"
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

/** The cycle and flow ids in `foundry/`, listed once per lint or build run (not once per brief). */
export interface KnownFormation {
  readonly cycles: ReadonlySet<string>
  readonly flows: ReadonlySet<string>
  readonly config: FoundryConfig
  /** set on a Foundry `config/*` branch */
  readonly configBranch?: string
  /**
   * `<criterion>\n<command>` of every check command with a recorded run (`opencode-alloy check --record`),
   * read once when first asked; set for `intent lint` only (a build cannot wait for a run of a check
   * that needs the build first, so builds never warn `check_never_run`)
   */
  readonly checkRuns?: () => ReadonlySet<string>
}

/** The check commands that have a recorded run, keyed `<criterion>\n<command>` (run records of stage `check`). */
function recordedChecks(ctx: AlloyContext): Set<string> {
  const out = new Set<string>()
  const { records } = readAllRecords(ctx.root, (f) => ctx.store.readBytes(f, MAX_RECORD_BYTES))
  for (const r of records) for (const c of r.check?.commands ?? []) out.add(`${r.check!.criterion}\n${c.command}`)
  return out
}

export function knownFormation(ctx: AlloyContext, opts: { checkRuns?: boolean } = {}): KnownFormation | undefined {
  if (!ctx.project.isFoundryProject()) return undefined
  const branch = ctx.project.currentBranch()
  let runs: Set<string> | undefined
  return {
    ...(opts.checkRuns ? { checkRuns: () => (runs ??= recordedChecks(ctx)) } : {}),
    cycles: new Set(ctx.project.listCycleIds()),
    flows: new Set(ctx.project.listFlowIds()),
    config: readFoundryConfig(ctx.project),
    ...(branch?.startsWith("config/") ? { configBranch: branch } : {}),
  }
}

const SCRIPT_RE = /^(?:\.{0,2}\/)?[\w.@+-]+(?:\/[\w.@+-]+)*\.(?:mjs|cjs|js|ts|mts|sh|bash|py|rb|pl)$/

/** A glob in evidence, made concrete enough to test against Foundry's patterns (`*` → a name). */
const sample = (glob: string) =>
  glob
    .replace(/\*\*\/?/g, "x/")
    .replace(/\*/g, "x")
    .replace(/\?/g, "x")
    .replace(/\{([^,}]*)[^}]*\}/g, "$1")

/** Each intent's evidence against Foundry's config: law ids, check scripts and validators, artefact patterns. */
export function configWarnings(ctx: AlloyContext, k: KnownFormation | undefined, intent: Intent): LintWarning[] {
  if (!k) return []
  const file = intentFilePath(intent.id)
  const out: LintWarning[] = []
  const { laws, validators, artefactTypes } = k.config
  intent.acceptance_criteria.forEach((c, n) => {
    c.evidence.forEach((e, m) => {
      const where = `acceptance_criteria[${n}].evidence${c.evidence.length > 1 ? `[${m}]` : ""}`
      if (e.kind === "law" && e.law !== undefined && !laws.has(e.law)) {
        const near = suggest(e.law, laws.keys())
        out.push({
          code: "law_unknown",
          severity: "warning",
          file,
          path: `${where}.law`,
          message: `${intent.id}#${c.id} names law ${e.law}, which no Foundry laws file declares (foundry/laws/*.md, foundry/artefacts/<type>/laws.md)${near ? `; did you mean ${near}?` : ""}`,
          fix: near
            ? `use \`law: ${near}\``
            : `check the id (known: ${[...laws.keys()].slice(0, 12).join(", ") || "none"}${laws.size > 12 ? `, and ${laws.size - 12} more` : ""}), or drop \`law:\` to let Alloy write the law from the criterion`,
        })
      }
      if (e.kind === "check") {
        for (const token of e.command.split(/\s+/)) {
          if (!SCRIPT_RE.test(token) || path.isAbsolute(token)) continue
          if (!existsSync(ctx.project.abs(token))) {
            out.push({
              code: "check_file_missing",
              // info, not warning: a script may be produced by the work itself or live outside the repository
              severity: "info",
              file,
              path: `${where}.command`,
              message: `${intent.id}#${c.id}'s check runs ${token}, which does not exist in the project, so the check cannot pass`,
              fix: `add ${token}, or fix the path in the command`,
            })
          }
        }
        if (!bindCheckCommand(e.command, validators)) {
          out.push({
            code: "check_unbound",
            severity: "info",
            file,
            path: `${where}.command`,
            message: `${intent.id}#${c.id}'s check is not bound to a Foundry validator (no law's \`validators:\` runs the same command), so quench results never count for it; only Alloy's own \`check\` run does`,
            fix: "to have quench prove it, declare the same command as a validator of a law (with {files} for the file arguments)",
          })
          if (k.checkRuns && !k.checkRuns().has(`${intent.id}#${c.id}\n${e.command}`)) {
            out.push({
              code: "check_never_run",
              severity: "warning",
              file,
              path: `${where}.command`,
              message: `${intent.id}#${c.id}'s check has never been run: no Foundry validator runs it and no run of it is recorded, so it stays unproven`,
              fix: `run \`opencode-alloy check ${intent.id} --record\` (or bind the command to a Foundry validator)`,
            })
          }
        }
      }
      if (e.kind === "artefact" && artefactTypes.size > 0) {
        for (const g of splitGlobs(e.path)) {
          const probe = sample(g)
          const hit = [...artefactTypes.values()].some((ps) => ps.some((p) => globToRegExp(p).test(probe) || p === g))
          if (!hit) {
            out.push({
              code: "artefact_unmatched",
              severity: "warning",
              file,
              path: `${where}.path`,
              message: `${intent.id}#${c.id} expects ${g}, which matches no artefact type's file patterns (${[...artefactTypes].map(([t, ps]) => `${t}: ${ps.join(", ") || "none"}`).join("; ")}), so no cycle produces it`,
              fix: "use a path an artefact type produces, or add the pattern to the artefact type's file-patterns",
            })
          }
        }
      }
    })
  })
  return out
}

/** On a Foundry config/* branch, .alloy/ changes cannot be committed there: say where they go. */
function configBranchWarning(k: KnownFormation | undefined, file: string): LintWarning[] {
  if (!k?.configBranch) return []
  return [
    {
      code: "config_branch",
      severity: "warning",
      file,
      message: `you are on Foundry config branch '${k.configBranch}': Foundry's config finish accepts only foundry/** changes, so builds and intents written here (.alloy/) must be committed on the base branch`,
      fix: "switch to the base branch to write and build, commit .alloy/ there; make only the pin (foundry/) on the config branch",
    },
  ]
}

/** Formation names that do not exist in `foundry/` (the pure lint cannot see the project). */
function formationWarnings(k: KnownFormation | undefined, recipe: Recipe, file: string): LintWarning[] {
  if (!k) return []
  const out: LintWarning[] = []
  recipe.formation.cycles.forEach((c, n) => {
    if (!k.cycles.has(c)) {
      out.push({
        code: "formation_unknown",
        severity: "warning",
        file,
        path: `formation.cycles[${n}]`,
        message: `brief ${recipe.id} names cycle ${c}, which is not in foundry/cycles/`,
        fix: unknownNameFix(c, k.cycles, { kind: "cycle" }),
      })
    }
  })
  if (recipe.formation.flow && !k.flows.has(recipe.formation.flow)) {
    out.push({
      code: "formation_unknown",
      severity: "warning",
      file,
      path: "formation.flow",
      message: `brief ${recipe.id} names flow ${recipe.formation.flow}, which is not in foundry/flows/`,
      fix: unknownNameFix(recipe.formation.flow, k.flows, { kind: "flow" }),
    })
  }
  return out
}

/** Lint warnings for one brief: the brief itself and each of its intents. Throws when the recipe cannot be read. */
export function lintBriefSources(ctx: AlloyContext, briefId: string, k: KnownFormation | undefined = knownFormation(ctx)): { warnings: LintWarning[]; recipe: Recipe; intents: Intent[] } {
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
  const warnings = [
    ...lintBrief(r.value, intents, { file: r.file }),
    ...formationWarnings(k, r.value, r.file),
    ...intents.flatMap((i) => [...lintIntent(i), ...configWarnings(ctx, k, i)]),
    ...configBranchWarning(k, r.file),
  ]
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
  const k = knownFormation(ctx, { checkRuns: true })
  for (const id of ids) {
    const file = intentFilePath(id)
    try {
      const r = readIntent(ctx, id)
      entries.push({ kind: "intent", id, file, warnings: [...lintIntent(r.value, { file }), ...configWarnings(ctx, k, r.value)] })
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
    entries.push({ kind: "brief", id: r.id, file, warnings: [...lintBrief(r.recipe, intents, { file }), ...formationWarnings(k, r.recipe, file)] })
  }
  overlapWarnings(entries, readRecipesLoose(ctx))
  const branch = configBranchWarning(k, ".alloy/")
  if (branch.length) entries.push({ kind: "brief", id: "(project)", file: ".alloy/", warnings: branch })
  const warnings = entries.reduce((n, e) => n + e.warnings.filter((w) => w.severity === "warning").length, 0)
  const errors = entries.filter((e) => e.error).length
  return { entries, warnings, errors, ok: errors === 0 && (!opts.strict || warnings === 0) }
}

/** Two briefs naming the same cycle: only one pin can apply there, so one of them is not what runs. */
function overlapWarnings(entries: LintEntry[], recipes: ReturnType<typeof readRecipesLoose>): void {
  const byCycle = new Map<string, string[]>()
  for (const r of recipes) {
    for (const c of r.recipe?.formation.cycles ?? []) {
      const list = byCycle.get(c)
      if (list) list.push(r.id)
      else byCycle.set(c, [r.id])
    }
  }
  for (const [cycle, briefs] of byCycle) {
    if (briefs.length < 2) continue
    for (const id of briefs.slice(1)) {
      const entry = entries.find((e) => e.kind === "brief" && e.id === id)
      const warning: LintWarning = {
        code: "formation_overlap",
        severity: "warning",
        file: recipeFilePath(id),
        path: "formation.cycles",
        message: `briefs ${briefs.join(", ")} all name cycle ${cycle} in their formations, but a cycle carries one pin: only one of them reaches its stages`,
        fix: `keep cycle ${cycle} in one brief's formation (or merge the briefs)`,
      }
      if (entry) (entry.warnings as LintWarning[]).push(warning)
    }
  }
}
