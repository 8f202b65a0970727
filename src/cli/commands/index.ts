/**
 * The command table, merged from one file per group of commands (see ./types.ts for the shape of
 * a command and how to add a group). The program's help, per-command help and shell completion are
 * all rendered from this table.
 */
import { coreCommands } from "./core-commands.js"
import { authoringCommands } from "./authoring-commands.js"
import { evidenceCommands } from "./evidence-commands.js"
import { checkCommands } from "./check-commands.js"
import { insightsCommands } from "./insights-commands.js"
import { teamCommands } from "./team-commands.js"
import { shellCommands } from "./shell-commands.js"
import { bridgeCommands, withBridge } from "./bridge-commands.js"
import { uiCommands } from "./ui-commands.js"
import { generationsCommands } from "./generations-commands.js"
import { formationCommands } from "./formation-commands.js"
import type { Commands } from "./types.js"

/** Groups in the order the program's help lists them. */
export const GROUPS: ReadonlyArray<{ title: string; commands: Commands }> = [
  { title: "Pins and verification", commands: coreCommands },
  { title: "Authoring", commands: authoringCommands },
  { title: "Formations", commands: formationCommands },
  { title: "Runs and evidence", commands: withBridge({ ...evidenceCommands, ...checkCommands }) },
  { title: "Running Foundry", commands: bridgeCommands },
  { title: "Learning from runs", commands: insightsCommands },
  { title: "Team store (an OCI registry)", commands: teamCommands },
  { title: "Web app", commands: uiCommands },
  { title: "Foundry generations", commands: generationsCommands },
  { title: "Shell", commands: shellCommands(() => commands) },
]

export const commands: Commands = Object.assign({}, ...GROUPS.map((g) => g.commands)) as Commands
