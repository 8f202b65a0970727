// The installed entry's V8 code caches (src/cli/launch.ts), on a copy of the built CLI in a folder
// of its own: one per command, written after it runs, used by the next run, replaced when it does
// not fit, never written for a slip or when turned off, and never in the way: a damaged cache or a
// cache path that cannot be written changes nothing a command prints.
import { afterEach, describe, expect, it } from "vitest"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { BIN, runBin } from "../helpers/cli.js"

const dirs: string[] = []
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true })
})

/** A copy of the built entry and its bundle, at the same depth as in dist/. */
function copyOfCli(): { bin: string; cache: string; folder: string; cacheOf(command: string): string } {
  const root = mkdtempSync(path.join(os.tmpdir(), "alloy-code-cache-"))
  dirs.push(root)
  const folder = path.join(root, "dist", "cli")
  mkdirSync(folder, { recursive: true })
  for (const f of [path.basename(BIN), "alloy.cjs"]) copyFileSync(path.join(path.dirname(BIN), f), path.join(folder, f))
  return { bin: path.join(folder, path.basename(BIN)), cache: path.join(folder, "alloy.cjs.v8-cache"), folder, cacheOf: (c) => path.join(folder, `alloy.cjs.${c}.v8-cache`) }
}

const header = (cache: string) => {
  const bytes = readFileSync(cache)
  return JSON.parse(bytes.subarray(0, bytes.indexOf(0x0a)).toString("utf8")) as { bundle: string; size: number; mtime: number; sha256: string }
}

async function run(cli: { bin: string }, args: string[], env: Record<string, string> = {}) {
  const r = await runBin(args, { cwd: os.tmpdir(), bin: cli.bin, env })
  expect(r.status, r.stderr).toBe(0)
  return r.stdout
}

describe("the CLI's code cache", () => {
  it("one per command: written after its first run, then used as it is; a slip writes none", async () => {
    const cli = copyOfCli()
    const help = await run(cli, ["--help"], { NODE_DISABLE_COMPILE_CACHE: "1" })
    expect(readdirSync(cli.folder).sort()).toEqual(["alloy.cjs", "opencode-alloy.cjs"])
    expect(await run(cli, ["--help"])).toBe(help)
    const first = header(cli.cache)
    expect(first.bundle).toMatch(/^[0-9a-f]{64}$/)
    expect(first.size).toBe(statSync(path.join(cli.folder, "alloy.cjs")).size)
    const written = statSync(cli.cache)
    // the same command again: the cache fits, so it is used and left as it is
    expect(await run(cli, ["--help"])).toBe(help)
    expect(await run(cli, ["--version"])).toMatch(/^\d+\.\d+\.\d+/)
    expect(statSync(cli.cache).mtimeMs).toBe(written.mtimeMs)
    expect(statSync(cli.cache).ino).toBe(written.ino)
    // another command gets its own, and leaves the program's as it is
    const bash = await run(cli, ["completion", "bash"], { NODE_DISABLE_COMPILE_CACHE: "1" })
    expect(await run(cli, ["completion", "bash"])).toBe(bash)
    expect(header(cli.cacheOf("completion")).sha256).not.toBe(first.sha256)
    expect(statSync(cli.cache).ino).toBe(written.ino)
    // a first word that names no command: a usage error, and no cache named after the slip
    const slip = await runBin(["completoin", "bash"], { cwd: os.tmpdir(), bin: cli.bin })
    expect(slip.status).toBe(2)
    expect(readdirSync(cli.folder).sort()).toEqual(["alloy.cjs", "alloy.cjs.completion.v8-cache", "alloy.cjs.v8-cache", "opencode-alloy.cjs"])
    // an option before the command: the command runs, and no cache is written under another's name
    rmSync(cli.cache)
    expect(await run(cli, ["--no-color", "completion", "bash"])).toBe(bash)
    expect(readdirSync(cli.folder).sort()).toEqual(["alloy.cjs", "alloy.cjs.completion.v8-cache", "opencode-alloy.cjs"])
  })

  it("a damaged cache, or one made for another build, is not used and is replaced; the output is the same", async () => {
    const cli = copyOfCli()
    const help = await run(cli, ["--help"])
    const good = readFileSync(cli.cache)
    const cut = good.indexOf(0x0a) + 1
    const goodHeader = header(cli.cache)
    const flipped = (from: number, to: number) => Buffer.from(good.map((b, i) => (i >= from && i < to ? b ^ 0xff : b)))
    const damaged = [
      Buffer.from("not a cache"),
      Buffer.from('{"bundle":1}\n'),
      // V8's own header flipped: V8 would refuse it (as it refuses a cache from another Node)
      flipped(cut, cut + 64),
      // bytes past V8's header flipped, which V8 itself does not check: the cache's checksum does
      flipped(cut + 4096, cut + 4160),
      // a cache for another build of the bundle, whose bytes V8 would take
      Buffer.concat([Buffer.from(`${JSON.stringify({ ...goodHeader, bundle: "0".repeat(64) })}\n`), good.subarray(cut)]),
    ]
    for (const bytes of damaged) {
      writeFileSync(cli.cache, bytes)
      expect(await run(cli, ["--help"])).toBe(help)
      const now = readFileSync(cli.cache)
      expect(now.equals(bytes), String(bytes.subarray(0, 40))).toBe(false)
      expect(header(cli.cache)).toEqual({ ...goodHeader, sha256: header(cli.cache).sha256 })
      expect(readdirSync(cli.folder).filter((f) => f.endsWith(".tmp"))).toEqual([])
    }
  })

  it("NODE_DISABLE_COMPILE_CACHE turns it off: nothing read, nothing written", async () => {
    const cli = copyOfCli()
    await run(cli, ["--version"], { NODE_DISABLE_COMPILE_CACHE: "1" })
    expect(readdirSync(cli.folder).sort()).toEqual(["alloy.cjs", "opencode-alloy.cjs"])
    writeFileSync(cli.cache, "not a cache")
    await run(cli, ["--version"], { NODE_DISABLE_COMPILE_CACHE: "1" })
    expect(readFileSync(cli.cache, "utf8")).toBe("not a cache")
  })

  it("a cache path that cannot be written (here a folder stands there) costs nothing but the cache", async () => {
    const cli = copyOfCli()
    mkdirSync(path.join(cli.cache, "taken"), { recursive: true })
    const version = await run(cli, ["--version"])
    expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/)
    expect(readdirSync(cli.folder).sort()).toEqual(["alloy.cjs", "alloy.cjs.v8-cache", "opencode-alloy.cjs"])
    expect(readdirSync(cli.cache)).toEqual(["taken"])
  })

  it("an install without its script says so in one line, with the fix, and exits 2", async () => {
    const cli = copyOfCli()
    rmSync(path.join(cli.folder, "alloy.cjs"))
    const r = await runBin(["--help"], { cwd: os.tmpdir(), bin: cli.bin })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe(
      "opencode-alloy: the CLI's script (dist/cli/alloy.cjs in the opencode-alloy package) cannot be read (ENOENT)\n  fix: reinstall opencode-alloy, or run `npm run build` in a checkout of it\n",
    )
    expect(readdirSync(cli.folder)).toEqual(["opencode-alloy.cjs"])
  })
})
