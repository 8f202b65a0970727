/** The package version (kept out of hashed objects): set by the bundler at build time, else read once from package.json. */
import { readFileSync } from "node:fs"
import path from "node:path"
import { packageDir } from "./package-dir.js"

declare const __ALLOY_VERSION__: string | undefined

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(packageDir(), "package.json"), "utf8")) as { version?: string }
    return pkg.version ?? "0.0.0"
  } catch {
    return "0.0.0"
  }
}

export const ALLOY_VERSION = typeof __ALLOY_VERSION__ === "string" ? __ALLOY_VERSION__ : readVersion()
