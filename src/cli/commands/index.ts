/**
 * The command table, merged from one file per group of commands. Each command:
 * (io, positionals, option values) -> exit code.
 */
import { coreCommands, CORE_HELP } from "./core-commands.js"
import { authoringCommands, AUTHORING_HELP } from "./authoring-commands.js"
import { evidenceCommands, EVIDENCE_HELP } from "./evidence-commands.js"
import { generationsCommands, GENERATIONS_HELP } from "./generations-commands.js"
import type { Command } from "./types.js"

export type { Command, OptionValues } from "./types.js"

export const HELP = `opencode-alloy — intent records, content-addressed briefs and pins for Foundry flows

Usage: opencode-alloy <command> [options]

${CORE_HELP}${AUTHORING_HELP}${EVIDENCE_HELP}${GENERATIONS_HELP}
Global options:
  --cwd, -C <dir>   project root (default: current directory)
  --json            machine-readable output
  --help, -h        this help
  --version, -v     print the version

Exit codes: 0 ok, 1 a pin or checked content failed, 2 usage or configuration error.
`

export const commands: Record<string, Command> = { ...coreCommands, ...authoringCommands, ...evidenceCommands, ...generationsCommands }
