/**
 * check: run the check gates of intents (the `kind: check` commands), optionally recording each run
 * as evidence. The command table only; the work is in ./check-actions.ts, loaded when it runs.
 */
import type { Commands } from "./types.js"

const load = () => import("./check-actions.js")

export const checkCommands: Commands = {
  check: {
    summary: "run the check gates (kind: check commands) of intents in the project root; --record writes each run as evidence",
    usage: "check [<intent>...] [--record] [--timeout <seconds>] [--max-output <bytes>] [--json]",
    details: [
      "Runs the check commands of the built briefs' criteria (all intents when none is named) in the project root,",
      "without a shell unless the criterion says `shell: true`: the command is split into words, `;`, `|`, `$(...)` stay",
      "literal, and unquoted glob words (release-notes/*.md) are matched against the project's files. Each check stops",
      "after its `timeout:` (else --timeout, default 300 s) or when its output passes --max-output (default 8 MiB).",
      "With --record, each gate's run becomes a run record (command, exit code, duration, a sha256 of the output, its",
      "last 2 KiB) under the bundle the pinning cycles use, and counts as the check gate's evidence. Refused on",
      "Foundry's work/* and dry-run/* branches. Exit code 1 when a check fails.",
    ].join(" "),
    options: {
      record: { type: "boolean", description: "write each gate's run as evidence (a run record)" },
      timeout: { type: "string", value: "seconds", description: "time limit for checks whose criterion sets no `timeout:` (default 300)" },
      "max-output": { type: "string", value: "bytes", description: "stop a check whose output passes this many bytes (default 8388608)" },
    },
    misplaced: {
      intent: "name the intents as arguments: `opencode-alloy check <intent>...`",
      all: "without intent names, `opencode-alloy check` runs every intent's checks",
    },
    examples: ["opencode-alloy check", "opencode-alloy check release-note-voice --record", "opencode-alloy check --timeout 60 --json"],
    run: async (io, rest, v) => (await load()).cmdCheck(io, rest, v),
  },
}
