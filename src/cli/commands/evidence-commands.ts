/**
 * import, runs, evidence (+ signoff), report, export: evidence and satisfaction. The command table only: it is loaded for every call, even --help, so the work is in
 * ./evidence-actions.ts, loaded when a command runs.
 */
import { usageError } from "../io.js"
import type { Commands } from "./types.js"

const load = () => import("./evidence-actions.js")

const noArgs = (what: string, rest: string[]) => {
  if (rest.length) throw usageError(`usage: opencode-alloy ${what}`, `run \`opencode-alloy ${what} --help\``)
}

export const evidenceCommands: Commands = {
  import: {
    summary: "import what Foundry left behind, idempotently: work/* and archive/* branches, .snapshots/*, the work tree's WORK files, other worktrees' outboxes",
    usage: ["import", "import snapshot <dir>... | branch <name>... | worktree | outbox <dir>...", "import --from <dir|branch>"],
    details: "Without arguments every source found is imported. --from takes one source: a snapshot folder, a .alloy/runs folder or a branch.",
    options: {
      from: { type: "string", value: "dir|branch", description: "one source: a snapshot folder, a .alloy/runs folder or a branch" },
      snapshot: { type: "string", multiple: true, value: "dir", description: "a Foundry snapshot folder (repeat for more)" },
      branch: { type: "string", multiple: true, value: "name", description: "a git branch (repeat for more)" },
      outbox: { type: "string", multiple: true, value: "dir", description: "another worktree's .alloy/runs folder (repeat for more)" },
    },
    examples: ["opencode-alloy import", "opencode-alloy import branch work/release-notes-1", "opencode-alloy import --from .snapshots/2026-05-01"],
    run: async (io, rest, v) => (await load()).cmdImport(io, rest, v),
  },
  runs: {
    summary: "the run records, oldest first",
    usage: "runs [list] [--json]",
    examples: ["opencode-alloy runs", "opencode-alloy runs watch --follow"],
    run: async (io, rest) => {
      noArgs("runs list", rest)
      return (await load()).cmdRunsList(io)
    },
    subcommands: {
      list: {
        summary: "the run records, oldest first",
        usage: "runs list [--json]",
        examples: ["opencode-alloy runs list --json"],
        run: async (io, rest) => {
          noArgs("runs list", rest)
          return (await load()).cmdRunsList(io)
        },
      },
      watch: {
        summary: "the event stream (.alloy/runs/events.jsonl); --follow keeps printing new events and open stages until Ctrl-C (or ALLOY_WATCH_IDLE_SECONDS idle)",
        usage: "runs watch [--follow] [--json]",
        options: { follow: { type: "boolean", short: "f", description: "keep printing new events until Ctrl-C" } },
        examples: ["opencode-alloy runs watch --follow"],
        run: async (io, rest, v) => {
          noArgs("runs watch", rest)
          return (await load()).cmdRunsWatch(io, v)
        },
      },
    },
  },
  evidence: {
    summary: "observations per acceptance criterion, with provenance",
    usage: "evidence [--intent <id>...] [--json]",
    options: { intent: { type: "string", multiple: true, value: "id", description: "only this intent (repeat for more)" } },
    examples: ["opencode-alloy evidence --intent release-note-voice"],
    run: async (io, rest, v) => (await load()).cmdEvidence(io, rest, v),
    subcommands: {
      signoff: {
        summary: "sign off a criterion with a human gate as your git identity, committed to the evidence ledger",
        usage: "evidence signoff <intent>#AC-n [note] [--reject|--waive --reason <why>] [--sign]",
        details:
          "The signer is git's user.name and user.email (never typed). The sign-off is written to .alloy/evidence/ under the brief's current bundle and committed on the current branch (refused on work/* and dry-run/* branches); push it so CI and every clone compute the same verdict. A criterion whose `who:` names people by email is satisfied only by their sign-off.",
        options: {
          reject: { type: "boolean", description: "reject the criterion (needs --reason)" },
          waive: { type: "boolean", description: "waive the criterion (needs --reason)" },
          reason: { type: "string", value: "text", description: "why (or a note, when approving)" },
          note: { type: "string", value: "text", description: "a note kept with an approval" },
          sign: { type: "boolean", description: "sign the ledger commit with your git signing key (git commit -S; SSH keys with gpg.format ssh)" },
          by: { type: "string", value: "name", description: "no longer accepted: the signer is your git identity" },
        },
        examples: [
          'opencode-alloy evidence signoff release-note-voice#AC-4 "read it aloud; fine"',
          'opencode-alloy evidence signoff release-note-voice#AC-4 --waive --reason "legal text, not ours to change"',
          "opencode-alloy evidence signoff release-note-voice#AC-4 --sign",
        ],
        run: async (io, rest, v) => (await load()).cmdSignoff(io, rest, v),
      },
    },
  },
  report: {
    summary: "verdicts per criterion and intent (or one self-contained HTML page)",
    usage: ["report [--json [--full]]", "report --html <file>"],
    details:
      "`--json` prints a summary whose size follows the intents, not the records: per intent and criterion the verdict, the counts and the observations that decided it; records and observations as counts (`omitted` says what was left out). `--json --full` adds every run record and observation, one to a line.",
    options: {
      html: { type: "string", value: "file", description: "write the report as one self-contained HTML page" },
      full: { type: "boolean", description: "with --json: every run record and observation in full, not only the summary" },
    },
    examples: ["opencode-alloy report", "opencode-alloy report --json", "opencode-alloy report --json --full > evidence.json", "opencode-alloy report --html alloy-report.html"],
    run: async (io, rest, v) => (await load()).cmdReport(io, rest, v),
  },
  export: {
    summary: "OTLP/JSON traces (GenAI conventions), or in-toto Statements (JSON Lines)",
    usage: "export --format otel|intoto [--out <file>]",
    options: {
      format: { type: "string", value: "otel|intoto", choices: ["otel", "intoto"], description: "the output format" },
      out: { type: "string", value: "file", description: "write to this file instead of stdout" },
    },
    examples: ["opencode-alloy export --format otel --out traces.json", "opencode-alloy export --format intoto > statements.jsonl"],
    run: async (io, rest, v) => (await load()).cmdExport(io, rest, v),
  },
}
