/**
 * The learning loop for the agent: follow-up questions proposed from evidence, and accepting them
 * into an intent's `open_questions`. The questions are computed (each cites the evidence and the
 * criterion it would settle); the agent only phrases them to the user and records the answer.
 */
import { tool, type ToolDefinition } from "@opencode-ai/plugin"
import { contextFor } from "../../service/context.js"
import { acceptFollowups, loadInsights } from "../../evidence/learning.js"
import { runTool } from "../result.js"

const z = tool.schema

export function insightsTools(): Record<string, ToolDefinition> {
  return {
    alloy_followups: tool({
      description:
        "Follow-up questions about Alloy intents, proposed only from recorded evidence: criteria never proven, contested, contradicting another, vague, or proven only before a change. Each has an id, the criterion it would settle, why it is asked and the observations it cites. Give `accept` (ids) to add those questions to their intents' open_questions (refused on Foundry flow branches). Also returns the lifecycle changes the verdicts justify and the drift/contradiction findings.",
      args: {
        intent: z.string().optional().describe("Only questions about this intent"),
        accept: z.array(z.string()).optional().describe("Question ids to add to their intent's open_questions"),
      },
      async execute(args, context) {
        return runTool("alloy_followups", () => {
          const ctx = contextFor(context.directory)
          ctx.store.requireInit()
          const insights = loadInsights(ctx)
          if (args.accept?.length) return { accepted: acceptFollowups(ctx, args.accept, insights) }
          const keep = <T extends { intent?: string; subject?: string }>(xs: readonly T[]) => (args.intent ? xs.filter((x) => (x.intent ?? x.subject ?? "").split("#")[0] === args.intent) : [...xs])
          return { followups: keep(insights.followups), lifecycle: keep(insights.lifecycle), findings: keep(insights.findings), thin: insights.thin }
        })
      },
    }),
  }
}
