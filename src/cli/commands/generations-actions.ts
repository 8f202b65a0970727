/** caps and the compatibility check (`verify --compat`): what they do (loaded when one runs). */
import { AlloyContext } from "../../service/context.js"
import { buildCapabilities, serverFacts, type BuiltCapabilities } from "../../service/capabilities.js"
import { readCapabilities } from "../../store/capabilities.js"
import { AlloyError } from "../../core/errors.js"
import { checkCompat, type CompatReport } from "../../service/compat.js"
import { EXIT_FAIL, EXIT_OK, usageError, type Io } from "../io.js"

async function capabilities(io: Io, server: string | undefined) {
  const ctx = new AlloyContext(io.cwd)
  const facts = server ? await serverFacts(server) : undefined
  return { ctx, built: buildCapabilities(ctx, facts) }
}

/** A stored manifest by its digest (what a record or runner names), or `object_missing` saying why not. */
function storedManifest(io: Io, digest: string): BuiltCapabilities {
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw usageError("--digest needs a manifest digest: sha256: and 64 hex")
  const stored = readCapabilities(ctx.root, digest)
  if (!stored) {
    throw new AlloyError("object_missing", `no capability manifest ${digest} is stored here (or its file no longer hashes to its name)`, {
      fix: "a manifest is kept when a record or runner naming it is written here; `opencode-alloy pull` brings those pushed elsewhere",
    })
  }
  return { manifest: stored.manifest, digest, bytes: stored.bytes, schemas: {} }
}

export async function cmdCaps(io: Io, opts: { server?: string | undefined; digest?: string | undefined }): Promise<number> {
  const built = opts.digest !== undefined ? storedManifest(io, opts.digest) : (await capabilities(io, opts.server)).built
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
