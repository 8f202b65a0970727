/** intent new|list|show|lint, brief new|show, status, demo (issue: authoring). */
import type { Command } from "./types.js"

export const AUTHORING_HELP = ""

export const authoringCommands: Record<string, Command> = {}
