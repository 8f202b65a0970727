/**
 * Build step after `tsc` (which writes the library API, its modules and every .d.ts to dist/):
 * bundle the two entries people start — the plugin (dist/index.js, imported by OpenCode at
 * start-up) and the CLI (dist/cli/main.js) — so each start reads a few files instead of ~90, and
 * split what a path may not need (`import()` in the sources) into chunks loaded on first use.
 * Packages stay external (the package's dependencies, resolved as installed), except zod in the
 * CLI (see below).
 */
import { build } from "esbuild"
import { readFileSync } from "node:fs"
import { rm } from "node:fs/promises"
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
// the CLI runs in a process of its own: zod is bundled in (one file instead of ~70, its unused
// locales left out), which is most of what a command that reads schemas pays to start; so is
// canonicalize, which every scan loads: a package found and loaded at run time costs more than its
// bytes in a chunk already being read. The YAML libraries stay packages: they load on first use
// (core/yaml-lib.ts), and most commands never need them. Its chunks
// sit beside the plugin's in dist/chunks: code finds the package's files relative to its own module
// (`new URL("../../contracts", import.meta.url)`), so every chunk must be at the same depth.
await build({ ...common, entryPoints: { "cli/main": "src/cli/main.ts" }, external: deps.filter((d) => !BUNDLED_IN_CLI.has(d)), plugins: [noZodLocales], chunkNames: "chunks/cli-[name]-[hash]" })
