/**
 * The parts of Foundry's config that Alloy's lint checks authored evidence against: law ids
 * (`## <law-id>` in `foundry/laws/*.md` and `foundry/artefacts/<type>/laws.md`), the validators
 * declared under them, and each artefact type's `file-patterns`. Unreadable files contribute
 * nothing (lint then says an id is unknown, which is the honest answer).
 */
import { readdirSync } from "node:fs"
import path from "node:path"
import { parseMarkdown } from "../core/frontmatter.js"
import { parseLawValidators, type Validator } from "./laws.js"
import type { FoundryProject } from "./project.js"

export interface FoundryConfig {
  /** law id → the file that declares it */
  readonly laws: ReadonlyMap<string, string>
  readonly validators: readonly Validator[]
  /** artefact type → its file patterns */
  readonly artefactTypes: ReadonlyMap<string, readonly string[]>
}

const MAX_FILES = 500

export function readFoundryConfig(project: FoundryProject): FoundryConfig {
  const list = (dir: string) => {
    try {
      return readdirSync(path.join(project.root, dir)).sort()
    } catch {
      return []
    }
  }
  const read = (rel: string) => {
    try {
      return project.readText(rel)
    } catch {
      return undefined
    }
  }
  const lawFiles = [
    ...list("foundry/laws")
      .filter((n) => n.endsWith(".md"))
      .map((n) => `foundry/laws/${n}`),
    ...list("foundry/artefacts")
      .filter((t) => list(`foundry/artefacts/${t}`).includes("laws.md"))
      .map((t) => `foundry/artefacts/${t}/laws.md`),
  ].slice(0, MAX_FILES)
  const laws = new Map<string, string>()
  const validators: Validator[] = []
  for (const f of lawFiles) {
    const text = read(f)
    if (text === undefined) continue
    for (const m of text.matchAll(/^## +(\S+)[ \t]*$/gm)) if (!laws.has(m[1]!)) laws.set(m[1]!, f)
    validators.push(...parseLawValidators(text, f))
  }
  const artefactTypes = new Map<string, string[]>()
  for (const t of list("foundry/artefacts").slice(0, MAX_FILES)) {
    const text = read(`foundry/artefacts/${t}/definition.md`)
    if (text === undefined) continue
    try {
      const fp = parseMarkdown(text, `foundry/artefacts/${t}/definition.md`).data["file-patterns"]
      artefactTypes.set(t, Array.isArray(fp) ? fp.filter((p): p is string => typeof p === "string") : [])
    } catch {
      artefactTypes.set(t, [])
    }
  }
  return { laws, validators, artefactTypes }
}
