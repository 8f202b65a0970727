/**
 * insights, followups and intent lifecycle: the learning loop. The command table only: it is loaded
 * for every call, even --help, so the work is in ./insights-actions.ts, loaded when a command runs.
 */
import type { CommandSpec, Commands } from "./types.js"

const load = () => import("./insights-actions.js")

export const lifecycleCommand: CommandSpec = {
  summary: "propose (or apply, as one commit on the base branch) intent status changes the verdicts justify",
  usage: "intent lifecycle [--propose | --apply] [--json]",
  options: {
    propose: { type: "boolean", description: "list the changes the evidence justifies (the default)" },
    apply: { type: "boolean", description: "write them through the intent update and commit them with an in-toto Statement of the verdicts" },
  },
  examples: ["opencode-alloy intent lifecycle", "opencode-alloy intent lifecycle --apply"],
  run: async (io, rest, v) => (await load()).cmdLifecycle(io, rest, v),
}

export const insightsCommands: Commands = {
  insights: {
    summary: "drift, contradictions, strategies and tradeoffs the recorded runs show, each citing its evidence",
    usage: "insights [--json]",
    examples: ["opencode-alloy insights", "opencode-alloy insights --json"],
    run: async (io, rest) => (await load()).cmdInsights(io, rest),
  },
  followups: {
    summary: "questions proposed from evidence (unproven, contested, contradicting, vague or drifting criteria)",
    usage: ["followups [--json]", "followups --accept <id>..."],
    options: { accept: { type: "string", multiple: true, value: "id", description: "add this question to its intent's open_questions" } },
    examples: ["opencode-alloy followups", "opencode-alloy followups --accept 3f9c2a1b7d4e8f60"],
    run: async (io, rest, v) => (await load()).cmdFollowups(io, rest, v),
  },
}
