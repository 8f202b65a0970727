#!/usr/bin/env node
/**
 * The installed `opencode-alloy` program (built to dist/cli/opencode-alloy.cjs, a CommonJS file:
 * an ES module entry costs every command Node's module loader, about 5 ms here). It runs the CLI's bundle
 * (dist/cli/alloy.cjs: every command in one script, built from ./main.ts) with a V8 code cache
 * beside it, so a command that ran before does not compile its code again: compiling is a good
 * part of what a short command costs (docs/performance.md, "The CLI's code cache"). Node 20 has no
 * compile cache for ES modules, so the bundle is a classic script and the cache is V8's own
 * (`vm.Script` with `cachedData`).
 *
 * One cache per command (dist/cli/alloy.cjs.<command>.v8-cache; alloy.cjs.v8-cache for the
 * program's own `--help` and `--version`): a cache holds the functions compiled in the run that
 * made it, V8 reads all of it before the script starts, and one cache for every command made each
 * command read the others' code too. A command's cache is written after it finishes, when there
 * was none, when V8 refused it (another Node or other V8 flags) or when it was made for another
 * build of the script; a first word that names no command writes none. It lives in the package's
 * own folder, never in a shared temporary folder: whoever can write it can write the code beside
 * it anyway. A folder that cannot be written just means no cache; `NODE_DISABLE_COMPILE_CACHE`
 * (Node's own switch for its compile cache) turns it off. Nothing about the cache is ever reported
 * or fatal: a cache that cannot be read, parsed or used is the same as none.
 */
import { createHash } from "node:crypto"
import { readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs"
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
  /**
   * SHA-256 of V8's bytes that follow: V8 checks that a cache was made by the same V8 with the same
   * flags for a source of the same length, but a release build does not check the bytes
   * themselves, and bytes damaged on disk must never reach its deserialiser
   */
  readonly sha256: string
}

const here = path.dirname(fileURLToPath(import.meta.url))
const bundleFile = path.join(here, "alloy.cjs")
const buildHash = typeof __ALLOY_CLI_BUNDLE__ === "string" ? __ALLOY_CLI_BUNDLE__ : "unbuilt"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** The cache of a command (its name as typed: a plain word only, so never a path), or of none. */
const cacheFileOf = (command: string | undefined) => path.join(here, command === undefined ? "alloy.cjs.v8-cache" : `alloy.cjs.${command}.v8-cache`)

function readCache(file: string, bundle: Omit<CacheHeader, "sha256">): Buffer | undefined {
  try {
    const bytes = readFileSync(file)
    const nl = bytes.indexOf(0x0a)
    const header = JSON.parse(bytes.subarray(0, nl).toString("utf8")) as CacheHeader
    const data = bytes.subarray(nl + 1)
    const fits = header.bundle === bundle.bundle && header.size === bundle.size && header.mtime === bundle.mtime
    return fits && header.sha256 === sha256(data) ? data : undefined
  } catch {
    return undefined
  }
}

function writeCache(file: string, bundle: Omit<CacheHeader, "sha256">, script: vm.Script): void {
  // written whole under a name of its own, then renamed: a reader sees the old cache or the new one
  const tmp = `${file}.${process.pid}.tmp`
  try {
    const data = script.createCachedData()
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify({ ...bundle, sha256: sha256(data) })}\n`), data]), { flag: "wx" })
    renameSync(tmp, file)
  } catch {
    rmSync(tmp, { force: true })
  }
}

async function launch(argv: string[]): Promise<void> {
  let source: string
  let stat: Stats
  try {
    // ASCII only (build.mjs makes sure), so Latin-1 reads it exactly, without decoding UTF-8
    source = readFileSync(bundleFile, "latin1")
    stat = statSync(bundleFile)
  } catch (e) {
    // a damaged install: said in one line, with what to do (no stack trace, no path of this machine)
    const code = (e as NodeJS.ErrnoException).code ?? "unreadable"
    process.stderr.write(
      `opencode-alloy: the CLI's script (dist/cli/alloy.cjs in the opencode-alloy package) cannot be read (${code})\n  fix: reinstall opencode-alloy, or run \`npm run build\` in a checkout of it\n`,
    )
    process.exitCode = 2
    return
  }
  const word = argv[0] ?? ""
  const command = /^[a-z][a-z-]{0,39}$/.test(word) ? word : undefined
  const file = cacheFileOf(command)
  const bundle = { bundle: buildHash, size: stat.size, mtime: stat.mtimeMs }
  const enabled = !process.env["NODE_DISABLE_COMPILE_CACHE"]
  const cached = enabled ? readCache(file, bundle) : undefined
  // the bundle is one function expression (build.mjs): compiled as it stands, it yields the function
  const script = new vm.Script(source, { filename: bundleFile, ...(cached ? { cachedData: cached } : {}) })
  const module = { exports: {} as { runAsProgram?: (argv: string[]) => Promise<string | undefined> } }
  // an ES-module-only package the script needs (src/bridge/sdk.ts) is imported here, outside it
  const importEsm = (specifier: string) => import(specifier)
  ;(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(bundleFile), module, bundleFile, here, importEsm)
  const ran = await module.exports.runAsProgram!(argv)
  // written only for what the first word named: a slip (`verfy`) gets no cache of its own, and the
  // program's cache (`--help`) none of `-C dir verify`'s code
  if (enabled && ran === command && (!cached || script.cachedDataRejected)) writeCache(file, bundle, script)
}

/**
 * The program's work is done. When nothing is left for the event loop (no write waiting for its
 * reader, no server, timer, child or file request: Node lists every one of them here), the process
 * ends at once instead of letting the engine first finish a garbage collection and free its heap,
 * work whose result nobody reads: about 9 ms of a `verify` over 1,000 cycles (docs/performance.md).
 * Anything still active keeps the usual ending, so nothing a command started is cut short. Only
 * under Node: Bun has the same function, but it answers an empty list even while a server listens
 * (Bun 1.4), so there the ending is always the runtime's own.
 */
function endIfIdle(): void {
  if (process.versions["bun"] !== undefined || typeof process.getActiveResourcesInfo !== "function") return
  if (process.getActiveResourcesInfo().length === 0) process.exit()
}

void launch(process.argv.slice(2)).then(endIfIdle)
