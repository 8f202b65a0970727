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
    summary: "check every pin in foundry/cycles and foundry/flows, and that every cycle in a brief's formation is pinned",
    usage: "verify [--json] [--strict]",
    details: "Exit 1 when a pin is missing, corrupt or malformed (with --strict: or stale).",
    options: { strict: { type: "boolean", description: "a stale pin (a newer build exists) fails too" } },
    examples: ["opencode-alloy verify", "opencode-alloy verify --strict --json"],
    run: async (io, rest, v) => {
      if (rest.length) throw usageError(`verify takes no arguments (got ${JSON.stringify(rest[0]!.slice(0, 40))})`, "run `opencode-alloy verify` at the project root, or pass --cwd <dir>")
      return (await load()).cmdVerify(io, { strict: v["strict"] === true })
    },
  },
  pin: {
    summary: "write the brief's current digest into the cycle's (or flow's) alloy block",
    usage: ["pin <cycle> <brief-id>", "pin --flow <flow> <brief-id>"],
    details: "A flow pin applies to the flow's cycles that have no pin of their own.",
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
