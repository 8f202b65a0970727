/** caps and the compatibility check (`verify --compat`): which Foundry generation is installed, and does every pin fit it. */
import type { CompatReport } from "../../service/compat.js"
import { EXIT_FAIL, EXIT_OK, usageError, type Io } from "../io.js"
import { str, type Commands } from "./types.js"

/** The services load when a command runs, so this table stays light for `--help` and every other command. */
async function capabilities(io: Io, server: string | undefined) {
  const [{ AlloyContext }, { buildCapabilities, serverFacts }] = await Promise.all([import("../../service/context.js"), import("../../service/capabilities.js")])
  const ctx = new AlloyContext(io.cwd)
  const facts = server ? await serverFacts(server) : undefined
  return { ctx, built: buildCapabilities(ctx, facts) }
}

export async function cmdCaps(io: Io, opts: { server?: string | undefined }): Promise<number> {
  const { built } = await capabilities(io, opts.server)
  const m = built.manifest
  if (io.json) {
    io.out(JSON.stringify({ ok: true, digest: built.digest, manifest: m }, null, 2))
    return EXIT_OK
  }
  io.out(`${m.$type} ${built.digest} (from ${m.source === "server" ? "the server and files" : "files only; pass --server <url> for tools and agents"})`)
  io.out(`opencode ${m.opencode.version ?? "?"}; foundry/VERSION ${m.foundry.version ?? "(none)"}; protocol ${m.foundry.generation}`)
  if (m.tools.length) io.out(`tools: ${m.tools.map((t) => t.id).join(", ")}`)
  if (m.agents.length) io.out(`agents: ${m.agents.join(", ")}`)
  io.out(`stage kinds: ${m.stage_kinds.join(", ") || "(none known)"}`)
  io.out(`features relied on: ${m.features.join(", ") || "(none: unknown protocol)"}`)
  return EXIT_OK
}

export function printCompat(io: Io, r: CompatReport): void {
  for (const p of r.problems) {
    io.out(`FAIL    ${p.kind} ${p.name}: ${p.message}`)
    io.out(`        fix: ${p.fix}`)
  }
  for (const n of r.notes) io.out(`note    ${n}`)
  io.out(`compat: protocol ${r.generation}, manifest ${r.manifest_digest}; ${r.bundles.length} pinned bundle(s) checked, ${r.problems.length} problem(s)`)
}

/** The compatibility check; `verify --compat` calls it after the pin check. */
export async function cmdCompat(io: Io, opts: { server?: string | undefined }): Promise<number> {
  const { ctx, built } = await capabilities(io, opts.server)
  const { checkCompat } = await import("../../service/compat.js")
  const r = checkCompat(ctx, built)
  if (io.json) io.out(JSON.stringify(r, null, 2))
  else printCompat(io, r)
  return r.ok ? EXIT_OK : EXIT_FAIL
}

const server = { type: "string", value: "url", description: "a running OpenCode server (`opencode serve`) to read tools and agents from" } as const

export const generationsCommands: Commands = {
  caps: {
    summary: "the capability manifest (alloy.capabilities/v1): OpenCode and Foundry versions, protocol generation, Foundry tools with schema digests, agents",
    usage: "caps [--json] [--server <url>]",
    details: "Without --server only the project files are read (foundry/VERSION, .opencode/agents/).",
    options: { server },
    examples: ["opencode-alloy caps", "opencode-alloy caps --json --server http://127.0.0.1:4096"],
    run: (io, rest, v) => {
      if (rest.length) throw usageError("caps takes no arguments")
      return cmdCaps(io, { server: str(v["server"]) })
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
      return cmdCompat(io, { server: str(v["server"]) })
    },
  },
}
