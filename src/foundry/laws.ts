/**
 * Foundry law validators (CONTRACTS.md §2.5) and the honest link between an Alloy `check` gate and a
 * quench result. Quench runs a law's validators and tags what they find `law:<law-id>:<validator-id>`;
 * Alloy's check gate is a command. A check gate is bound to a validator only when they are the same
 * command: every word equal, except that the validator's `{files}` / `{pattern}` placeholder stands for
 * the gate's file arguments (one or more words). A gate joining several commands with `&&` is bound only
 * when every part binds. Anything else stays unbound, and quench results never count for it.
 */
import { readdirSync } from "node:fs"
import { parseYaml } from "../core/frontmatter.js"
import type { FoundryProject } from "./project.js"

export interface Validator {
  readonly law: string
  readonly id: string
  readonly command: string
}

/** Validators declared in one laws file (`foundry/laws/*.md`, `foundry/artefacts/<type>/laws.md`). Bad blocks are skipped. */
export function parseLawValidators(text: string, file = "laws.md"): Validator[] {
  const out: Validator[] = []
  const sections = text.split(/^## +/m).slice(1)
  for (const section of sections) {
    const nl = section.indexOf("\n")
    const law = (nl < 0 ? section : section.slice(0, nl)).trim()
    if (!law) continue
    const m = /^validators:[ \t]*\n((?:[ \t]+.*(?:\n|$)|[ \t]*\n)+)/m.exec(section)
    if (!m) continue
    let data: unknown
    try {
      data = parseYaml(`validators:\n${m[1]}`, file).data
    } catch {
      continue
    }
    const list = (data as { validators?: unknown })?.validators
    if (!Array.isArray(list)) continue
    for (const v of list) {
      const o = v as Record<string, unknown>
      if (typeof o?.["id"] === "string" && typeof o["command"] === "string") out.push({ law, id: o["id"], command: o["command"] })
    }
  }
  return out
}

export function validatorTag(v: Validator): string {
  return `law:${v.law}:${v.id}`
}

const PLACEHOLDER = /\{(files|pattern)\}/

function words(s: string): string[] {
  return s.trim().split(/\s+/).filter(Boolean)
}

function bindsTo(gatePart: string, template: string): boolean {
  const g = words(gatePart)
  const t = words(template)
  const at = t.findIndex((w) => PLACEHOLDER.test(w))
  if (at < 0) return g.length === t.length && g.every((w, i) => w === t[i])
  const before = t.slice(0, at)
  const after = t.slice(at + 1)
  const ph = t[at]!
  const [pre, post] = ph.split(PLACEHOLDER).filter((_, i) => i !== 1) as [string, string]
  if (g.length < before.length + after.length + 1) return false
  if (!before.every((w, i) => g[i] === w)) return false
  if (!after.every((w, i) => g[g.length - after.length + i] === w)) return false
  const middle = g.slice(before.length, g.length - after.length)
  return middle.length > 0 && middle[0]!.startsWith(pre) && middle[middle.length - 1]!.endsWith(post) && middle.every((w) => w.length > 0)
}

/** The validator tags a check gate's command is bound to, or undefined when it cannot be bound honestly. */
export function bindCheckCommand(command: string, validators: readonly Validator[]): string[] | undefined {
  const parts = command
    .split("&&")
    .map((p) => p.trim())
    .filter(Boolean)
  if (!parts.length) return undefined
  const tags: string[] = []
  for (const part of parts) {
    const hits = validators.filter((v) => bindsTo(part, v.command))
    if (!hits.length) return undefined
    for (const h of hits) if (!tags.includes(validatorTag(h))) tags.push(validatorTag(h))
  }
  return tags
}

/** Foundry law validators of the project (`foundry/laws/*.md`, `foundry/artefacts/<type>/laws.md`); unreadable files give none. */
export function readValidators(project: FoundryProject): Validator[] {
  const files: string[] = []
  const list = (dir: string) => {
    try {
      return readdirSync(project.abs(dir)).sort()
    } catch {
      return []
    }
  }
  for (const n of list("foundry/laws")) if (n.endsWith(".md")) files.push(`foundry/laws/${n}`)
  for (const t of list("foundry/artefacts")) if (list(`foundry/artefacts/${t}`).includes("laws.md")) files.push(`foundry/artefacts/${t}/laws.md`)
  const out: Validator[] = []
  for (const f of files.slice(0, 500)) {
    try {
      const text = project.readText(f)
      if (text !== undefined) out.push(...parseLawValidators(text, f))
    } catch {
      /* unreadable laws file: no validators from it */
    }
  }
  return out
}
