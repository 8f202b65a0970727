/**
 * intent, brief, status, demo: authoring. The command table only: it is loaded for every call, even --help, so the work is in
 * ./authoring-actions.ts, loaded when a command runs.
 */
import { INTENT_STATUSES } from "../../core/intent-status.js"
import { usageError } from "../io.js"
import { lifecycleCommand } from "./insights-commands.js"
import type { Commands } from "./types.js"

const load = () => import("./authoring-actions.js")

const noArgs = (what: string, rest: string[]) => {
  if (rest.length) throw usageError(`${what} takes no arguments (got ${JSON.stringify(rest[0]!.slice(0, 40))})`, `run \`opencode-alloy ${what} --help\``)
}

const STRICT = { type: "boolean", description: "lint warnings fail too (and, for a build, nothing is written)" } as const

export const authoringCommands: Commands = {
  intent: {
    summary: "write, list, show and check intent records",
    synonyms: ["spec", "specs", "requirement", "requirements"],
    usage: "intent <new|list|show|lint|lifecycle> ...",
    subcommands: {
      lifecycle: lifecycleCommand,
      new: {
        summary: "write a template intent (status draft) to edit, or one from a Markdown file with frontmatter",
        usage: ["intent new <id> [--title <t>] [--goal <g>] [--status <s>]", "intent new <id> --from <file>"],
        options: {
          title: { type: "string", value: "t", description: "the intent's title" },
          goal: { type: "string", value: "g", description: "its goal, one paragraph" },
          status: { type: "string", value: "s", choices: INTENT_STATUSES, description: "draft (default), active, satisfied, retired or superseded" },
          from: { type: "string", value: "file", description: "take the whole record from this file (relative to the project root)" },
        },
        examples: ['opencode-alloy intent new release-note-voice --title "Release notes in our voice"', "opencode-alloy intent new release-note-voice --from notes/voice.md"],
        run: async (io, rest, v) => (await load()).cmdIntentNew(io, rest, v),
      },
      list: {
        summary: "intents with status, criteria and the briefs that use them",
        usage: "intent list",
        examples: ["opencode-alloy intent list --json"],
        run: async (io, rest) => {
          noArgs("intent list", rest)
          return (await load()).cmdIntentList(io)
        },
      },
      show: {
        summary: "one intent, where it is used, and its lint warnings",
        usage: "intent show <id>",
        examples: ["opencode-alloy intent show release-note-voice"],
        run: async (io, rest) => (await load()).cmdIntentShow(io, rest),
      },
      lint: {
        summary: "check intents and briefs (exit 1 on invalid records; --strict: on warnings too)",
        usage: "intent lint [<id>...] [--strict]",
        options: { strict: STRICT },
        examples: ["opencode-alloy intent lint", "opencode-alloy intent lint release-note-voice --strict"],
        run: async (io, rest, v) => (await load()).cmdIntentLint(io, rest, v),
      },
    },
  },
  brief: {
    summary: "write, build and show briefs",
    usage: "brief <new|build|show|diff> ...",
    subcommands: {
      new: {
        summary: "write a brief recipe",
        usage: "brief new <id> --intent <id>... [--cycle <id>...] [--flow <id>] [--title <t>]",
        options: {
          intent: { type: "string", multiple: true, value: "id", description: "an intent the brief carries (repeat for more)" },
          cycle: { type: "string", multiple: true, value: "id", description: "a Foundry cycle in its formation (repeat for more)" },
          flow: { type: "string", value: "id", description: "the Foundry flow it is for" },
          title: { type: "string", value: "t", description: "the brief's title" },
        },
        examples: ["opencode-alloy brief new release-notes --intent release-note-voice --cycle draft-release-note"],
        run: async (io, rest, v) => (await load()).cmdBriefNew(io, rest, v),
      },
      build: {
        summary: "lint, build bundles, store objects, move refs (--strict: warnings fail and nothing is written)",
        usage: "brief build <id>... | --all [--strict] [--dry-run] [--allow-ungated]",
        options: {
          all: { type: "boolean", description: "every brief in .alloy/briefs/, instead of naming them" },
          strict: STRICT,
          "dry-run": { type: "boolean", description: "compute the digests; write nothing" },
          "allow-ungated": { type: "boolean", description: "build even when a criterion has no gate in the formation, for this build only (the bundle records it and the ungated criteria)" },
        },
        examples: [
          "opencode-alloy brief build release-notes",
          "opencode-alloy brief build --all",
          "opencode-alloy brief build release-notes --dry-run --json",
          "opencode-alloy brief build release-notes --allow-ungated",
        ],
        run: async (io, rest, v) => (await load()).cmdBriefBuild(io, rest, v),
      },
      show: {
        summary: "a recipe, its current build and the cycles that pin it",
        usage: "brief show <id>",
        examples: ["opencode-alloy brief show release-notes"],
        run: async (io, rest) => (await load()).cmdBriefShow(io, rest),
      },
      diff: {
        summary: "what changed between two builds for each criterion, gate and stage, in words and as unified diffs",
        usage: "brief diff <a> <b> [--format text|markdown]",
        details: "Each side is a digest, a brief id (its current build), <brief-id>@<git-rev>, or a git revision such as HEAD~1 (the other side's brief at that commit).",
        options: { format: { type: "string", value: "text|markdown", choices: ["text", "markdown"], description: "markdown: for a pull-request comment" } },
        examples: ["opencode-alloy brief diff HEAD~1 release-notes", "opencode-alloy brief diff sha256:… release-notes --format markdown"],
        run: async (io, rest, v) => (await load()).cmdBriefDiff(io, rest, v),
      },
    },
  },
  status: {
    summary: "intents, briefs, current digests, pins and whether they are behind",
    usage: "status [--json]",
    examples: ["opencode-alloy status", "opencode-alloy status --json"],
    run: async (io, rest) => {
      noArgs("status", rest)
      return (await load()).cmdStatus(io)
    },
  },
  demo: {
    summary: "walk through authoring and a replayed Foundry run on an example project in a temp folder (no model, no network)",
    usage: "demo [--keep]",
    options: { keep: { type: "boolean", description: "keep the temp folder and say where it is" } },
    examples: ["opencode-alloy demo", "opencode-alloy demo --keep"],
    run: async (io, rest, v, cli) => {
      noArgs("demo", rest)
      return (await load()).cmdDemo(io, v, cli)
    },
  },
}
