/**
 * An intent's lifecycle states: the one list the intent schema, the tools, the app's form and the
 * CLI's `--status` use. A module of its own, so the CLI's command table can name them without
 * loading the schemas (every command's start would pay for them).
 */
export const INTENT_STATUSES = ["draft", "active", "satisfied", "retired", "superseded"] as const
export type IntentStatus = (typeof INTENT_STATUSES)[number]
