/**
 * Build step after `tsc` (which writes the library API, its modules and every .d.ts to dist/):
 * bundle the two entries people start — the plugin (dist/index.js, imported by OpenCode at
 * start-up) and the CLI (dist/cli/main.js) — so each start reads a few files instead of ~90, and
 * split what a path may not need (`import()` in the sources) into chunks loaded on first use.
 * Packages stay external: they are the package's dependencies, resolved as installed.
 */
import { build } from "esbuild"
import { readFileSync } from "node:fs"
import { rm } from "node:fs/promises"

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"))

await rm(new URL("./dist/chunks", import.meta.url), { recursive: true, force: true })
await build({
  entryPoints: { index: "src/index.ts", "cli/main": "src/cli/main.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  define: { __ALLOY_VERSION__: JSON.stringify(pkg.version) },
  legalComments: "none",
  logLevel: "warning",
})
