/**
 * Build step after `tsc` (which writes the library API, its modules and every .d.ts to dist/):
 * bundle the two entries people start — the plugin (dist/index.js, imported by OpenCode at
 * start-up) and the CLI (dist/cli/opencode-alloy.cjs) — so each start reads a few files instead of ~90, and
 * split what a path may not need (`import()` in the sources) into chunks loaded on first use.
 * Packages stay external (the package's dependencies, resolved as installed), except zod in the
 * CLI (see below).
 */
import { build } from "esbuild"
import { readFileSync } from "node:fs"
import { createHash } from "node:crypto"
import { readdir, rm, writeFile } from "node:fs/promises"
import path from "node:path"

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"))

const common = {
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  define: { __ALLOY_VERSION__: JSON.stringify(pkg.version) },
  legalComments: "none",
  logLevel: "warning",
}
const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]

/**
 * zod's messages in other languages: zod's own entry re-exports all ~50 as `locales`, so a bundle
 * holds every one (about half the bytes of bundled zod) though Alloy only ever uses English, which
 * zod imports and sets up by itself. The CLI's bundle gets an empty `locales` instead.
 */
const noZodLocales = {
  name: "no-zod-locales",
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (args.importer.includes(`${path.sep}zod${path.sep}`) ? { path: "zod-locales", namespace: "alloy-empty" } : undefined))
    b.onLoad({ filter: /.*/, namespace: "alloy-empty" }, () => ({ contents: "export {}", loader: "js" }))
  },
}

const BUNDLED_IN_CLI = new Set(["zod", "canonicalize"])

await rm(new URL("./dist/chunks", import.meta.url), { recursive: true, force: true })
// the plugin: OpenCode hands its tools' zod schemas to its own zod, so zod stays the installed package
await build({ ...common, entryPoints: { index: "src/index.ts" }, packages: "external", chunkNames: "chunks/[name]-[hash]" })
// the CLI runs in a process of its own: zod is bundled in (its unused locales left out), which is
// most of what a command that reads schemas pays to start; so is canonicalize, which every scan
// loads: a package found and loaded at run time costs more than its bytes in a script already being
// read. The YAML libraries stay packages: they load on first use (core/yaml-lib.ts), and most
// commands never need them. The CLI is one classic script (dist/cli/alloy.cjs), not ES module
// chunks: its entry (src/cli/launch.ts, built to dist/cli/opencode-alloy.cjs) runs it with a V8 code cache,
// which Node 20 offers for scripts only. What a command may not need still loads on first use:
// esbuild initialises a module reached through `import()` when the import runs. The script sits at
// the same depth as the chunks: code finds the package's files relative to its own module
// (`new URL("../../contracts", import.meta.url)`), which in the script is its own file's URL.
const cli = await build({
  ...common,
  splitting: false,
  format: "cjs",
  entryPoints: { "cli/alloy": "src/cli/main.ts" },
  outExtension: { ".js": ".cjs" },
  // no import() in the script: Node 20 runs none in a script without an experimental flag. Node's
  // own modules and CommonJS packages are required; an ES-module-only package is imported by the
  // entry for it (__ALLOY_IMPORT__, src/bridge/sdk.ts)
  supported: { "dynamic-import": false },
  define: { ...common.define, "import.meta.url": "__alloyModuleUrl", __ALLOY_IMPORT__: "__alloyImport" },
  // the file is the one expression the entry compiles, a function of what Node hands a CommonJS
  // module (and of the entry's import), so what V8 compiles (and what a coverage report counts) is
  // the file as it stands
  banner: { js: '(function (exports, require, module, __filename, __dirname, __alloyImport) {"use strict";var __alloyModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  footer: { js: "})" },
  external: deps.filter((d) => !BUNDLED_IN_CLI.has(d)),
  plugins: [noZodLocales],
  write: false,
})
const [script] = cli.outputFiles
if (/\bimport\(/.test(script.text)) throw new Error("build: the CLI's script calls import(), which Node 20 does not run in a script; load the package through src/bridge/sdk.ts's way")
// its entry reads it as Latin-1, a third of the time of decoding UTF-8, which is exact for ASCII;
// esbuild escapes other characters in strings but not in regular expressions or comments
const nonAscii = /[^\x00-\x7f]/.exec(script.text)
if (nonAscii) throw new Error(`build: the CLI's script holds a character outside ASCII (${JSON.stringify(script.text.slice(nonAscii.index - 40, nonAscii.index + 10))}); write it as a \\u escape in the source`)
await writeFile(script.path, script.contents)
// the code caches of the script built before (src/cli/launch.ts would refuse them anyway)
for (const f of await readdir(new URL("./dist/cli/", import.meta.url))) if (f.endsWith(".v8-cache")) await rm(new URL(`./dist/cli/${f}`, import.meta.url), { force: true })
// the program itself: CommonJS too, so a command never starts Node's ES module loader (it imports
// an ES-module-only package, for the bridge, with import(), which a CommonJS file may)
await build({
  ...common,
  splitting: false,
  format: "cjs",
  entryPoints: { "cli/opencode-alloy": "src/cli/launch.ts" },
  outExtension: { ".js": ".cjs" },
  banner: { js: '"use strict";var __alloyEntryUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: {
    ...common.define,
    "import.meta.url": "__alloyEntryUrl",
    __ALLOY_CLI_BUNDLE__: JSON.stringify(createHash("sha256").update(script.contents).digest("hex")),
  },
})
