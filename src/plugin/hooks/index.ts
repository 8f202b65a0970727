/**
 * Native Foundry integration (ALLOY.md §6) through OpenCode's `tool.execute.*` hooks.
 *
 *   foundry_orchestrate  before  refuse `lastResults: []` for an appraisal Alloy refused (it would skip it)
 *                        after   pinned dispatch / dispatch_multi / human_appraise get the verified
 *                                bundle's context; a pin that does not verify blocks (or warns); an
 *                                unknown Foundry protocol refuses pinned stages; what Foundry
 *                                finalised inside (stage entries, quench, appraisal, done / blocked /
 *                                violation) is recorded from the WORK files (evidence/live.ts), the
 *                                same records `import` would write
 *   foundry_run,         before  run era: a flow whose pin does not verify is refused (throws)
 *   foundry_continue
 *   chat.message                 run era: the first message of a pinned foundry-forge / foundry-appraise
 *                                session gets the verified pack (src/plugin/hooks/run-era.ts)
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
import { classifyGeneration, type Generation } from "../../foundry/generations.js"
import { createRunEraHooks, AlloyBlock } from "./run-era.js"
import { statSync } from "node:fs"

type BeforeHook = NonNullable<Hooks["tool.execute.before"]>
type AfterHook = NonNullable<Hooks["tool.execute.after"]>
type ChatMessageHook = NonNullable<Hooks["chat.message"]>

const DONE: Promise<void> = Promise.resolve()

export function createHooks(directory: string, options: AlloyOptions, log: Logger): Partial<Hooks> {
  const ctx = contextFor(typeof directory === "string" && directory ? directory : process.cwd())
  const held = new Map<string, Record<string, unknown>>()
  const orchestrate = createOrchestrateHandler(ctx, options, log, held)
  const runs = createStageRunTracker(ctx, options, log)
  const runEra = createRunEraHooks(ctx, options, log)
  const live = createLiveRecorder(ctx, { exportUnpinned: options.exportUnpinned }, log)
  let versionChecked = false

  // The protocol generation, classified once per project state: re-read only when foundry/VERSION's
  // stamp changes (one stat, and only on Foundry's own driver calls). A run-era driver call is proof.
  let seenRunTool = false
  let classified: { stamp: string; generation: Generation } | undefined
  function generation(): Generation {
    let stamp = "none"
    try {
      const st = statSync(ctx.project.abs("foundry/VERSION"))
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`
    } catch {
      /* no VERSION: unknown unless a run-era tool was seen */
    }
    stamp += seenRunTool ? ":run" : ""
    if (classified?.stamp === stamp) return classified.generation
    const g = classifyGeneration({ version: ctx.project.version(), calledTool: seenRunTool ? "foundry_run" : undefined })
    classified = { stamp, generation: g }
    return g
  }

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

  const before: BeforeHook = (input, output) => {
    const tool = input?.tool
    if (typeof tool !== "string" || !tool.startsWith("foundry_")) return DONE
    if (tool === "foundry_stage_end") guarded("foundry_stage_end (before)", undefined, () => runs.beforeStageEnd(String(input.callID ?? "")))
    else if (tool === "foundry_run" || tool === "foundry_continue") {
      seenRunTool = true
      // the deliberate fail-closed refusal is the one exception allowed out of a hook
      try {
        runEra.beforeRun(tool, output?.args)
      } catch (e) {
        if (e instanceof AlloyBlock) return Promise.reject(e)
        log("warn", `${tool} (before) hook failed: ${(e as Error)?.message ?? String(e)}`)
      }
    } else if (tool === "foundry_orchestrate" && held.size > 0) {
      const args = output?.args as { lastResults?: unknown } | undefined
      const cycle = ctx.project.readWork()?.cycle
      if (cycle && held.has(cycle) && Array.isArray(args?.lastResults) && args.lastResults.length === 0) {
        return Promise.reject(
          new AlloyBlock(
            `Alloy: cycle ${cycle}: the appraisal was refused because its pin did not verify, and lastResults: [] would finish it with no appraisers run. ` +
              "Fix the pin (`opencode-alloy verify`), then call foundry_orchestrate() with no arguments: Alloy hands out the appraisal's tasks again.",
          ),
        )
      }
    }
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
        guarded("foundry_orchestrate", output, () => orchestrate(output, generation()))
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

  const chatMessage: ChatMessageHook = (input, output) => {
    const agent = input?.agent
    // one string test for every message that is not a run-era stage session's
    if (typeof agent !== "string" || !agent.startsWith("foundry-")) return DONE
    try {
      runEra.chatMessage(agent, (output?.parts ?? []) as Parameters<typeof runEra.chatMessage>[1])
    } catch (e) {
      if (e instanceof AlloyBlock) return Promise.reject(e)
      log("warn", `chat.message hook failed, the message is unchanged: ${(e as Error)?.message ?? String(e)}`)
    }
    return DONE
  }

  return { "tool.execute.before": before, "tool.execute.after": after, "chat.message": chatMessage }
}
