/** `alloy_compat_check`: the compatibility check from inside OpenCode, against the server the plugin runs in. */
import { tool, type ToolDefinition } from "@opencode-ai/plugin"
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
          const url = args.server ?? (serverUrl ? String(serverUrl) : undefined)
          const built = buildCapabilities(ctx, url ? await serverFacts(url) : undefined)
          const report = checkCompat(ctx, built)
          return { ...report, manifest: built.manifest }
        })
      },
    }),
  }
}
