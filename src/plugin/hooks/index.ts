/**
 * Native Foundry integration (ALLOY.md §6) through OpenCode's `tool.execute.*` hooks.
 *
 *   foundry_orchestrate  after   pinned dispatch / dispatch_multi / human_appraise get the verified
 *                                bundle's context; a pin that does not verify blocks (or warns);
 *                                what Foundry finalised inside (stage entries, quench, appraisal,
 *                                done / blocked / violation) is recorded from the WORK files
 *                                (evidence/live.ts), the same records `import` would write
 *   foundry_stage_begin  after   `stage_begun` event
 *   foundry_stage_end    before  capture `.foundry/active-stage.json` (token hash, start time)
 *                        after   one run record per stage run in `.alloy/runs/` + `stage_ended` event
 *
 * Every other tool call returns at once: one string prefix test, no file system access, no
 * parsing, no allocation. A hook never throws: anything unexpected is logged once and Foundry's
 * result is left exactly as it was (the only deliberate rewrite of a failure is fail-closed).
 */
import type { Hooks } from "@opencode-ai/plugin"
import type { AlloyOptions } from "../options.js"
import type { Logger } from "../log.js"
import { contextFor } from "../../service/context.js"
import { createOrchestrateHandler } from "./orchestrate.js"
import { createStageRunTracker } from "./stage-end.js"
import { createLiveRecorder } from "../../evidence/live.js"
import { foundryVersionWarning } from "../../foundry/compat.js"

type BeforeHook = NonNullable<Hooks["tool.execute.before"]>
type AfterHook = NonNullable<Hooks["tool.execute.after"]>

const DONE: Promise<void> = Promise.resolve()

export function createHooks(directory: string, options: AlloyOptions, log: Logger): Partial<Hooks> {
  const ctx = contextFor(typeof directory === "string" && directory ? directory : process.cwd())
  const orchestrate = createOrchestrateHandler(ctx, options, log)
  const runs = createStageRunTracker(ctx, options, log)
  const live = createLiveRecorder(ctx, { exportUnpinned: options.exportUnpinned }, log)
  let versionChecked = false

  /** Run a handler; on any error leave the output as it was before the handler touched it. */
  function guarded(what: string, output: { output: string } | undefined, body: () => void): void {
    const before = output?.output
    try {
      body()
    } catch (e) {
      if (output && output.output !== before) output.output = before as string
      log("warn", `${what} hook failed, Foundry's result is unchanged: ${(e as Error)?.message ?? String(e)}`)
    }
  }

  const before: BeforeHook = (input) => {
    const tool = input?.tool
    if (typeof tool !== "string" || !tool.startsWith("foundry_")) return DONE
    if (tool === "foundry_stage_end") guarded("foundry_stage_end (before)", undefined, () => runs.beforeStageEnd(String(input.callID ?? "")))
    return DONE
  }

  const after: AfterHook = (input, output) => {
    const tool = input?.tool
    if (typeof tool !== "string" || !tool.startsWith("foundry_")) return DONE
    if (!output || typeof output.output !== "string") return DONE
    if (!versionChecked) {
      versionChecked = true
      guarded("foundry version check", undefined, () => {
        const w = foundryVersionWarning(ctx.project.version())
        if (w) log("warn", w)
      })
    }
    switch (tool) {
      case "foundry_orchestrate": {
        const original = output.output
        guarded("foundry_orchestrate", output, () => orchestrate(output))
        // recording reads Foundry's own result and the WORK files; it never changes what Foundry returns
        const rewritten = output.output
        guarded("foundry_orchestrate (record)", undefined, () => live.afterOrchestrate(original, rewritten))
        if (output.output !== rewritten) output.output = rewritten
        break
      }
      case "foundry_stage_end": {
        // the export must never change stage_end's own result: restore it whatever happens
        const original = output.output
        guarded("foundry_stage_end", undefined, () => void runs.afterStageEnd(String(input.callID ?? ""), output))
        if (output.output !== original) output.output = original
        break
      }
      case "foundry_stage_begin": {
        const original = output.output
        guarded("foundry_stage_begin", undefined, () => runs.afterStageBegin(output))
        if (output.output !== original) output.output = original
        break
      }
    }
    return DONE
  }

  return { "tool.execute.before": before, "tool.execute.after": after }
}
