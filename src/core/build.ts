/**
 * Building: recipe + intents -> one bundle object, deterministically. No model calls, no
 * clocks, no machine facts: the same sources give the same bytes and digest everywhere.
 */
import { AlloyError } from "./errors.js"
import { BUNDLE_TYPE, BundleSchema, type Bundle, type BundleIntent, type Gate } from "./bundle.js"
import { encodeCanonical, normalizeText, sourceDigest } from "./digest.js"
import { criterionRef, gateLawId, parseStage, STAGE_BASES, type StageBase } from "./ids.js"
import type { Intent } from "./intent.js"
import type { Recipe } from "./recipe.js"
import { code, inline, quote, unquote } from "./prompt-safety.js"
import {
  NOTES_HEADINGS,
  renderAppraisePack,
  renderAssayPack,
  renderBrief,
  renderForgePack,
  renderHumanPack,
  renderLawGate,
  renderQuenchPack,
} from "./render.js"

export interface SourceFile<T> {
  readonly value: T
  /** the file's text as read, used for the source digest */
  readonly text: string
}

export interface BuildInput {
  readonly recipe: SourceFile<Recipe>
  /** every intent the recipe names (order does not matter) */
  readonly intents: ReadonlyArray<SourceFile<Intent>>
}

export interface BuildOutput {
  readonly bundle: Bundle
  readonly bytes: Buffer
  readonly digest: string
}

const n = (s: string) => normalizeText(s)

function toBundleIntent(i: Intent): BundleIntent {
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
          gates.push({ ...base, kind: "human", stage: "human-appraise", ...(who ? { who } : {}), text: `A person${who ? ` (${inline(who)})` : ""} confirms: ${inline(c.text)}${how ? ` (${inline(how)})` : ""}` })
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
    sources: [
      ...ordered.map((s) => ({ kind: "intent" as const, id: s.value.id, digest: sourceDigest(s.text) })),
      { kind: "recipe" as const, id: recipe.id, digest: sourceDigest(input.recipe.text) },
    ],
    packs,
    overlay: { gates },
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
export function renderBasePack(bundle: Bundle, base: StageBase): string {
  const notes = notesFromPack(bundle.packs[base]?.text, NOTES_HEADINGS[base])
  const { intents } = bundle
  const gates = bundle.overlay.gates
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

/**
 * The pack text for a stage: the base pack, then the notes written for this exact
 * `<base>:<alias>` (if any), quoted. `forge:draft-release-note` and `forge` both resolve.
 */
export function packFor(bundle: Bundle, stage: string): { key: string; text: string } {
  const s = parseStage(stage)
  const base = renderBasePack(bundle, s.base)
  const specific = s.alias !== undefined ? bundle.packs[`${s.base}:${s.alias}`]?.text : undefined
  return { key: specific !== undefined ? `${s.base}:${s.alias}` : s.base, text: specific ? `${base}\n\n**Notes for ${s.raw}**\n\n${quote(specific)}` : base }
}

/** The gates that apply at a stage (all gates when no stage is given). */
export function gatesFor(bundle: Bundle, stage?: string): Gate[] {
  if (stage === undefined) return bundle.overlay.gates
  const s = parseStage(stage)
  if (s.base === "forge" || s.base === "assay") return bundle.overlay.gates
  return bundle.overlay.gates.filter((g) => g.stage === s.base)
}
