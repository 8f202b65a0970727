/** import, runs watch, report, export (issue: evidence and satisfaction). */
import type { Command } from "./types.js"

export const EVIDENCE_HELP = ""

export const evidenceCommands: Record<string, Command> = {}
