/**
 * Building: recipe + intents -> one bundle object, deterministically. No model calls, no
 * clocks, no machine facts: the same sources give the same bytes and digest everywhere.
 */
import { AlloyError } from "./errors.js"
import { BUNDLE_TYPE, BundleSchema, FORMATION_TYPE, type Bundle, type BundleIntent, type Composition, type Gate } from "./bundle.js"
import { encodeCanonical, normalizeText, sourceDigest } from "./digest.js"
import { criterionRef, gateLawId, parseStage, STAGE_BASES, type StageBase } from "./ids.js"
import type { Intent } from "./intent.js"
import type { Recipe } from "./recipe.js"
import { code, inline, unquote } from "./prompt-safety.js"
import { NOTES_HEADINGS, renderAppraisePack, renderAssayPack, renderBrief, renderForgePack, renderHumanPack, renderLawGate, renderQuenchPack } from "./render.js"

export interface SourceFile<T> {
  readonly value: T
  /** the file's text as read, used for the source digest */
  readonly text: string
}

export interface BuildInput {
  readonly recipe: SourceFile<Recipe>
  /** every intent the recipe names (order does not matter) */
  readonly intents: ReadonlyArray<SourceFile<Intent>>
  /** Foundry's `targets` of the formation's cycles (edges of the composition; used only when the recipe scopes) */
  readonly targets?: Readonly<Record<string, readonly string[]>>
}

export interface BuildOutput {
  readonly bundle: Bundle
  readonly bytes: Buffer
  readonly digest: string
}

const n = (s: string) => normalizeText(s)

export function toBundleIntent(i: Intent): BundleIntent {
  return {
    id: i.id,
    title: n(i.title),
    status: i.status,
    goal: n(i.goal),
    ...(i.context ? { context: n(i.context) } : {}),
    constraints: i.constraints.map(n),
    acceptance_criteria: i.acceptance_criteria.map((c) => ({ id: c.id, ref: criterionRef(i.id, c.id), text: n(c.text), evidence: c.evidence })),
    non_goals: i.non_goals.map(n),
    tradeoffs: i.tradeoffs.map(n),
    open_questions: i.open_questions.map(n),
    links: i.links.map(n),
    body: n(i.body),
  }
}

/** Derive the gate overlay: one gate per (criterion, kind of evidence). */
export function deriveGates(intents: readonly BundleIntent[]): Gate[] {
  const gates: Gate[] = []
  for (const i of intents) {
    for (const c of i.acceptance_criteria) {
      const byKind = new Map<string, typeof c.evidence>()
      for (const e of c.evidence) byKind.set(e.kind, [...(byKind.get(e.kind) ?? []), e])
      for (const [kind, list] of byKind) {
        const base = { id: `${c.ref}/${kind}`, criterion: c.ref, title: c.text }
        if (kind === "law") {
          const lawId = gateLawId(i.id, c.id)
          const passing = list.map((e) => (e.kind === "law" ? e.passing : undefined)).find(Boolean)
          const failing = list.map((e) => (e.kind === "law" ? e.failing : undefined)).find(Boolean)
          const g: Gate = { ...base, kind: "law", stage: "appraise", law_id: lawId, text: "" }
          gates.push({ ...g, text: renderLawGate(g, passing, failing, i.title) })
        } else if (kind === "check") {
          const cmds = list.map((e) => (e.kind === "check" ? e.command : "")).filter(Boolean)
          const command = cmds.join(" && ")
          const how = list.map((e) => (e.kind === "check" ? e.description : undefined)).find(Boolean)
          gates.push({ ...base, kind: "check", stage: "quench", command, text: `Run ${code(command)}; it must exit 0${how ? ` (${inline(how)})` : ""}. Proves ${c.ref}: ${inline(c.text)}` })
        } else if (kind === "human") {
          const who = list.map((e) => (e.kind === "human" ? e.who : undefined)).find(Boolean)
          const how = list.map((e) => (e.kind === "human" ? e.description : undefined)).find(Boolean)
          gates.push({
            ...base,
            kind: "human",
            stage: "human-appraise",
            ...(who ? { who } : {}),
            text: `A person${who ? ` (${inline(who)})` : ""} confirms: ${inline(c.text)}${how ? ` (${inline(how)})` : ""}`,
          })
        } else {
          const paths = list.map((e) => (e.kind === "artefact" ? e.path : "")).filter(Boolean)
          const path = paths.join(", ")
          gates.push({ ...base, kind: "artefact", stage: "finish", path, text: `The finished work includes ${code(path)}. Proves ${c.ref}: ${inline(c.text)}` })
        }
      }
    }
  }
  return gates
}

function notesFor(recipe: Recipe, key: string): string | undefined {
  const v = recipe.stages[key]
  return v === undefined ? undefined : n(v)
}

export function buildBundle(input: BuildInput): BuildOutput {
  const recipe = input.recipe.value
  const byId = new Map(input.intents.map((s) => [s.value.id, s]))
  const missing = recipe.intents.filter((id) => !byId.has(id))
  if (missing.length) {
    throw new AlloyError("intent_not_found", `brief ${recipe.id} names intent${missing.length === 1 ? "" : "s"} ${missing.join(", ")} that do not exist in .alloy/intents/`, {
      fix: `create ${missing.length === 1 ? "it" : "them"} with \`opencode-alloy intent new <id>\`, or remove ${missing.length === 1 ? "it" : "them"} from .alloy/briefs/${recipe.id}.md`,
    })
  }
  const ordered = recipe.intents.map((id) => byId.get(id)!)
  const intents = ordered.map((s) => toBundleIntent(s.value))
  const gates = deriveGates(intents)
  const notes = n(recipe.body)
  const title = n(recipe.title ?? intents[0]!.title)
  const formation = { ...(recipe.formation.flow ? { flow: recipe.formation.flow } : {}), cycles: [...recipe.formation.cycles] }

  const packs: Record<string, { text: string }> = {}
  const baseText: Record<StageBase, string> = {
    forge: renderForgePack(intents, notesFor(recipe, "forge"), notes),
    appraise: renderAppraisePack(gates, notesFor(recipe, "appraise"), intents),
    "human-appraise": renderHumanPack(gates, notesFor(recipe, "human-appraise"), intents),
    quench: renderQuenchPack(gates, notesFor(recipe, "quench")),
    assay: renderAssayPack(intents, notesFor(recipe, "assay")),
  }
  for (const base of STAGE_BASES) packs[base] = { text: baseText[base] }
  for (const key of Object.keys(recipe.stages).sort()) {
    if (parseStage(key).alias !== undefined) packs[key] = { text: n(recipe.stages[key]!) }
  }

  const candidate = {
    $type: BUNDLE_TYPE,
    brief: { id: recipe.id, title, formation, notes, text: renderBrief({ id: recipe.id, title, formation, notes }, intents) },
    intents,
    sources: [...ordered.map((s) => ({ kind: "intent" as const, id: s.value.id, digest: sourceDigest(s.text) })), { kind: "recipe" as const, id: recipe.id, digest: sourceDigest(input.recipe.text) }],
    packs,
    overlay: { gates },
    // only recipes that use the composition fields get one: every other bundle keeps its bytes
    ...(usesComposition(recipe)
      ? { composition: deriveComposition({ recipe, intents, gates, ...(input.targets ? { targets: input.targets } : {}), notes: (k) => notesFor(recipe, k), briefNotes: notes }) }
      : {}),
  }
  const { bytes, digest, value } = encodeCanonical(candidate)
  const checked = BundleSchema.safeParse(value)
  if (!checked.success) {
    throw new AlloyError("malformed", `built bundle does not match ${BUNDLE_TYPE}: ${checked.error.issues[0]?.message}`)
  }
  return { bundle: checked.data, bytes, digest }
}

/**
 * The notes written for a base stage, read back from a stored pack: the text after the last
 * notes heading (quoted by this renderer, raw in bundles built before it). Whatever is found is
 * rendered again as quoted authored text, so a stored pack can never inject anything else.
 */
export function notesFromPack(text: string | undefined, heading: string): string | undefined {
  if (!text) return undefined
  const marker = `\n\n${heading}\n\n`
  const i = text.lastIndexOf(marker)
  if (i < 0) return undefined
  const tail = text.slice(i + marker.length)
  return tail.split("\n").every((l) => l === ">" || l.startsWith("> ")) ? unquote(tail) : tail
}

/**
 * A base stage's pack, rendered again from the bundle's structured parts (intents, gates, notes)
 * through the prompt-safe renderer. The hooks and tools never hand out a stored pack text as it
 * is: a bundle built by an older renderer, or written to the store by hand, is still rendered
 * safely. For a bundle built by this renderer the result equals the stored pack.
 */
export function renderBasePack(bundle: Bundle, base: StageBase, scope?: { intents: readonly BundleIntent[]; gates: readonly Gate[] }): string {
  const notes = notesFromPack(bundle.packs[base]?.text, NOTES_HEADINGS[base])
  const intents = scope?.intents ?? bundle.intents
  const gates = scope?.gates ?? bundle.overlay.gates
  switch (base) {
    case "forge":
      return renderForgePack(intents, notes, bundle.brief.notes)
    case "appraise":
      return renderAppraisePack(gates, notes, intents)
    case "human-appraise":
      return renderHumanPack(gates, notes, intents)
    case "quench":
      return renderQuenchPack(gates, notes)
    case "assay":
      return renderAssayPack(intents, notes)
  }
}

/** The whole Formation Brief, rendered again from the bundle's structured parts (see `renderBasePack`). */
export function briefText(bundle: Bundle): string {
  const b = bundle.brief
  return renderBrief({ id: b.id, title: b.title, formation: b.formation, notes: b.notes }, bundle.intents)
}

// ---- formation composition (alloy.formation/v1) ---------------------------------------------

/** The cycles each criterion applies to: its own scope, else its intent's, else every formation cycle. */
export function criterionCycles(recipe: Recipe, intents: readonly BundleIntent[]): Map<string, string[]> {
  const scope = recipe.formation.scope ?? {}
  const all = recipe.formation.cycles
  const out = new Map<string, string[]>()
  for (const i of intents) {
    for (const c of i.acceptance_criteria) out.set(c.ref, scope[c.ref] ?? scope[i.id] ?? all)
  }
  return out
}

/**
 * The edges a composition records: for each formation cycle, the formation cycles its Foundry
 * `targets` name, once each, sorted. One rule for the build and for drift (service/pin-scan.ts).
 */
export function compositionEdges(cycles: readonly string[], targets: Readonly<Record<string, readonly string[]>> | undefined): Record<string, string[]> {
  const inFormation = new Set(cycles)
  return Object.fromEntries(cycles.map((id) => [id, [...new Set(targets?.[id] ?? [])].filter((t) => inFormation.has(t)).sort()]))
}

/** Does this recipe use the composition fields (and so get a composition in its bundle)? */
export function usesComposition(recipe: Recipe): boolean {
  return recipe.formation.scope !== undefined || recipe.formation.allow_ungated !== undefined
}

/** An intent restricted to the criteria that apply to one cycle (undefined when nothing of it applies). */
export function intentForCycle(i: BundleIntent, cycle: string, applies: (ref: string) => boolean, wholeScope?: readonly string[]): BundleIntent | undefined {
  const criteria = i.acceptance_criteria.filter((c) => applies(c.ref))
  const intentApplies = wholeScope ? wholeScope.includes(cycle) : criteria.length > 0 || i.acceptance_criteria.length === 0
  if (!intentApplies && criteria.length === 0) return undefined
  return { ...i, acceptance_criteria: criteria }
}

interface CompositionInput {
  readonly recipe: Recipe
  readonly intents: readonly BundleIntent[]
  readonly gates: readonly Gate[]
  readonly targets?: Readonly<Record<string, readonly string[]>>
  readonly notes: (stage: string) => string | undefined
  readonly briefNotes: string
}

/**
 * Derive the composition. A criterion is gated when it has evidence and applies to at least
 * one cycle of the formation; an ungated criterion fails the build unless the recipe sets
 * `formation.allow_ungated: true` (then the bundle lists it in `ungated`).
 */
function deriveComposition(input: CompositionInput): Composition {
  const { recipe, intents, gates } = input
  const applies = criterionCycles(recipe, intents)
  const scope = recipe.formation.scope ?? {}
  const cycles = recipe.formation.cycles
  const ungated: string[] = []
  for (const i of intents) {
    for (const c of i.acceptance_criteria) {
      if (c.evidence.length === 0 || (applies.get(c.ref) ?? []).length === 0) ungated.push(c.ref)
    }
  }
  const allow = recipe.formation.allow_ungated === true
  if (ungated.length && !allow) {
    throw new AlloyError(
      "ungated",
      `brief ${recipe.id}: ${ungated.length} acceptance criteri${ungated.length === 1 ? "on has" : "a have"} no gate in the formation, so nothing could prove ${ungated.length === 1 ? "it" : "them"}: ${ungated.join(", ")}`,
      {
        details: ungated.map((r) => ({ path: r, message: "no evidence, or applies to no cycle of the formation" })),
        fix: "give each criterion evidence and scope it to a formation cycle (formation.scope), or set `formation.allow_ungated: true` in the recipe (shown in the bundle)",
      },
    )
  }
  return {
    $type: FORMATION_TYPE,
    cycles: cycles.map((id) => {
      const mine = intents.map((i) => intentForCycle(i, id, (ref) => applies.get(ref)?.includes(id) ?? false, scope[i.id])).filter((i): i is BundleIntent => i !== undefined)
      const refs = new Set(mine.flatMap((i) => i.acceptance_criteria.map((c) => c.ref)))
      const cycleGates = gates.filter((g) => refs.has(g.criterion))
      return {
        id,
        targets: compositionEdges(cycles, input.targets)[id]!,
        criteria: [...refs],
        gates: cycleGates.map((g) => g.id),
        packs: {
          forge: { text: renderForgePack(mine, input.notes("forge"), input.briefNotes) },
          quench: { text: renderQuenchPack(cycleGates, input.notes("quench")) },
          appraise: { text: renderAppraisePack(cycleGates, input.notes("appraise"), mine) },
          "human-appraise": { text: renderHumanPack(cycleGates, input.notes("human-appraise"), mine) },
          assay: { text: renderAssayPack(mine, input.notes("assay")) },
        },
      }
    }),
    ungated,
    allow_ungated: allow,
  }
}
