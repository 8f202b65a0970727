/** caps and the compatibility check (`verify --compat`): what they do (loaded when one runs). */
import { AlloyContext } from "../../service/context.js"
import { buildCapabilities, serverFacts } from "../../service/capabilities.js"
import { checkCompat, type CompatReport } from "../../service/compat.js"
import { EXIT_FAIL, EXIT_OK, type Io } from "../io.js"

async function capabilities(io: Io, server: string | undefined) {
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
  const r = checkCompat(ctx, built)
  if (io.json) io.out(JSON.stringify(r, null, 2))
  else printCompat(io, r)
  return r.ok ? EXIT_OK : EXIT_FAIL
}
