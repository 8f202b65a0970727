/**
 * Capability manifests (`alloy.capabilities/v1`, src/core/capabilities.ts) as content-addressed
 * files, so a run record or a runner registration that names a manifest digest can be shown with
 * the manifest itself — on this machine and, after `pull`, on any other:
 *
 *   .alloy/runs/capabilities/sha256/<hex>.json    the manifest's canonical bytes; `sha256:<hex>` is their digest
 *
 * Inside the git-ignored outbox: a stage end stores the manifest it names, and Foundry's
 * unexpected-files check must never see it. Create-once (a file is never rewritten); a file whose
 * bytes no longer hash to its name is not read as a manifest.
 */
import { existsSync, readdirSync } from "node:fs"
import path from "node:path"
import { decodeCapabilities, type Capabilities } from "../core/capabilities.js"
import { digestOf } from "../core/digest.js"
import { AlloyError } from "../core/errors.js"
import { makeDirs, writeFileOnce } from "./atomic.js"
import { ensureRunsDir, runPaths, RUNS_DIR } from "./outbox.js"
import { readRegularFile } from "./read-file.js"

export const CAPABILITIES_SUBDIR = "capabilities"
/** A manifest is a few kilobytes; anything this large is no manifest Alloy wrote. */
export const MAX_CAPABILITIES_BYTES = 1024 * 1024
const NAME_RE = /^[0-9a-f]{64}\.json$/

export function capabilitiesDir(root: string): string {
  return path.join(runPaths(root).dir, CAPABILITIES_SUBDIR, "sha256")
}

/** `.alloy/runs/capabilities/sha256/<hex>.json`, relative to the project (for messages). */
export function capabilitiesRel(digest: string): string {
  return `${RUNS_DIR}/${CAPABILITIES_SUBDIR}/sha256/${digest.slice(7)}.json`
}

/**
 * Store a manifest's bytes under their digest, create-once. Bytes that are not the canonical bytes
 * of a manifest with that digest are refused (`digest_mismatch`, nothing written); true when the file was created.
 */
export function storeCapabilities(root: string, bytes: Uint8Array, digest: string = digestOf(bytes)): boolean {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new AlloyError("digest_mismatch", `capability manifest ${JSON.stringify(digest.slice(0, 80))}: not a sha256 digest; nothing was stored`)
  const dir = capabilitiesDir(root)
  const file = path.join(dir, `${digest.slice(7)}.json`)
  // every stage end names the same few manifests: one stat, nothing written, when it is here already
  if (existsSync(file)) return false
  const bound = decodeCapabilities(bytes, digest)
  if (typeof bound === "string") throw new AlloyError("digest_mismatch", `capability manifest ${digest}: ${bound}; nothing was stored`)
  ensureRunsDir(root)
  makeDirs(dir)
  return writeFileOnce(file, bytes, 0o644, capabilitiesRel(digest))
}

/** The stored manifest of `digest` with its bytes, or undefined (none stored, or its bytes do not check). */
export function readCapabilities(root: string, digest: string): { manifest: Capabilities; bytes: Buffer } | undefined {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined
  const r = readRegularFile(path.join(capabilitiesDir(root), `${digest.slice(7)}.json`), MAX_CAPABILITIES_BYTES)
  if (r.kind !== "ok") return undefined
  const manifest = decodeCapabilities(r.bytes, digest)
  return typeof manifest === "string" ? undefined : { manifest, bytes: r.bytes }
}

/** The digests of every stored manifest file (by name; read them with readCapabilities, which checks the bytes). */
export function listCapabilities(root: string): string[] {
  try {
    return readdirSync(capabilitiesDir(root))
      .filter((n) => NAME_RE.test(n))
      .sort()
      .map((n) => `sha256:${n.slice(0, 64)}`)
  } catch {
    return []
  }
}
