/**
 * The package as a user gets it: `npm pack` of this checkout, installed into an empty project the
 * way the README says, then the installed command and plugin used. It catches what only the
 * packed tarball shows: a file left out of `files`, a runtime import of a package that is only a
 * dev dependency, a dependency whose engines refuse Node 20, a bin that is not executable.
 *
 * npm is run with `--offline`: every package comes from the npm cache the project's own install
 * filled, so the test reaches no network. Installing a tarball as a user does resolves its
 * dependencies afresh, which needs the registry's full documents of each; the project's own
 * install (from its lockfile) caches only the tarballs and abbreviated documents. Where the cache
 * lacks them (npm says ENOTCACHED: a fresh machine) the same install runs again from a lockfile
 * made of this project's own: the versions `npm install` resolved here, taken from the cache by
 * their integrity. Packing skips `prepack` (the test run has just built dist/); that `prepack`
 * builds is asserted on package.json instead.
 */
import { describe, expect, it } from "vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { REPO_ROOT } from "../helpers/project.js"
import { GENERATIONS } from "../../src/foundry/generations.js"

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as Record<string, unknown> & {
  name: string
  version: string
  scripts: Record<string, string>
  bin: Record<string, string>
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: timeoutMs, env: { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false", ...env } })
  if (r.error) throw r.error
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/**
 * A lockfile for `project` that installs the packed tarball `tarball` with exactly the versions of
 * this checkout's package-lock.json: every package its dependencies reach there, as they are
 * recorded (version, resolved address, integrity, engines), found the way npm nests them.
 */
function lockFromOwn(project: string, tarball: string, integrity: string): void {
  type Entry = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; dev?: boolean; devOptional?: boolean }
  const own = JSON.parse(readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, Entry> }
  // where `name` resolves from the package at `from`: its own node_modules, then each enclosing one
  const find = (from: string, name: string): string | undefined => {
    for (let d = from; ; ) {
      const key = `${d ? `${d}/` : ""}node_modules/${name}`
      if (own.packages[key]) return key
      if (!d) return undefined
      const i = d.lastIndexOf("/node_modules/")
      d = i === -1 ? "" : d.slice(0, i)
    }
  }
  const reached = new Set<string>()
  const queue: string[] = []
  const add = (from: string, deps: Record<string, string> | undefined) => {
    for (const name of Object.keys(deps ?? {})) {
      const key = find(from, name)
      if (key && !reached.has(key)) {
        reached.add(key)
        queue.push(key)
      }
    }
  }
  add("", pkg.dependencies)
  add("", pkg.optionalDependencies)
  for (let i = 0; i < queue.length; i++) {
    const entry = own.packages[queue[i]!]!
    add(queue[i]!, entry.dependencies)
    add(queue[i]!, entry.optionalDependencies)
  }
  const spec = `file:${tarball}`
  const packages: Record<string, unknown> = {
    "": { name: "empty-project", version: "1.0.0", dependencies: { [pkg.name]: spec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      integrity,
      ...Object.fromEntries(["dependencies", "optionalDependencies", "peerDependencies", "peerDependenciesMeta", "bin", "engines"].filter((k) => pkg[k] !== undefined).map((k) => [k, pkg[k]])),
    },
  }
  for (const key of [...reached].sort()) {
    const { dev: _dev, devOptional: _devOptional, ...entry } = own.packages[key]!
    packages[key] = entry
  }
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "empty-project", version: "1.0.0", private: true, dependencies: { [pkg.name]: spec } }))
  writeFileSync(path.join(project, "package-lock.json"), JSON.stringify({ name: "empty-project", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2))
}

describe("the packed package, installed into an empty project", () => {
  it("builds on pack, ships only what it needs, installs on this Node without an engine warning, and its command, demo and plugin work", () => {
    // a fresh clone has no dist/: packing must build it
    expect(pkg.scripts["prepack"]).toMatch(/\bnpm run build\b/)

    const dir = mkdtempSync(path.join(os.tmpdir(), "alloy-pack-"))
    try {
      // the CLI's code cache, written beside the built script by any run, is this machine's: never shipped
      expect(run(process.execPath, [path.join(REPO_ROOT, "dist", "cli", "opencode-alloy.cjs"), "--version"], dir).code).toBe(0)
      expect(existsSync(path.join(REPO_ROOT, "dist", "cli", "alloy.cjs.v8-cache"))).toBe(true)
      const packed = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], REPO_ROOT)
      expect(packed.code, packed.err).toBe(0)
      const [info] = JSON.parse(packed.out) as Array<{ filename: string; integrity: string; files: Array<{ path: string }> }>
      const files = info!.files.map((f) => f.path)
      expect(files).toContain("dist/cli/opencode-alloy.cjs")
      expect(files).toContain("dist/index.js")
      expect(files).toContain("package.json")
      // what `compat --server` compares a live server against, read from beside dist/ at run time
      for (const g of GENERATIONS.filter((x) => x !== "unknown")) expect(files).toContain(`contracts/generations/${g}/tools.json`)
      const outside = files.filter((f) => !/^(dist|skills|contracts|examples)\//.test(f) && !/^(package\.json|README\.md|CHANGELOG\.md|LICENSE)$/.test(f))
      expect(outside).toEqual([])
      expect(files.filter((f) => f.endsWith(".map"))).toEqual([])
      expect(files).toContain("dist/cli/alloy.cjs")
      expect(files.filter((f) => /\.(v8-cache|tmp)$/.test(f))).toEqual([])

      const project = path.join(dir, "project")
      mkdirSync(project)
      // a node_modules/ in a folder above would lend the installed package what it forgot to depend on
      for (let d = path.dirname(project); d !== path.dirname(d); d = path.dirname(d)) expect(existsSync(path.join(d, "node_modules")), d).toBe(false)
      writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "empty-project", version: "1.0.0", private: true }))
      let installed = run("npm", ["install", "--offline", "--no-audit", "--no-fund", path.join(dir, info!.filename)], project)
      if (installed.code !== 0 && /ENOTCACHED/.test(installed.err)) {
        // the cache cannot resolve afresh (see the top of this file): the same install, from this project's own versions
        lockFromOwn(project, path.relative(project, path.join(dir, info!.filename)), info!.integrity)
        installed = run("npm", ["install", "--offline", "--no-audit", "--no-fund"], project)
      }
      expect(installed.code, `${installed.out}\n${installed.err}`).toBe(0)
      expect(`${installed.out}\n${installed.err}`).not.toMatch(/EBADENGINE|Unsupported engine/)

      const bin = path.join(project, "node_modules", ".bin", Object.keys(pkg.bin)[0]!)
      expect(existsSync(bin)).toBe(true)
      const help = run(bin, ["--help"], project, 30_000)
      expect(help.code).toBe(0)
      expect(help.out).toMatch(/^Usage: opencode-alloy <command>/m)
      // the installed CLI keeps its code cache in its own folder (an npm install is writable)
      expect(existsSync(path.join(project, "node_modules", pkg.name, "dist", "cli", "alloy.cjs.v8-cache"))).toBe(true)
      expect(run(bin, ["--version"], project, 30_000).out.trim()).toBe(pkg.version)
      // a usage mistake from the installed command, too: exit 2 with the suggestion
      const typo = run(bin, ["verify", "--jsn"], project, 30_000)
      expect(typo.code).toBe(2)
      expect(typo.err).toContain("did you mean --json?")

      // the demo leaves its HTML report in the temp folder for the user to open: here, in this test's
      const demo = run(bin, ["demo"], project, 120_000, { TMPDIR: dir })
      expect(demo.code, `${demo.out}\n${demo.err}`).toBe(0)
      expect(demo.out).toContain("Demo complete")

      // the plugin entry OpenCode imports, resolved by the package's name
      const plugin = run(
        process.execPath,
        ["--input-type=module", "-e", `const m = await import(${JSON.stringify(pkg.name)}); console.log(typeof m.default, Object.keys(m).sort().join(","))`],
        project,
        30_000,
      )
      expect(plugin.code, plugin.err).toBe(0)
      expect(plugin.out.trim()).toBe("function AlloyPlugin,default")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 300_000)
})
