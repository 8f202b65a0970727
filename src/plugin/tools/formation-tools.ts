/** `alloy_formation_design`: the formation designer from inside OpenCode (the `alloy-formation` skill drives it). */
import type { ToolDefinition } from "@opencode-ai/plugin"
import { tool } from "./tool.js"
import { contextFor } from "../../service/context.js"
import { designBriefFormation, designView, writeFormationDesign } from "../../service/formation-design.js"
import { runTool } from "../result.js"

export function formationTools(): Record<string, ToolDefinition> {
  return {
    alloy_formation_design: tool({
      description:
        "Propose the Foundry config a brief's formation needs (cycles carrying the brief's alloy pin, the flow with its starting cycles, laws for law gates, validators for check gates, always-human-appraise for human gates, artefact types for new cycles), checked by Alloy's port of Foundry's config rules, as a unified diff. With write: true, write it; refused unless the repository is on a Foundry config/<name> branch.",
      args: {
        brief_id: tool.schema.string().describe("the brief whose formation to design"),
        write: tool.schema.boolean().optional().describe("write the files (only on a config/* branch); default: preview only"),
      },
      async execute(args, context) {
        return runTool("alloy_formation_design", async () => {
          const ctx = contextFor(context.directory)
          const report = designBriefFormation(ctx, args.brief_id)
          const written = args.write === true ? writeFormationDesign(ctx, report) : undefined
          return designView(report, written)
        })
      },
    }),
  }
}
