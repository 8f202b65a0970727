/**
 * Run-era Foundry (`foundry_run` / `foundry_continue`): the stage prompts never pass through a tool
 * result Alloy can rewrite. Forge and appraise stages are separate sessions of `foundry-forge` /
 * `foundry-appraise` whose FIRST message is the stage prompt (Foundry attaches it as a file), so:
 *
 *   chat.message          a pinned stage session gets the verified pack in its first message
 *                         (forge: the `## Alloy` block after Foundry's prompt; appraise: the law gates
 *                         before Foundry's output instruction); an unverified pin refuses the message
 *   tool.execute.before   `foundry_run` / `foundry_continue` for a flow with a pin that does not
 *                         verify is refused before Foundry starts anything (the call throws)
 *
 * Both fail closed: `onPinFailure: "warn"` is the only way through with an unverified pin.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { AlloyError } from "../../core/errors.js"
import { isSlug } from "../../core/ids.js"
import type { LocatedPin } from "../../core/pin.js"
import type { AlloyContext } from "../../service/context.js"
import { resolvePin } from "../../service/resolve.js"
import { appendEvent } from "../../store/outbox.js"
import { placeGates, RUN_PROMPTED_AGENTS, resumeInstruction } from "../../foundry/generations.js"
import type { Logger } from "../log.js"
import type { AlloyOptions } from "../options.js"
import { ALLOY_HEADING, ALLOY_WARNING_HEADING, cycleFromPrompt, failureReason, lawsFor, renderAppraiseLaws, renderDispatchBlock, type PinFailure, type VerifiedPin } from "./dispatch.js"

/** A refusal the runtime shows to the caller; its message is the whole reason (no stack). */
export class AlloyBlock extends Error {
  constructor(message: string) {
    super(message)
    this.name = "AlloyBlock"
    this.stack = message
  }
}

const PROMPT_FILE_LIMIT = 1024 * 1024
const STAGE_AGENTS = new Set<string>(RUN_PROMPTED_AGENTS)

export interface TextPart {
  type: string
  text?: string
  synthetic?: boolean
  url?: string
  filename?: string
  mime?: string
}

/** The stage kind of a run-era agent. */
function stageOfAgent(agent: string): "forge" | "appraise" | "assay" {
  return agent === "foundry-appraise" ? "appraise" : agent === "foundry-assay" ? "assay" : "forge"
}

/** The pins that apply to a flow's cycles (flow pin included); lookup errors are failures too. */
function flowPins(ctx: AlloyContext, flow: string): Array<{ cycle: string; pin?: LocatedPin; error?: AlloyError }> {
  let cycles: string[]
  try {
    cycles = ctx.project.cyclesOfFlow(flow)
  } catch {
    return [] // not a flow Alloy can read: Foundry will refuse it itself
  }
  const out: Array<{ cycle: string; pin?: LocatedPin; error?: AlloyError }> = []
  for (const cycle of cycles) {
    try {
      const pin = ctx.project.pinForCycleCached(cycle)
      if (pin) out.push({ cycle, pin })
    } catch (e) {
      if (e instanceof AlloyError && e.code !== "cycle_not_found") out.push({ cycle, error: e })
    }
  }
  return out
}

export interface RunEraHooks {
  /** `tool.execute.before` for foundry_run / foundry_continue: throws AlloyBlock to refuse */
  beforeRun(tool: string, args: unknown): void
  /** `chat.message`: rewrite the first message of a pinned stage session */
  chatMessage(agent: string | undefined, parts: TextPart[]): void
}

export function createRunEraHooks(ctx: AlloyContext, options: AlloyOptions, log: Logger): RunEraHooks {
  const event = (e: Parameters<typeof appendEvent>[1]) => {
    try {
      appendEvent(ctx.root, e)
    } catch (err) {
      log("warn", `could not append to .alloy/runs/events.jsonl: ${(err as Error).message}`)
    }
  }

  function refuse(f: PinFailure, why: string): never {
    const reason = `${failureReason(f)}. Then: ${resumeInstruction("run", "run")}`
    event({
      kind: "stage_blocked",
      cycle: f.cycle,
      ...(f.stage ? { stage: f.stage } : {}),
      pin: f.brief_id && f.digest ? { brief_id: f.brief_id, digest: f.digest } : null,
      reason: f.error.message,
      code: f.error.code,
    })
    log("warn", `cycle ${f.cycle}: ${why}; pinned bundle did not verify (${f.error.code})`)
    throw new AlloyBlock(reason)
  }

  return {
    beforeRun(tool, args) {
      const a = args && typeof args === "object" ? (args as Record<string, unknown>) : {}
      const flow = tool === "foundry_run" ? a["flow"] : ctx.project.readWork()?.flow
      if (!isSlug(flow)) return // Foundry refuses a missing or invalid flow itself
      for (const { cycle, pin, error } of flowPins(ctx, flow)) {
        let failure: PinFailure | undefined
        if (error) failure = { cycle, stage: undefined, error, brief_id: undefined, digest: undefined, generation: "run" }
        else if (pin) {
          try {
            resolvePin(ctx, pin)
          } catch (e) {
            const err = e instanceof AlloyError ? e : new AlloyError("io_error", String((e as Error)?.message ?? e))
            failure = { cycle, stage: undefined, error: err, brief_id: pin.brief_id, digest: pin.digest, generation: "run" }
          }
        }
        if (!failure) continue
        if (options.onPinFailure === "warn") {
          log("warn", `cycle ${cycle}: pinned bundle did not verify (${failure.error.code}); onPinFailure is warn, so ${tool} runs without Alloy context`)
          continue
        }
        refuse(failure, `refused ${tool} for flow ${flow}`)
      }
    },

    chatMessage(agent, parts) {
      if (typeof agent !== "string" || !STAGE_AGENTS.has(agent) || !Array.isArray(parts)) return
      const target = promptPart(ctx, parts)
      if (!target) return
      const { part, text } = target
      if (text.includes(`\n${ALLOY_HEADING}\n`) || text.includes(ALLOY_WARNING_HEADING)) return // already carries Alloy context
      const named = cycleFromPrompt(text)
      if (named === null) return
      const cycle = named ?? ctx.project.readWork()?.cycle
      if (!cycle) return
      const base = stageOfAgent(agent)
      const stage = `${base}:${cycle}`
      let pin: LocatedPin | undefined
      try {
        pin = ctx.project.pinForCycleCached(cycle)
      } catch (e) {
        if (e instanceof AlloyError && e.code === "cycle_not_found") return
        const err = e instanceof AlloyError ? e : new AlloyError("io_error", String((e as Error)?.message ?? e))
        return failMessage(part, text, { cycle, stage, error: err, brief_id: undefined, digest: undefined, generation: "run" })
      }
      if (!pin) return
      let r
      try {
        r = resolvePin(ctx, pin)
      } catch (e) {
        const err = e instanceof AlloyError ? e : new AlloyError("io_error", String((e as Error)?.message ?? e))
        return failMessage(part, text, { cycle, stage, error: err, brief_id: pin.brief_id, digest: pin.digest, generation: "run" })
      }
      const vp: VerifiedPin = { cycle, brief_id: pin.brief_id, digest: pin.digest, stale: r.stale, ...(r.stale ? { current: r.current } : {}) }
      let next: string
      if (base !== "appraise") next = `${text}\n\n${renderDispatchBlock(r.bundle, vp, stage)}`
      else {
        const laws = lawsFor(text, renderAppraiseLaws(r.bundle, cycle))
        const header = `${ALLOY_HEADING}\n\nPinned brief: ${vp.brief_id} @ ${vp.digest} (verified). Grade these criteria as laws too:\n\n${laws}`
        next = laws ? placeGates(text, header) : text
      }
      writePart(part, next)
      event({ kind: "dispatch", cycle, stage, pin: { brief_id: vp.brief_id, digest: vp.digest }, ...(vp.stale ? { reason: "stale pin" } : {}) })
    },
  }

  function failMessage(part: TextPart, text: string, f: PinFailure): void {
    const reason = failureReason(f)
    if (options.onPinFailure === "warn") {
      writePart(part, `${text}\n\n${ALLOY_WARNING_HEADING}\n\nThis cycle is pinned to an Alloy brief, but the pinned bundle could not be verified, so no Alloy context is included. ${reason}`)
      log("warn", `cycle ${f.cycle}: pinned bundle did not verify (${f.error.code}); warned`)
      return
    }
    // the stage session must not run bare: its prompt is replaced by the refusal, and the message is refused
    writePart(part, `Alloy refused this stage. ${reason}. Do not do the stage's work; stop now.`)
    refuse(f, `refused the ${f.stage ?? "stage"} session`)
  }
}

function writePart(part: TextPart, text: string): void {
  part.text = text
}

/**
 * The part carrying Foundry's stage prompt: a text part with it (the runtime may have inlined the
 * attached prompt file already), else the prompt file Foundry attached (`.foundry/dispatch-prompts/`),
 * whose text is then carried by the message's first text part.
 */
function promptPart(ctx: AlloyContext, parts: TextPart[]): { part: TextPart; text: string } | undefined {
  const looksLikeStage = (t: string) => /^Cycle:/m.test(t) || t.includes("<appraiser_instructions>") || /^Stage:/m.test(t)
  for (const p of parts) if (p && p.type === "text" && typeof p.text === "string" && looksLikeStage(p.text)) return { part: p, text: p.text }
  for (const p of parts) {
    if (p?.type !== "file" || typeof p.url !== "string" || !p.url.startsWith("file:")) continue
    let file: string
    try {
      file = fileURLToPath(p.url)
    } catch {
      continue
    }
    const rel = path.relative(ctx.root, file)
    if (rel.startsWith("..") || path.isAbsolute(rel) || !rel.split(path.sep).join("/").startsWith(".foundry/dispatch-prompts/")) continue
    let text: string
    try {
      const buf = readFileSync(file)
      if (buf.length > PROMPT_FILE_LIMIT) continue
      text = buf.toString("utf8")
    } catch {
      continue
    }
    if (!looksLikeStage(text)) continue
    const carrier = parts.find((q) => q && q.type === "text" && typeof q.text === "string" && !q.synthetic)
    if (carrier) {
      // the file stays attached as Foundry sent it; the carrier says what Alloy adds to it
      return { part: carrier, text: carrier.text ? `${carrier.text}\n\n${text}` : text }
    }
  }
  return undefined
}
