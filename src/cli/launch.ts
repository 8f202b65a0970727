#!/usr/bin/env node
/**
 * The installed `opencode-alloy` program (built to dist/cli/main.js). It runs the CLI's bundle
 * (dist/cli/alloy.cjs: every command in one script, built from ./main.ts) with a V8 code cache
 * beside it (dist/cli/alloy.cjs.v8-cache), so a command that ran before does not compile its code
 * again: compiling the bundle's functions is a good part of what a short command costs (see
 * docs/performance.md). Node 20 has no compile cache for ES modules, so the bundle is a classic
 * script and the cache is V8's own (`vm.Script` with `cachedData`).
 *
 * The cache is written after a command finishes, when there was none, when V8 refused it (another
 * Node), when it was made for another build of the bundle, or when it has not yet seen this
 * command (a cache holds the functions compiled in the run that made it, and those it was made
 * from). It lives in the package's own folder, never in a shared temporary folder: whoever can
 * write it can write the code beside it anyway. A folder that cannot be written (a read-only or
 * root-owned install) just means no cache; `NODE_DISABLE_COMPILE_CACHE` (Node's own switch for its
 * compile cache) turns it off. Nothing about the cache is ever reported or fatal: a cache that
 * cannot be read, parsed or used is the same as none.
 */
import { createHash } from "node:crypto"
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import path from "node:path"
import { fileURLToPath } from "node:url"
import vm from "node:vm"

/** The bundle's SHA-256, set when both are built (build.mjs): a cache made for another build is never used. */
declare const __ALLOY_CLI_BUNDLE__: string | undefined

interface CacheHeader {
  /** the bundle the cache was made for: its build's hash, size and modification time */
  readonly bundle: string
  readonly size: number
  readonly mtime: number
  /** the commands run with it so far (the first word of the command line, `-` for none) */
  readonly commands: readonly string[]
  /**
   * SHA-256 of V8's bytes that follow: V8 checks that a cache was made by the same V8 with the same
   * flags for a source of the same length, but a release build does not check the bytes
   * themselves, and bytes damaged on disk must never reach its deserialiser
   */
  readonly sha256: string
}

const here = path.dirname(fileURLToPath(import.meta.url))
const bundleFile = path.join(here, "alloy.cjs")
const cacheFile = `${bundleFile}.v8-cache`
const buildHash = typeof __ALLOY_CLI_BUNDLE__ === "string" ? __ALLOY_CLI_BUNDLE__ : "unbuilt"

function readCache(): { header: CacheHeader; data: Buffer } | undefined {
  try {
    const bytes = readFileSync(cacheFile)
    const nl = bytes.indexOf(0x0a)
    const header = JSON.parse(bytes.subarray(0, nl).toString("utf8")) as CacheHeader
    const data = bytes.subarray(nl + 1)
    return Array.isArray(header.commands) && header.sha256 === sha256(data) ? { header, data } : undefined
  } catch {
    return undefined
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

function writeCache(header: Omit<CacheHeader, "sha256">, script: vm.Script): void {
  // written whole under a name of its own, then renamed: a reader sees the old cache or the new one
  const tmp = `${cacheFile}.${process.pid}.tmp`
  try {
    const data = script.createCachedData()
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify({ ...header, sha256: sha256(data) })}\n`), data]), { flag: "wx" })
    renameSync(tmp, cacheFile)
  } catch {
    rmSync(tmp, { force: true })
  }
}

async function launch(argv: string[]): Promise<void> {
  const source = readFileSync(bundleFile, "utf8")
  const stat = statSync(bundleFile)
  const command = /^[a-z][a-z-]{0,39}$/.test(argv[0] ?? "") ? argv[0]! : "-"
  const enabled = !process.env["NODE_DISABLE_COMPILE_CACHE"]
  const cached = enabled ? readCache() : undefined
  const fits = cached !== undefined && cached.header.bundle === buildHash && cached.header.size === stat.size && cached.header.mtime === stat.mtimeMs
  // the bundle is one function expression (build.mjs): compiled as it stands, it yields the function
  const script = new vm.Script(source, { filename: bundleFile, ...(fits ? { cachedData: cached.data } : {}) })
  const module = { exports: {} as { runAsProgram?: (argv: string[]) => Promise<void> } }
  // an ES-module-only package the script needs (src/bridge/sdk.ts) is imported here, outside it
  const importEsm = (specifier: string) => import(specifier)
  ;(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(bundleFile), module, bundleFile, here, importEsm)
  await module.exports.runAsProgram!(argv)
  const known = fits && !script.cachedDataRejected ? cached.header.commands : undefined
  if (enabled && !known?.includes(command)) {
    writeCache({ bundle: buildHash, size: stat.size, mtime: stat.mtimeMs, commands: [...(known ?? []), command] }, script)
  }
}

await launch(process.argv.slice(2))
