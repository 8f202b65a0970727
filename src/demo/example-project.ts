/**
 * The embedded example project (`examples/acme-shop`, a realistic Foundry 3.6 project) and
 * the example Alloy sources (`examples/alloy`), copied into a fresh folder for the demo and tests.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs"
import path from "node:path"
import { packageDir } from "../package-dir.js"

/** `<package>/examples` (next to `dist/` and `src/`). */
export const EXAMPLES_DIR = path.join(packageDir(), "examples")
export const EXAMPLE_PROJECT_DIR = path.join(EXAMPLES_DIR, "acme-shop")
export const EXAMPLE_ALLOY_DIR = path.join(EXAMPLES_DIR, "alloy")

function makeWritable(p: string): void {
  const st = statSync(p)
  chmodSync(p, st.mode | 0o200)
  if (st.isDirectory()) for (const n of readdirSync(p)) makeWritable(path.join(p, n))
}

/**
 * Copy a sample Foundry project to `dest`: `dot-foundry/` becomes `.foundry/` and
 * `dot-opencode/` becomes `.opencode/`. `orchestrate-results/` (recorded tool outputs) stays
 * out of the project tree unless `keepRecordings` is set.
 */
export function copyExampleProject(dest: string, opts: { from?: string; keepRecordings?: boolean } = {}): string {
  const from = opts.from ?? EXAMPLE_PROJECT_DIR
  mkdirSync(dest, { recursive: true })
  cpSync(from, dest, { recursive: true })
  makeWritable(dest)
  if (!opts.keepRecordings) rmSync(path.join(dest, "orchestrate-results"), { recursive: true, force: true })
  for (const [a, b] of [
    ["dot-foundry", ".foundry"],
    ["dot-opencode", ".opencode"],
  ] as const) {
    if (existsSync(path.join(dest, a))) renameSync(path.join(dest, a), path.join(dest, b))
  }
  return dest
}

export function recordingsDir(from = EXAMPLE_PROJECT_DIR): string {
  return path.join(from, "orchestrate-results")
}
