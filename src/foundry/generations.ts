/**
 * Foundry's protocol generations: the one home for what differs between them.
 *
 *   orchestrate-3.6  `foundry_orchestrate` drives the cycle; dispatch prompts carry the stage token;
 *                    appraiser prompts end with a `## Output` section asking for YAML.
 *   shapes-3.7       still `foundry_orchestrate`, but appraisers answer in JSONL and their prompt has
 *                    no `## Output` heading; `human_appraise` has no `token`; the forge prompt
 *                    presents one feedback item at a time.
 *   run              `foundry_run({flow, goal})` / `foundry_continue()` drive the run inside the
 *                    tool call; forge and appraise stages are separate sessions of the fixed agents
 *                    `foundry-forge` / `foundry-appraise` started on the same server, whose first
 *                    message is the stage prompt; results go through `foundry_stage_output` into
 *                    `.foundry/stage-outputs/*.jsonl`, attestations into `.foundry/attestations/`.
 *   unknown          anything else: Alloy cannot know where its context would land, so pinned runs
 *                    are refused (fail closed) unless `onPinFailure: "warn"` is set.
 *
 * Pure: no I/O. The hooks classify once per project state and ask this module where things go.
 */

export const GENERATIONS = ["orchestrate-3.6", "shapes-3.7", "run", "unknown"] as const
export type Generation = (typeof GENERATIONS)[number]
export type KnownGeneration = Exclude<Generation, "unknown">

/** How Alloy's context reaches the stage agent in a generation. */
export type InjectionPoint = "orchestrate-result" | "child-session-first-message"

export interface GenerationShape {
  readonly generation: KnownGeneration
  /** `foundry/VERSION` lines of this generation (major.minor), when known */
  readonly versions: readonly string[]
  /** the tools that drive a cycle in this generation (Alloy hooks them) */
  readonly driverTools: readonly string[]
  /** tools Alloy relies on besides the drivers */
  readonly stageTools: readonly string[]
  /** the fixed agents of the generation (empty: per-model agents `foundry-<model-slug>`) */
  readonly agents: readonly string[]
  readonly stageKinds: readonly string[]
  readonly injection: InjectionPoint
  /** features Alloy relies on (named in the capability manifest and the compatibility check) */
  readonly features: readonly string[]
}

const STAGE_KINDS = ["assay", "forge", "quench", "appraise", "human-appraise"] as const

export const RUN_AGENTS = ["foundry-guide", "foundry-admin", "foundry-forge", "foundry-appraise", "foundry-assay"] as const
/** The run-era agents whose first message is a stage prompt Alloy must see (the compat check requires forge and appraise). */
export const RUN_STAGE_AGENTS = ["foundry-forge", "foundry-appraise"] as const
/** Every run-era agent whose first message is a pinned stage's prompt (assay gets the forge-style block). */
export const RUN_PROMPTED_AGENTS = [...RUN_STAGE_AGENTS, "foundry-assay"] as const

export const SHAPES: Readonly<Record<KnownGeneration, GenerationShape>> = {
  "orchestrate-3.6": {
    generation: "orchestrate-3.6",
    versions: ["3.6"],
    driverTools: ["foundry_orchestrate"],
    stageTools: ["foundry_stage_begin", "foundry_stage_end"],
    agents: [],
    stageKinds: STAGE_KINDS,
    injection: "orchestrate-result",
    features: ["stage-token-in-prompt", "dispatch_multi-output-heading", "human_appraise-token", "active-stage-file"],
  },
  "shapes-3.7": {
    generation: "shapes-3.7",
    versions: ["3.7"],
    driverTools: ["foundry_orchestrate"],
    stageTools: ["foundry_stage_begin", "foundry_stage_end"],
    agents: [],
    stageKinds: STAGE_KINDS,
    injection: "orchestrate-result",
    features: ["dispatch_multi-jsonl-answers", "forge-single-feedback-item", "active-stage-file"],
  },
  run: {
    generation: "run",
    versions: [],
    driverTools: ["foundry_run", "foundry_continue"],
    stageTools: ["foundry_stage_begin", "foundry_stage_end", "foundry_stage_output"],
    agents: RUN_AGENTS,
    stageKinds: STAGE_KINDS,
    injection: "child-session-first-message",
    features: ["child-session-stage-prompt", "stage-outputs-jsonl", "attestations-jsonl"],
  },
}

export interface ClassifyInput {
  /** `foundry/VERSION`, when present */
  readonly version?: string | undefined
  /** tool ids known to be registered (from the server), when known */
  readonly toolIds?: readonly string[] | undefined
  /** a driver tool seen being called (the call itself proves the tool exists) */
  readonly calledTool?: string | undefined
}

function majorMinor(version: string | undefined): string | undefined {
  const m = version === undefined ? null : /^(\d+)\.(\d+)(?:\.|$)/.exec(version.trim())
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined
}

/**
 * Which generation a project runs. The tool set decides first (a `foundry_run` tool means the run
 * era whatever VERSION says); otherwise `foundry/VERSION`'s major.minor. Nothing known: unknown.
 */
export function classifyGeneration(input: ClassifyInput): Generation {
  const tools = new Set(input.toolIds ?? [])
  if (input.calledTool) tools.add(input.calledTool)
  if (tools.has("foundry_run") || tools.has("foundry_continue")) return "run"
  const mm = majorMinor(input.version)
  for (const g of ["orchestrate-3.6", "shapes-3.7"] as const) if (mm && SHAPES[g].versions.includes(mm)) return g
  return "unknown"
}

// ---- appraiser prompts: where gates go ---------------------------------------------------

/**
 * Where Foundry's final output instruction starts in an appraiser prompt, or -1. Each known
 * generation's marker, earliest first; the instruction starts at the paragraph holding the marker.
 *   3.6: the `## Output` heading (the last one: it closes the prompt); after Foundry's `## Laws`
 *   section it is the only marker read, since the artefact above may say anything
 *   3.7 / run era: the paragraph that asks for JSONL lines ("For each law, evaluate ... output a
 *   JSONL line"), or any later line that names JSONL or "one JSON object per line".
 */
export function outputInstructionStart(prompt: string): number {
  const candidates: number[] = []
  const heading = prompt.lastIndexOf("\n## Output\n")
  // 3.6: Foundry's own `## Laws` section and then the `## Output` heading that closes the prompt.
  // The artefact is inlined above them and is written by the work itself, so nothing in it (a line
  // naming JSONL, "Output ONLY"...) may move the gates into it: the heading alone decides.
  const laws = prompt.lastIndexOf("\n## Laws\n")
  if (heading >= 0 && laws >= 0 && laws < heading) return heading + 1
  if (heading >= 0) candidates.push(heading + 1)
  if (prompt.startsWith("## Output\n")) candidates.push(0)
  for (const re of [/^For each law, evaluate\b/m, /\bJSONL\b/, /one JSON object per line/i, /^Output ONLY\b/m, /\bfoundry_stage_output\b/]) {
    const m = re.exec(prompt)
    if (m) candidates.push(paragraphStart(prompt, m.index))
  }
  return candidates.length ? Math.min(...candidates) : -1
}

/** Start of the paragraph holding `at` (after the last blank line before it; a tag line counts as a break). */
function paragraphStart(text: string, at: number): number {
  const blank = text.lastIndexOf("\n\n", at)
  const start = blank < 0 ? 0 : blank + 2
  // inside a <persona> wrapper the paragraph may begin right after the tag line
  const tag = text.lastIndexOf(">\n", at)
  return tag >= start && tag < at ? tag + 2 : start
}

/**
 * The law ids a 3.6 appraiser prompt already grades: the `## <law>` headings of Foundry's own
 * `## Laws` section, which follows the artefact and ends at the `## Output` heading. Only that
 * section counts. The artefact is inlined above it and is written by the work itself, so a law
 * heading (or a `## Laws` of its own) in the artefact proves nothing; the last `## Laws` heading is
 * Foundry's. Without one (3.7 and the run era fetch laws through a tool) no law is given.
 */
export function lawsGivenIn(prompt: string): Set<string> {
  const given = new Set<string>()
  const start = prompt.lastIndexOf("\n## Laws\n")
  if (start < 0) return given
  const end = prompt.indexOf("\n## Output\n", start)
  const section = prompt.slice(start + "\n## Laws\n".length, end < 0 ? undefined : end + 1)
  for (const m of section.matchAll(/^## (\S+)[ \t]*$/gm)) given.add(m[1]!)
  return given
}

/**
 * Put law gates into an appraiser prompt BEFORE Foundry's final output instruction, never after it:
 * Foundry's text is kept byte for byte on both sides. With no recognisable output instruction the
 * gates go first, so they can never follow whatever the prompt ends with.
 */
export function placeGates(prompt: string, gates: string): string {
  if (!gates) return prompt
  const at = outputInstructionStart(prompt)
  // byte-exact: Foundry's text on both sides is untouched; the gates and one blank line go in between
  return at < 0 ? `${gates}\n\n${prompt}` : `${prompt.slice(0, at)}${gates}\n\n${prompt.slice(at)}`
}

// ---- recoverable blocks -------------------------------------------------------------------

export type StageBase = "forge" | "assay" | "appraise" | "human-appraise" | "quench" | "run"

/**
 * How to resume after a block, once the pin is fixed, per generation and stage kind. A blocked
 * appraisal must never be answered with `lastResults: []` (Foundry would consolidate no findings and
 * finish the appraisal unappraised): Alloy keeps the blocked task list and hands it out again.
 */
export function resumeInstruction(generation: Generation, stage: StageBase): string {
  if (generation === "run" || stage === "run") {
    return "once `opencode-alloy verify` passes, call foundry_continue() (or foundry_run again if no WORK.md was written); the run resumes at the same stage"
  }
  switch (stage) {
    case "appraise":
      return (
        "once `opencode-alloy verify` passes, call foundry_orchestrate() with no arguments: Alloy hands out this appraisal's tasks again, verified. " +
        "Do NOT answer with lastResults: [] (that would finish the appraisal with no appraisers run)"
      )
    case "human-appraise":
      return "once `opencode-alloy verify` passes, call foundry_orchestrate() with no arguments to get the human appraisal again; do not sign anything off meanwhile"
    default:
      return "once `opencode-alloy verify` passes, call foundry_orchestrate() with no arguments to get this stage's dispatch again; do not start the stage meanwhile"
  }
}

export function stageBaseOf(stage: string | undefined, action?: string): StageBase {
  const base = stage?.split(":")[0]
  if (base === "forge" || base === "assay" || base === "appraise" || base === "human-appraise" || base === "quench") return base
  if (action === "dispatch_multi") return "appraise"
  if (action === "human_appraise") return "human-appraise"
  return "forge"
}

/** Why an unknown protocol refuses a pinned run, and the fix. */
export function unknownProtocolReason(version: string | undefined): string {
  const v = version === undefined ? "no foundry/VERSION" : `foundry/VERSION ${JSON.stringify(version.slice(0, 20))}`
  return (
    `Alloy does not know this Foundry protocol (${v}), so it cannot place the pinned brief where the stage agent will read it. ` +
    "Fix: use a Foundry generation Alloy supports (3.6, 3.7 or the foundry_run era; `opencode-alloy caps` shows what is installed), " +
    'or set the Alloy plugin option onPinFailure: "warn" to run unpinned on purpose'
  )
}
