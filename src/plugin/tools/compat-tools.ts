/** `alloy_compat_check`: the compatibility check from inside OpenCode, against the server the plugin runs in. */
import type { ToolDefinition } from "@opencode-ai/plugin"
import { tool } from "./tool.js"
import { contextFor } from "../../service/context.js"
import { buildCapabilities, serverFacts } from "../../service/capabilities.js"
import { checkCompat } from "../../service/compat.js"
import { runTool } from "../result.js"

export function compatTools(serverUrl: URL | string | undefined): Record<string, ToolDefinition> {
  return {
    alloy_compat_check: tool({
      description:
        "Check that the installed Foundry generation can carry every pinned Alloy brief: the protocol is known, the injection point exists, every gate kind has a stage, and Foundry's tools match the recorded schemas. Returns the capability manifest digest and each problem with its fix.",
      args: {
        server: tool.schema.string().optional().describe("OpenCode server URL to inspect; default: the server this plugin runs in"),
      },
      async execute(args, context) {
        return runTool("alloy_compat_check", async () => {
          const ctx = contextFor(context.directory)
          let facts
          let note: string | undefined
          if (args.server) facts = await serverFacts(args.server)
          else if (serverUrl) {
            try {
              facts = await serverFacts(String(serverUrl))
            } catch (e) {
              // the plugin's own server did not answer: check what the files show, and say so
              note = `the OpenCode server did not answer (${(e as Error).message}); tools and agents were not checked`
            }
          }
          const built = buildCapabilities(ctx, facts)
          const report = checkCompat(ctx, built)
          return { ...report, notes: [...report.notes, ...(note ? [note] : [])], manifest: built.manifest }
        })
      },
    }),
  }
}
