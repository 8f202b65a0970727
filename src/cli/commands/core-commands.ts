/**
 * init, verify, pin, show: the foundation commands. The command table only: it is loaded for every call, even --help, so the work is in
 * ./core-actions.ts, loaded when a command runs.
 */
import { usageError } from "../io.js"
import { str, type Commands } from "./types.js"

const load = () => import("./core-actions.js")

export const coreCommands: Commands = {
  init: {
    summary: "create .alloy/ (with its .gitignore)",
    usage: "init",
    examples: ["opencode-alloy init"],
    run: async (io, rest) => {
      if (rest.length) throw usageError("usage: opencode-alloy init (it takes no arguments)")
      return (await load()).cmdInit(io)
    },
  },
  verify: {
    summary: "the CI gate: every pin, formation and ref, by the same facts `status` reads",
    usage: "verify [--json] [--strict]",
    details:
      "Exit 1 on an error (a pin missing, corrupt or malformed; a formation cycle without a pin; a merge conflict). With --strict also on every warning (a stale pin, sources changed since the build, a dangling formation, a shadowed pin, a pin outside its brief's formation). Codes and the JSON schema: docs/verify.md.",
    options: { strict: { type: "boolean", description: "every warning fails too (stale pins, drift, dangling formations, shadowed pins...)" } },
    examples: ["opencode-alloy verify", "opencode-alloy verify --strict --json"],
    run: async (io, rest, v) => {
      if (rest.length) throw usageError(`verify takes no arguments (got ${JSON.stringify(rest[0]!.slice(0, 40))})`, "run `opencode-alloy verify` at the project root, or pass --cwd <dir>")
      return (await load()).cmdVerify(io, { strict: v["strict"] === true })
    },
  },
  pin: {
    summary: "write the brief's current digest into the cycle's (or flow's) alloy block, read it back and verify it",
    usage: ["pin [<cycle>] <brief-id>", "pin --flow <flow> <brief-id>"],
    details: "A flow pin applies to the flow's cycles that have no pin of their own. Without a cycle, the brief's formation decides (its single cycle, else its flow).",
    options: {
      flow: { type: "string", value: "flow", description: "pin a flow instead of a cycle" },
      digest: { type: "string", value: "sha256:…", description: "pin this build instead of the current one" },
    },
    examples: ["opencode-alloy pin draft-release-note release-notes", "opencode-alloy pin --flow release-notes release-notes"],
    run: async (io, rest, v) => (await load()).cmdPin(io, rest, { flow: str(v["flow"]), digest: str(v["digest"]) }),
  },
  show: {
    summary: "print a verified brief (or one stage's pack)",
    usage: "show <brief-id|digest> [--stage <stage>]",
    options: { stage: { type: "string", value: "stage", description: "only the pack one Foundry stage receives, e.g. forge:draft-release-note" } },
    examples: ["opencode-alloy show release-notes", "opencode-alloy show release-notes --stage forge:draft-release-note"],
    run: async (io, rest, v) => (await load()).cmdShow(io, rest, { stage: str(v["stage"]) }),
  },
}
