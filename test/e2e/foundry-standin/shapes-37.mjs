// Test double of Foundry 3.7's tool SHAPES (plain ESM, loaded by the real OpenCode runtime). NOT
// Foundry: it serves the recorded 3.7 results of contracts/generations/shapes-3.7/:
//   foundry_orchestrate  first call -> dispatch.json ($FOUNDRY_STANDIN_ACTION=dispatch, the default)
//                        or dispatch_multi.json (JSONL appraiser prompts without `## Output`)
//                        or human_appraise.json (no token); with lastResult(s) -> done
//   foundry_stage_begin  {stage, cycle} (3.7 reads the token from a file, not the prompt)
//   foundry_stage_end    {summary}
import { tool } from "@opencode-ai/plugin"
import { appendFileSync, readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const CONTRACT = path.join(here, "..", "..", "..", "contracts", "generations", "shapes-3.7")

function log(entry) {
  const file = process.env.FOUNDRY_STANDIN_LOG
  if (file) appendFileSync(file, JSON.stringify({ t: Date.now(), ...entry }) + "\n")
}

/** @type {import("@opencode-ai/plugin").Plugin} */
export default async function FoundryShapes37StandIn({ directory }) {
  log({ kind: "plugin.init", generation: "shapes-3.7", directory })
  const respond = (name, args, result) => {
    const text = JSON.stringify(result)
    log({ kind: "tool", tool: name, args, output: text })
    return text
  }
  return {
    tool: {
      foundry_orchestrate: tool({
        description: "Foundry 3.7 stand-in: drive the cycle; returns the next action as JSON.",
        args: {
          lastResult: tool.schema.object({ ok: tool.schema.boolean(), error: tool.schema.string().optional() }).optional(),
          lastResults: tool.schema.array(tool.schema.object({ ok: tool.schema.boolean(), output: tool.schema.string().optional(), error: tool.schema.string().optional() })).optional(),
          baseBranch: tool.schema.string().optional(),
          defaultModel: tool.schema.string().optional(),
        },
        async execute(args) {
          if (args.lastResult || args.lastResults) return respond("foundry_orchestrate", args, { action: "done", cycle: "draft-release-note", artefact_file: null, next_cycles: [], reason: "done" })
          const action = process.env.FOUNDRY_STANDIN_ACTION || "dispatch"
          return respond("foundry_orchestrate", args, JSON.parse(readFileSync(path.join(CONTRACT, `${action}.json`), "utf8")))
        },
      }),
      foundry_stage_begin: tool({
        description: "Foundry 3.7 stand-in: open a stage.",
        args: { stage: tool.schema.string(), cycle: tool.schema.string() },
        async execute(args) {
          return respond("foundry_stage_begin", args, { ok: true })
        },
      }),
      foundry_stage_end: tool({
        description: "Foundry 3.7 stand-in: close the active stage.",
        args: { summary: tool.schema.string() },
        async execute(args) {
          return respond("foundry_stage_end", args, { ok: true, summary: args.summary })
        },
      }),
    },
  }
}
