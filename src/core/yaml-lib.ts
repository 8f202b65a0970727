/**
 * The two YAML libraries, each loaded on first use: most commands read only plain frontmatter
 * (the line reader in frontmatter.ts) and need neither. The round-trip library (`yaml`) costs about
 * as much to load as reading a thousand small files; writers (intent and recipe files, pins) and
 * the fallback reader (block scalars, nested flow collections...) load it when they run. js-yaml
 * reads the one-line frontmatter the line reader declines (an escape in a double-quoted scalar, a
 * key spelled like a number...).
 */
import { createRequire } from "node:module"

type YamlLib = typeof import("yaml")
type JsYaml = typeof import("js-yaml")

let lib: YamlLib | undefined

export function yamlLib(): YamlLib {
  lib ??= createRequire(import.meta.url)("yaml") as YamlLib
  return lib
}

let jsLib: JsYaml | undefined

export function jsYaml(): JsYaml {
  jsLib ??= createRequire(import.meta.url)("js-yaml") as JsYaml
  return jsLib
}
