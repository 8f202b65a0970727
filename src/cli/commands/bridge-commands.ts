/**
 * run (and run --queue), runs abort|requests|answer, bridge, and the upload mode of export (issue: the bridge — start,
 * watch and record Foundry runs). The command table only: it is loaded for every call, even --help,
 * so the work is in ./bridge-actions.ts, loaded when a command runs.
 */
import { OTLP_PROTOCOLS } from "../../bridge/otlp-upload.js"
import { usageError } from "../io.js"
import type { Command, Commands, CommandSpec } from "./types.js"

const load = () => import("./bridge-actions.js")

const RUN_OPTIONS = {
  flow: { type: "string", value: "id", description: "the flow to run (default: the flow or cycle that pins the brief)" },
  digest: { type: "string", value: "digest", description: "the build to run (default: the brief's current build); some cycle or flow must pin it" },
  goal: { type: "string", value: "text", description: "the goal for Foundry (default: the intents' goals)" },
  attach: { type: "string", value: "url", description: "use this OpenCode server (default: start `opencode serve` on 127.0.0.1)" },
  "idempotency-key": { type: "string", value: "key", description: "the request's key (default: derived from brief digest, flow, goal and base commit)" },
  "lease-seconds": { type: "string", value: "n", description: "how long a run is held without a heartbeat before it shows as lost (default 30)" },
  "timeout-seconds": { type: "string", value: "n", description: "give up following after this long (default 6 hours); the run goes on" },
  queue: { type: "boolean", description: "only queue the request (same checks and key); a running `bridge` runs it" },
} as const

/**
 * The bridge's sub-commands of `runs` and the upload mode of `export`, added to the evidence group's
 * specs of those words (one command word, one help page).
 */
export function withBridge(evidence: Commands): Commands {
  const runs = evidence["runs"]
  const exp = evidence["export"]
  if (!runs || !exp?.run) return evidence
  const plain: Command = exp.run
  const abort: CommandSpec = {
    summary: "abort a running bridge request (its session is aborted; the result says aborted)",
    usage: "runs abort <key>",
    examples: ["opencode-alloy runs abort 59b703c3"],
    run: (io, rest) => {
      if (rest.length !== 1) throw usageError("usage: opencode-alloy runs abort <key>")
      return load().then((a) => a.cmdAbort(io, rest[0]))
    },
  }
  const requests: CommandSpec = {
    summary: "bridge requests and runners, with their state (a missed lease shows as lost)",
    usage: "runs requests [--json]",
    examples: ["opencode-alloy runs requests --json"],
    run: (io, rest) => {
      if (rest.length) throw usageError("usage: opencode-alloy runs requests")
      return load().then((a) => a.cmdRequests(io))
    },
  }
  const answer: CommandSpec = {
    summary: "answer a question, permission request or human appraisal a bridge run waits on (the first answer wins)",
    usage: ["runs answer <key> <question-id> <answer>...", "runs answer <key> <question-id> --dismiss"],
    details: "One answer per part of the question: an option's label or number, or your own words where the question takes them. `runs requests` lists what each run waits on.",
    options: { dismiss: { type: "boolean", description: "dismiss the question instead of answering it" } },
    examples: ["opencode-alloy runs answer 59b703c3 que_01J2 friendly", "opencode-alloy runs answer 59b703c3 apr_prt_01J2 approve"],
    run: (io, rest, v) => load().then((a) => a.cmdAnswer(io, rest, v)),
  }
  return {
    ...evidence,
    runs: { ...runs, subcommands: { ...runs.subcommands, abort, requests, answer } },
    export: {
      ...exp,
      usage: [...(typeof exp.usage === "string" ? [exp.usage] : exp.usage), "export --format otel --endpoint <url> [--protocol http/protobuf|http/json]"],
      options: {
        ...exp.options,
        endpoint: { type: "string", value: "url", description: "upload to this OTLP/HTTP receiver (else OTEL_EXPORTER_OTLP_ENDPOINT); retried with back-off" },
        protocol: { type: "string", value: "http/protobuf|http/json", choices: OTLP_PROTOCOLS, description: "the OTLP encoding (else OTEL_EXPORTER_OTLP_PROTOCOL; default http/protobuf)" },
      },
      examples: [...(exp.examples ?? []), "opencode-alloy export --format otel --endpoint http://127.0.0.1:4318"],
      run: (io, rest, v, cli) => load().then((a) => a.uploadingExport(plain)(io, rest, v, cli)),
    },
  }
}

export const bridgeCommands: Commands = {
  run: {
    summary: "run a pinned brief through Foundry in its own git worktree and record the result (the same request again attaches or replays)",
    usage: ["run <brief> [--flow <id>] [--goal <text>] [--attach <url>] [--idempotency-key <k>] [--json]", "run <brief> --queue [--flow <id>] [--goal <text>] [--idempotency-key <k>]"],
    details:
      "Verifies every pin first (no tokens are spent on unverified context). A TTY shows one live status line; --json prints one event per line. Questions and permission requests are asked on the terminal. Ctrl-C aborts.\n" +
      "--queue only records the request (the same checks and key; the same request twice is one) for a running `opencode-alloy bridge` to run; the UI starts runs this way.",
    options: RUN_OPTIONS,
    examples: [
      'opencode-alloy run release-note-voice --goal "Announce the checkout redesign"',
      "opencode-alloy run release-note-voice --attach http://127.0.0.1:4096 --json",
      "opencode-alloy run release-note-voice --queue",
    ],
    run: async (io, rest, v, cli) => (await load()).cmdRun(io, rest, v, cli),
  },
  bridge: {
    summary: "long-running: register a runner, heartbeat, finish requests whose bridge stopped, run queued ones",
    usage: "bridge [--attach <url>] [--lease-seconds <n>] [--otel-endpoint <url>] [--otel-protocol http/protobuf|http/json]",
    details:
      "With --otel-endpoint each finished request's stage runs are posted as OTLP traces (the same spans as `export --format otel`; headers from OTEL_EXPORTER_OTLP_HEADERS); a receiver that refuses them is logged, and the bridge goes on.",
    options: {
      attach: RUN_OPTIONS.attach,
      "lease-seconds": RUN_OPTIONS["lease-seconds"],
      "otel-endpoint": { type: "string", value: "url", description: "post each finished request's traces to this OTLP/HTTP receiver (else OTEL_EXPORTER_OTLP_ENDPOINT with --otel-protocol)" },
      "otel-protocol": { type: "string", value: "http/protobuf|http/json", choices: OTLP_PROTOCOLS, description: "the OTLP encoding (default http/protobuf)" },
    },
    examples: ["opencode-alloy bridge --attach http://127.0.0.1:4096", "opencode-alloy bridge --otel-endpoint http://127.0.0.1:4318"],
    run: async (io, rest, v, cli) => (await load()).cmdBridge(io, rest, v, cli),
  },
}
