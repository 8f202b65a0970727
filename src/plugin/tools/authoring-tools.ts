/** Authoring tools for the agent and the wizard (intents, build, pin). */
import type { ToolDefinition } from "@opencode-ai/plugin"

export function authoringTools(): Record<string, ToolDefinition> {
  return {}
}
