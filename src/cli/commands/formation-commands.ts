/**
 * formation design: the formation designer. The command table only: it is loaded for every call,
 * even --help, so the work is in ./formation-actions.ts, loaded when a command runs.
 */
import type { Commands } from "./types.js"

const load = () => import("./formation-actions.js")

export const formationCommands: Commands = {
  formation: {
    summary: "the Foundry config a brief's formation needs",
    usage: "formation design <brief-id> [--write] [--json]",
    subcommands: {
      design: {
        summary: "propose the cycles (pinned), flow, laws, validators and human-appraise settings a brief's formation needs, as a diff; --write on a config/* branch",
        usage: "formation design <brief-id> [--write] [--json]",
        details:
          "Without --write nothing is written: the proposal is printed as a unified diff, with what each change is for and what a person should look at. Every file is checked with Alloy's port of Foundry's config rules. --write writes the files only on a Foundry config/<name> branch (never on a work/* or dry-run/* flow branch), all or nothing, and never replaces an existing file: existing cycles and laws files are changed surgically (a pin, a flag, law blocks appended), as the diff shows. See docs/formations.md.",
        options: { write: { type: "boolean", description: "write the proposal (only on a config/* branch)" } },
        examples: ["opencode-alloy formation design release-note-voice", "git switch -c config/release-note-voice-formation && opencode-alloy formation design release-note-voice --write"],
        run: async (io, rest, v) => (await load()).cmdFormationDesign(io, rest, { write: v["write"] === true }),
      },
    },
  },
}
