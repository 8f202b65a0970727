/**
 * init, verify, pin, show: the foundation commands. The command table only: it is loaded for every call, even --help, so the work is in
 * ./core-actions.ts, loaded when a command runs.
 */
import { EXIT_OK, usageError, type Io } from "../io.js"
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
    synonyms: ["validate"],
    usage: ["verify [--json] [--strict]", "verify --compat [--server <url>] [--json]"],
    details:
      "Exit 1 on an error (a pin missing, corrupt or malformed; a formation cycle without a pin; a merge conflict). With --strict also on every warning (a stale pin, sources changed since the build, a dangling formation, a shadowed pin, a pin outside its brief's formation). Codes and the JSON schema: docs/verify.md. With --compat, also check every pinned bundle against the installed Foundry generation (see `opencode-alloy compat`, docs/generations.md).",
    options: {
      strict: { type: "boolean", description: "every warning fails too (stale pins, drift, dangling formations, shadowed pins...)" },
      compat: { type: "boolean", description: "also run the compatibility check against the capability manifest" },
      server: { type: "string", value: "url", description: "with --compat: the running OpenCode server to read tools and agents from" },
    },
    examples: ["opencode-alloy verify", "opencode-alloy verify --strict --json", "opencode-alloy verify --compat --server http://127.0.0.1:4096"],
    run: async (io, rest, v) => {
      if (rest.length) throw usageError(`verify takes no arguments (got ${JSON.stringify(rest[0]!.slice(0, 40))})`, "run `opencode-alloy verify` at the project root, or pass --cwd <dir>")
      const { cmdVerify } = await load()
      if (v["compat"] !== true) return cmdVerify(io, { strict: v["strict"] === true })
      // --compat: the compatibility check (./generations-actions.ts) after the pin check
      const { cmdCompat } = await import("./generations-actions.js")
      if (!io.json) return Math.max(cmdVerify(io, { strict: v["strict"] === true }), await cmdCompat(io, { server: str(v["server"]) }))
      // one JSON document: {verify, compat}
      const capture = (into: string[]): Io => ({ ...io, out: (s: string) => void into.push(s) })
      const a: string[] = []
      const b: string[] = []
      const code = Math.max(cmdVerify(capture(a), { strict: v["strict"] === true }), await cmdCompat(capture(b), { server: str(v["server"]) }))
      io.out(JSON.stringify({ ok: code === EXIT_OK, verify: JSON.parse(a.join("\n")), compat: JSON.parse(b.join("\n")) }, null, 2))
      return code
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
