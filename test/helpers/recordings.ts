/**
 * Foundry's recorded tool results from the sample project (`orchestrate-results/`), parsed, and the
 * compact form Foundry sends them in.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import type { Json } from "./plugin.js"
import { RECORDINGS_DIR } from "./project.js"

/** A recorded result, parsed (pretty-printed on disk). */
export function recorded(file: string, key?: string): Json {
  const all = JSON.parse(readFileSync(path.join(RECORDINGS_DIR, file), "utf8")) as Json
  return key === undefined ? all : (all[key] as Json)
}

/** Foundry sends `JSON.stringify(result)`: compact. */
export const compact = (v: unknown): string => JSON.stringify(v)

export const forgeDispatch = (): Json => recorded("dispatch.forge.json")
export const appraiseDispatch = (): Json => recorded("dispatch_multi.appraise.json")
export const otherAction = (key: string): Json => recorded("other-actions.json", key)
export const stageToolResult = (key: string): Json => recorded("stage-and-feedback-tool-results.json", key)

/** The recorded forge prompt with its `Stage:` and `Cycle:` lines pointed elsewhere. */
export function forgeFor(opts: { stage?: string; cycle?: string | null }): Json {
  const d = forgeDispatch()
  let prompt = d.prompt as string
  if (opts.stage !== undefined) prompt = prompt.replace(/^Stage: .*$/m, `Stage: ${opts.stage}`)
  if (opts.cycle === null) prompt = prompt.replace(/^Cycle: .*\n/m, "")
  else if (opts.cycle !== undefined) prompt = prompt.replace(/^Cycle: .*$/m, `Cycle: ${opts.cycle}`)
  return { ...d, ...(opts.stage !== undefined ? { stage: opts.stage } : {}), prompt }
}
