/**
 * caps and the compatibility check (`verify --compat`): which Foundry generation is installed, and
 * does every pin fit it. The command table only; the work is in ./generations-actions.ts, loaded
 * when a command runs.
 */
import { usageError } from "../io.js"
import { str, type Commands } from "./types.js"

const load = () => import("./generations-actions.js")

const server = { type: "string", value: "url", description: "a running OpenCode server (`opencode serve`) to read tools and agents from" } as const

export const generationsCommands: Commands = {
  caps: {
    summary: "the capability manifest (alloy.capabilities/v1): OpenCode and Foundry versions, protocol generation, Foundry tools with schema digests, agents",
    usage: ["caps [--json] [--server <url>]", "caps --digest <sha256:…> [--json]"],
    details:
      "Without --server only the project files are read (foundry/VERSION, .opencode/agents/). With --digest, the stored manifest a run record (`capabilities`) or a runner (`capability_digest`) names: kept beside the records when they were written, or pulled from a team store.",
    options: { server, digest: { type: "string", value: "sha256:…", description: "show the stored manifest with this digest" } },
    examples: ["opencode-alloy caps", "opencode-alloy caps --json --server http://127.0.0.1:4096", "opencode-alloy caps --digest sha256:0573…"],
    run: (io, rest, v) => {
      if (rest.length) throw usageError("caps takes no arguments")
      const digest = str(v["digest"])
      if (digest !== undefined && v["server"] !== undefined) throw usageError("caps takes --digest or --server, not both")
      return load().then((a) => a.cmdCaps(io, { server: str(v["server"]), digest }))
    },
  },
  compat: {
    summary: "check every pinned bundle against the installed Foundry generation (exit 1 naming the tool, field or feature, and the fix)",
    usage: "compat [--json] [--server <url>]",
    details: "The same check as `verify --compat`, without the pin check.",
    options: { server },
    examples: ["opencode-alloy compat --server http://127.0.0.1:4096"],
    run: (io, rest, v) => {
      if (rest.length) throw usageError("compat takes no arguments")
      return load().then((a) => a.cmdCompat(io, { server: str(v["server"]) }))
    },
  },
}
