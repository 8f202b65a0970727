// Test double of a later ("run era") Foundry generation's tool OUTPUTS, loaded by the real OpenCode
// runtime in the bridge e2e tests. It is NOT Foundry: it registers foundry_run / foundry_continue,
// which in that generation run a state machine inside the tool until a terminal action
// ({action:"done", flow, artefact} | {action:"violation", details, recoverable} | {action:"prompt_user", ...}).
// When $FOUNDRY_STANDIN_LOG is set, every call is appended there as one JSON line.
import { tool } from "@opencode-ai/plugin"
import { appendFileSync } from "node:fs"

function log(entry) {
  const file = process.env.FOUNDRY_STANDIN_LOG
  if (file) appendFileSync(file, JSON.stringify({ t: Date.now(), ...entry }) + "\n")
}

/** @type {import("@opencode-ai/plugin").Plugin} */
export default async function FoundryRunEraStandIn() {
  return {
    tool: {
      foundry_run: tool({
        description: "Foundry (run era) stand-in: start a flow and run it to a terminal action.",
        args: { flow: tool.schema.string(), goal: tool.schema.string(), inputs: tool.schema.record(tool.schema.string(), tool.schema.string()).optional() },
        async execute(args) {
          log({ kind: "tool", tool: "foundry_run", args })
          return JSON.stringify({ action: "done", flow: args.flow, artefact: "release-notes/2026-05-checkout-redesign.md" })
        },
      }),
      foundry_continue: tool({
        description: "Foundry (run era) stand-in: resume the flow.",
        args: {},
        async execute() {
          log({ kind: "tool", tool: "foundry_continue" })
          return JSON.stringify({ action: "done", flow: "release-notes", artefact: null })
        },
      }),
    },
  }
}
