/**
 * Pure rewriting of `foundry_orchestrate` results (ALLOY.md §6, CONTRACTS.md §4.2, §5): given the
 * parsed result and a verified bundle, return the new result. No I/O here.
 *
 * - `dispatch` (forge/assay): Foundry's prompt stays an exact prefix; the Alloy block is appended
 *   after it (and after Foundry's own `## Flow memory` extras) as `prompt + "\n\n" + block`.
 * - `dispatch_multi` (appraisers): the overlay's law gates go INSIDE each prompt's `## Laws`
 *   section, right before `\n\n## Output\n`, so the required YAML output format stays the end.
 * - `human_appraise`: `context.alloy` carries the sign-off criteria; every other key is kept.
 * - A pin that does not verify turns the result into `blocked` (or, in warn mode, adds a
 *   warning that carries nothing from the unverified bundle).
 */
import type { Bundle } from "../../core/bundle.js"
import { gatesFor, packFor } from "../../core/formation.js"
import type { AlloyError } from "../../core/errors.js"
import { gateLawId, isFoundryId, parseCriterionRef } from "../../core/ids.js"
import { inline } from "../../core/prompt-safety.js"
import { lawGateText } from "../../core/render.js"
import { lawsGivenIn, placeGates, resumeInstruction, stageBaseOf, type Generation } from "../../foundry/generations.js"

export type Json = Record<string, unknown>

export const ALLOY_HEADING = "## Alloy"
export const ALLOY_WARNING_HEADING = "## Alloy (warning: pin not verified)"
export const REWRITTEN_ACTIONS = ["dispatch", "dispatch_multi", "human_appraise"] as const
export type RewrittenAction = (typeof REWRITTEN_ACTIONS)[number]

/** What the hook knows about a pin that verified. */
export interface VerifiedPin {
  readonly cycle: string
  readonly brief_id: string
  readonly digest: string
  readonly stale: boolean
  /** the digest the brief's ref points at now, when it differs from the pin */
  readonly current?: string | undefined
}

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v)
}

export function isRewrittenAction(a: unknown): a is RewrittenAction {
  return a === "dispatch" || a === "dispatch_multi" || a === "human_appraise"
}

const CYCLE_LINE_RE = /^Cycle:[ \t]*(.*?)[ \t]*$/m

/**
 * The cycle id of Foundry's `Cycle: <id>` line (the first one: Foundry's header comes first).
 * `undefined` when there is no such line, `null` when the line names something that is not a cycle id.
 */
export function cycleFromPrompt(prompt: unknown): string | null | undefined {
  if (typeof prompt !== "string") return undefined
  const m = CYCLE_LINE_RE.exec(prompt)
  if (!m) return undefined
  return isFoundryId(m[1]) ? m[1] : null
}

/** A named cycle: the id, `null` when named but not a valid id, `undefined` when not named. */
function named(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return undefined
  return isFoundryId(v) ? v : null
}

/**
 * The cycle a result is about, from the result itself; never from the stage alias.
 * `null` means the result names a cycle that is not a valid id (hostile or corrupt output):
 * the hooks then leave the result alone rather than guess.
 */
export function cycleOfResult(result: Json): string | null | undefined {
  switch (result["action"]) {
    case "dispatch":
      return cycleFromPrompt(result["prompt"])
    case "dispatch_multi":
      return named(result["cycle"])
    case "human_appraise": {
      const c = isObject(result["context"]) ? named(result["context"]["cycle"]) : undefined
      return c !== undefined ? c : named(result["cycle"])
    }
    default:
      return undefined
  }
}

/** The cycle a result names, as display text (flattened, clipped), for a result whose cycle is not a valid id. */
export function namedCycleText(result: Json): string {
  let raw: unknown
  if (result["action"] === "dispatch") raw = typeof result["prompt"] === "string" ? CYCLE_LINE_RE.exec(result["prompt"])?.[1] : undefined
  else if (result["action"] === "human_appraise") raw = isObject(result["context"]) ? (result["context"]["cycle"] ?? result["cycle"]) : result["cycle"]
  else raw = result["cycle"]
  const text = inline(typeof raw === "string" ? raw : (JSON.stringify(raw) ?? ""))
  return text.length > 80 ? `${text.slice(0, 77)}...` : text || "(unnamed)"
}

/** Has this result been rewritten by Alloy already (e.g. the plugin is loaded twice)? */
export function alreadyRewritten(result: Json): boolean {
  if ("alloy" in result) return true
  return isObject(result["context"]) && "alloy" in result["context"]
}

function pinSummary(pin: VerifiedPin): Json {
  return {
    brief_id: pin.brief_id,
    digest: pin.digest,
    verified: true,
    stale: pin.stale,
    ...(pin.stale && pin.current ? { current_digest: pin.current } : {}),
  }
}

export function staleNote(pin: VerifiedPin): string {
  return (
    `Stale pin: a newer build of ${pin.brief_id} exists${pin.current ? ` (${pin.current})` : ""}. ` +
    `This stage runs on the pinned build, exactly as pinned; to move the cycle to the newer build, re-pin it on the base branch ` +
    `(\`opencode-alloy pin ${pin.cycle} ${pin.brief_id}\`).`
  )
}

/** How to fetch the full brief: the exact `alloy_brief_resolve` call. */
export function resolveCall(pin: Pick<VerifiedPin, "brief_id" | "digest">): string {
  // both are validated (slug, sha256 digest), so no escaping is needed
  return `alloy_brief_resolve({ "brief_id": "${pin.brief_id}", "digest": "${pin.digest}" })`
}

/**
 * The Alloy block appended to a forge/assay prompt: the pin, a one-line verification statement
 * (plus a stale note), the stage's Prompt Pack, and how to get the full brief. It says nothing
 * about tool-call order, so Foundry's FIRST/LAST-call rules stand as they are.
 */
export function renderDispatchBlock(bundle: Bundle, pin: VerifiedPin, stage: string): string {
  const pack = packFor(bundle, pin.cycle, stage)
  const lines = [
    ALLOY_HEADING,
    "",
    `Pinned brief: ${pin.brief_id} @ ${pin.digest} (verified: the bundle's bytes hash to this digest)`,
    ...(pin.stale ? [staleNote(pin)] : []),
    "",
    pack.text.trim(),
    "",
    `The full Formation Brief (goal, context, constraints, every acceptance criterion with its evidence) is available from: ${resolveCall(pin)}`,
  ]
  return lines.join("\n")
}

/** `dispatch`: Foundry's prompt (with any flow-memory extras) stays an exact prefix. */
export function injectDispatch(result: Json, block: string, pin: VerifiedPin): Json {
  return { ...result, prompt: `${result["prompt"] as string}\n\n${block}`, alloy: pinSummary(pin) }
}

export interface AppraiseLaws {
  text: string
  lawIds: string[]
  /** each gate with the Foundry law its criterion names (one gate per criterion: see lawsFor) */
  gates?: Array<{ text: string; lawId: string; foundryLaw: string | undefined }>
}

/**
 * The law gates appraisers grade, in Foundry's law format, joined the way Foundry joins laws:
 * only those of criteria that apply to this cycle (all of them for an unscoped brief).
 * Rendered again from the bundle's intents (never from stored gate text), and each law id is
 * derived from the gate's validated criterion reference, so a bundle written by hand cannot add
 * a heading of its choosing to `## Laws`.
 */
export function renderAppraiseLaws(bundle: Bundle, cycle: string | undefined): AppraiseLaws {
  const laws = gatesFor(bundle, cycle, "appraise").filter((g) => g.kind === "law" && parseCriterionRef(g.criterion) !== undefined)
  const named = new Map<string, string>()
  for (const i of bundle.intents) for (const c of i.acceptance_criteria) for (const e of c.evidence) if (e.kind === "law" && typeof e.law === "string" && isFoundryId(e.law)) named.set(c.ref, e.law)
  const gates = laws.map((g) => {
    const r = parseCriterionRef(g.criterion)!
    return { text: lawGateText(g, bundle.intents), lawId: gateLawId(r.intent, r.ac), foundryLaw: named.get(g.criterion) }
  })
  return { text: gates.map((g) => g.text).join("\n\n"), lawIds: gates.map((g) => g.lawId), gates }
}

/**
 * One gate per criterion: a criterion whose law the appraiser is already given (a `## <law>`
 * heading in Foundry's own `## Laws` section, never one in the artefact: `lawsGivenIn`) is graded
 * by that law, not by a second Alloy gate. That law is the Foundry law the criterion names, or the gate's own `alloy--<intent>--ac-n` law once the
 * formation designer has written it into the project's Foundry laws. Foundry's `law:<law>`
 * feedback counts for the criterion either way. A law the prompt does not show keeps the Alloy
 * gate, so no criterion goes ungraded.
 */
export function lawsFor(prompt: string, laws: AppraiseLaws): string {
  if (!laws.gates) return laws.text
  const given = lawsGivenIn(prompt)
  return laws.gates
    .filter((g) => !((g.foundryLaw && given.has(g.foundryLaw)) || given.has(g.lawId)))
    .map((g) => g.text)
    .join("\n\n")
}

// ---- protocol placement (per Foundry generation: src/foundry/generations.ts) ----------------

/** Put extra laws into an appraiser prompt before Foundry's final output instruction (3.6 `## Output`, 3.7 JSONL, run era). */
export function insertLaws(prompt: string, laws: string): string {
  return placeGates(prompt, laws)
}

/** `dispatch_multi`: every task prompt gets the appraisal gates; everything else stays. */
export function injectAppraise(result: Json, laws: AppraiseLaws, pin: VerifiedPin): Json {
  const tasks = Array.isArray(result["tasks"]) ? (result["tasks"] as unknown[]) : []
  const next = laws.text
    ? tasks.map((t) => {
        if (!isObject(t) || typeof t["prompt"] !== "string") return t
        const text = lawsFor(t["prompt"], laws)
        return text ? { ...t, prompt: insertLaws(t["prompt"], text) } : t
      })
    : tasks
  return { ...result, tasks: next, alloy: { ...pinSummary(pin), laws: laws.lawIds } }
}

/** `human_appraise`: add the criteria whose evidence is a human sign-off to `context.alloy`. */
export function humanContext(bundle: Bundle, pin: VerifiedPin, stage: string): Json {
  const signoffs = gatesFor(bundle, pin.cycle, "human-appraise")
    .filter((g) => g.kind === "human")
    .map((g) => ({ criterion: g.criterion, text: inline(g.title), who: g.who ? inline(g.who) : null }))
  return { ...pinSummary(pin), ...(pin.stale ? { stale_note: staleNote(pin) } : {}), signoffs, checklist: packFor(bundle, pin.cycle, stage).text }
}

export function injectHuman(result: Json, alloy: Json): Json {
  const context = isObject(result["context"]) ? result["context"] : {}
  return { ...result, context: { ...context, alloy } }
}

// ---- pin failures ----------------------------------------------------------------------

export interface PinFailure {
  readonly cycle: string
  readonly stage: string | undefined
  readonly error: AlloyError
  readonly brief_id: string | undefined
  readonly digest: string | undefined
  /** the protocol generation the block happened in (decides how to resume) */
  readonly generation?: Generation | undefined
  /** the refused result's action (a blocked appraisal resumes differently) */
  readonly action?: string | undefined
}

/** `Alloy: cycle <id>: <problem>. Fix: <command>` — names the cycle, the problem and the fix. */
export function failureReason(f: PinFailure): string {
  // flattened: the reason is one line of text an agent reads, whatever the message holds
  const where = inline(f.error.withContext({ cycle: f.cycle }).describe()).replace(/[.\s]+$/, "")
  const fix = (f.error.fix ?? "run `opencode-alloy verify` to see every pin problem and how to fix it").replaceAll("<cycle>", f.cycle)
  return `Alloy: ${where}. Fix: ${inline(fix)}`
}

/** How to resume once the pin is fixed, for the stage kind that was refused. */
export function resumeFor(f: PinFailure): string {
  return resumeInstruction(f.generation ?? "orchestrate-3.6", stageBaseOf(f.stage, f.action))
}

function failureInfo(f: PinFailure): Json {
  return { code: f.error.code, brief_id: f.brief_id ?? null, digest: f.digest ?? null, stage: f.stage ?? null }
}

/** Fail closed: the agent gets no stage to run, and the reason says what to fix. */
export function blockedResult(result: Json, f: PinFailure): Json {
  const ctx = isObject(result["context"]) ? result["context"] : undefined
  const artefact = ctx && typeof ctx["artefact_file"] === "string" ? ctx["artefact_file"] : null
  const resume = resumeFor(f)
  return { action: "blocked", cycle: f.cycle, artefact_file: artefact, reason: `${failureReason(f)}. Then: ${resume}`, alloy: { ...failureInfo(f), resume } }
}

/** Warn mode: Foundry's result goes through with a marked warning and nothing from the unverified bundle. */
export function warnResult(result: Json, f: PinFailure): Json {
  const reason = failureReason(f)
  const alloy = { ...failureInfo(f), verified: false, warning: reason }
  switch (result["action"]) {
    case "dispatch":
      return {
        ...result,
        prompt: `${result["prompt"] as string}\n\n${ALLOY_WARNING_HEADING}\n\nThis cycle is pinned to an Alloy brief, but the pinned bundle could not be verified, so no Alloy context is included. ${reason}`,
        alloy,
      }
    case "human_appraise":
      return injectHuman(result, alloy)
    default:
      return { ...result, alloy }
  }
}
