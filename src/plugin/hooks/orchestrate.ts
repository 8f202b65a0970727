/**
 * The `tool.execute.after` handler for `foundry_orchestrate`: find the cycle, look up its pin
 * (cached by file stamps), verify the pinned object's bytes (every time: that is the fail-closed
 * guarantee) and rewrite the result with the pure functions in dispatch.ts.
 */
import { AlloyError, toAlloyError } from "../../core/errors.js"
import { parseStage } from "../../core/ids.js"
import type { LocatedPin } from "../../core/pin.js"
import type { AlloyContext } from "../../service/context.js"
import { resolvePin, type Resolved } from "../../service/resolve.js"
import { appendEvent } from "../../store/outbox.js"
import type { Logger } from "../log.js"
import type { AlloyOptions } from "../options.js"
import { unknownProtocolReason, type Generation } from "../../foundry/generations.js"
import {
  alreadyRewritten,
  blockedResult,
  cycleOfResult,
  humanContext,
  injectAppraise,
  injectDispatch,
  injectHuman,
  isObject,
  isRewrittenAction,
  namedCycleText,
  renderAppraiseLaws,
  renderDispatchBlock,
  warnResult,
  type Json,
  type PinFailure,
  type VerifiedPin,
} from "./dispatch.js"

/** Pin-block problems found while looking the pin up: the cycle is pinned but the pin is unusable. */
const LOOKUP_FAIL_CLOSED = new Set(["invalid_id", "invalid_digest", "malformed", "ambiguous_pin", "unsafe_path"])
const MAX_RENDERED = 256

export type OrchestrateHandler = (output: { output: string }, generation?: Generation) => void

/**
 * Appraisals Alloy refused, by cycle: Foundry's `dispatch_multi` as it came. Foundry has already
 * opened the appraise stage when it hands out the tasks, so a refused appraisal leaves it mid-stage;
 * the next call is answered with these tasks again (never with `lastResults: []`, which would
 * finish the appraisal with no appraisers run).
 */
export type HeldAppraisals = Map<string, Json>

export function createOrchestrateHandler(ctx: AlloyContext, options: AlloyOptions, log: Logger, held: HeldAppraisals = new Map()): OrchestrateHandler {
  /** rendered text per (digest, stage, current digest): the bundle behind a digest never changes */
  const rendered = new Map<string, unknown>()
  const memo = <T>(key: string, make: () => T): T => {
    const hit = rendered.get(key)
    if (hit !== undefined) return hit as T
    const v = make()
    if (rendered.size >= MAX_RENDERED) rendered.delete(rendered.keys().next().value!)
    rendered.set(key, v)
    return v
  }

  const event = (e: Parameters<typeof appendEvent>[1]) => {
    try {
      appendEvent(ctx.root, e)
    } catch (err) {
      log("warn", `could not append to .alloy/runs/events.jsonl: ${(err as Error).message}`)
    }
  }

  return (output, generation = "orchestrate-3.6") => {
    const text = output.output
    if (typeof text !== "string" || text.length < 2 || text.charCodeAt(0) !== 123 /* { */) return
    let result: unknown
    try {
      result = JSON.parse(text)
    } catch {
      return
    }
    // Foundry refuses the retry of a refused appraisal with an "orphaned stage" violation (its appraise
    // stage is still open): hand the held tasks out again. Any other result is Foundry's own.
    if (held.size > 0 && isObject(result) && result["action"] === "violation" && typeof result["details"] === "string" && /orphan/i.test(result["details"])) {
      const cycle = ctx.project.readWork()?.cycle
      const tasks = cycle ? held.get(cycle) : undefined
      if (tasks) {
        log("info", `cycle ${cycle}: handing out the appraisal Alloy refused earlier instead of Foundry's refusal of the retry`)
        result = tasks
      }
    }
    if (!isObject(result) || !isRewrittenAction(result["action"]) || alreadyRewritten(result)) return
    const action = result["action"]
    // a result not in Foundry's shape is not Alloy's to rewrite
    if (action === "dispatch" && typeof result["prompt"] !== "string") return
    if (action === "dispatch_multi" && !(Array.isArray(result["tasks"]) && result["tasks"].every((t) => isObject(t) && typeof t["prompt"] === "string"))) return
    if (action === "human_appraise" && !isObject(result["context"])) return

    const stage = typeof result["stage"] === "string" ? result["stage"] : undefined
    const named = cycleOfResult(result)
    if (named === null) {
      // a cycle name Alloy cannot look up as one file name: whether it is pinned is unknown
      const error = new AlloyError("invalid_id", `the cycle named by Foundry's ${action} result is not an id Alloy can look up without treating it as a path`, {
        fix: "rename the cycle to a plain file name (no `/`, `\\`, leading `.` or control characters) on a config branch",
      })
      return failClosed(output, result, { cycle: namedCycleText(result), stage, error, brief_id: undefined, digest: undefined, generation, action })
    }
    const cycle = named ?? ctx.project.readWork()?.cycle
    if (!cycle) return

    // 1. the pin (cached; re-read when the cycle file, a flow file, WORK.md or a folder changes).
    // Fail closed: only "this cycle has no definition file" and "no pin" let the result through;
    // any other failure to establish the pin (EACCES, EMFILE, a broken block) blocks the stage.
    let pin: LocatedPin | undefined
    try {
      pin = ctx.project.pinForCycleCached(cycle)
    } catch (e) {
      if (e instanceof AlloyError && e.code === "cycle_not_found") return // not a cycle we can know a pin for
      const error =
        e instanceof AlloyError && LOOKUP_FAIL_CLOSED.has(e.code)
          ? e
          : new AlloyError("io_error", `could not establish whether the cycle is pinned: ${(e as Error)?.message ?? String(e)}`, {
              fix: "make the cycle's definition, the foundry/cycles and foundry/flows folders and the flow files readable (check permissions and open-file limits), then run `opencode-alloy verify`",
            })
      return failClosed(output, result, { cycle, stage, error, brief_id: undefined, digest: undefined, generation, action })
    }
    if (!pin) return // unpinned: untouched

    // 2a. a protocol Alloy does not know: the context could land anywhere, so the pinned run is refused
    if (generation === "unknown") {
      const error = new AlloyError("unsupported_protocol", unknownProtocolReason(ctx.project.version()))
      return failClosed(output, result, { cycle, stage, error, brief_id: pin.brief_id, digest: pin.digest, generation, action })
    }

    // 2. verify the pinned bytes (any failure: fail closed)
    let r: Resolved
    try {
      r = resolvePin(ctx, pin)
    } catch (e) {
      const error = toAlloyError(e)
      return failClosed(output, result, { cycle, stage, error, brief_id: pin.brief_id, digest: pin.digest, generation, action })
    }

    const vp: VerifiedPin = { cycle, brief_id: pin.brief_id, digest: pin.digest, stale: r.stale, ...(r.stale ? { current: r.current } : {}) }
    const cur = r.stale ? (r.current ?? "") : ""
    let next: Json
    let gates: string[][] | undefined
    if (action === "dispatch") {
      const st = stageOr(stage, "forge")
      const block = memo(`d|${vp.digest}|${st}|${cur}|${cycle}`, () => renderDispatchBlock(r.bundle, vp, st))
      next = injectDispatch(result, block, vp)
    } else if (action === "dispatch_multi") {
      const laws = memo(`a|${vp.digest}|${cycle}`, () => renderAppraiseLaws(r.bundle, vp.cycle))
      next = injectAppraise(result, laws, vp)
      held.delete(cycle)
      // evidence: which Alloy gates each appraiser task was actually shown (none when there were none to show)
      gates = (next["tasks"] as unknown[]).map(() => [...laws.lawIds])
    } else {
      const st = stageOr(stage, "human-appraise")
      next = injectHuman(
        result,
        memo(`h|${vp.digest}|${st}|${cur}|${cycle}`, () => humanContext(r.bundle, vp, st)),
      )
    }
    output.output = JSON.stringify(next)
    event({ kind: "dispatch", cycle, ...(stage ? { stage } : {}), pin: { brief_id: vp.brief_id, digest: vp.digest }, ...(vp.stale ? { reason: "stale pin" } : {}), ...(gates ? { gates } : {}) })
  }

  function failClosed(output: { output: string }, result: Json, f: PinFailure): void {
    const block = options.onPinFailure !== "warn"
    if (block && result["action"] === "dispatch_multi") held.set(f.cycle, result)
    output.output = JSON.stringify(block ? blockedResult(result, f) : warnResult(result, f))
    log("warn", `cycle ${f.cycle}: pinned bundle did not verify (${f.error.code}); ${block ? "blocked the stage" : "warned and let the stage run without Alloy context"}`)
    event({
      kind: block ? "stage_blocked" : "dispatch",
      cycle: f.cycle,
      ...(f.stage ? { stage: f.stage } : {}),
      pin: f.brief_id && f.digest ? { brief_id: f.brief_id, digest: f.digest } : null,
      reason: block ? f.error.describe() : `unverified pin, warned: ${f.error.describe()}`,
      code: f.error.code,
    })
  }
}

/** A valid stage name for pack lookup (Foundry always sends one; fall back to the base). */
function stageOr(stage: string | undefined, base: string): string {
  if (stage === undefined) return base
  try {
    return parseStage(stage).raw
  } catch {
    return base
  }
}
