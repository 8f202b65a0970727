/**
 * The round-trip YAML library, loaded on first use: most commands read only plain frontmatter
 * (the fast reader in frontmatter.ts) and never need it, and loading it costs about as much as
 * reading a thousand small files. Writers (intent and recipe files, pins) and the fallback
 * reader load it when they run.
 */
import { createRequire } from "node:module"

type YamlLib = typeof import("yaml")

let lib: YamlLib | undefined

export function yamlLib(): YamlLib {
  lib ??= createRequire(import.meta.url)("yaml") as YamlLib
  return lib
}
