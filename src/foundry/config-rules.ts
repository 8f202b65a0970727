/**
 * Foundry's config rules, as Alloy understands them (CONTRACTS.md §2): what Foundry's own
 * `foundry_config_validate_*` checks accept for a cycle, a flow, an artefact type, a laws file and
 * an appraiser. Written from the rules, not from Foundry's code, and proven against Foundry's own
 * validator fixtures (test/unit/foundry/config-rules.test.ts). Pure: a definition's text, the id it
 * is filed under, and an `exists` question about other config files; nothing here reads the disk.
 *
 * The rules check required keys, references and headings only. Like Foundry, they never reject an
 * unknown key (an `alloy:` pin in a cycle is one).
 */
import { parseYaml } from "../core/frontmatter.js"

export const CONFIG_KINDS = ["cycle", "flow", "artefact-type", "law", "appraiser"] as const
export type ConfigKind = (typeof CONFIG_KINDS)[number]

export interface RuleInput {
  readonly kind: ConfigKind
  /** the id the definition is filed under (its file name; the artefact folder for a type) */
  readonly name: string
  /** the whole file text */
  readonly text: string
  /** does this project-relative config file exist (e.g. `foundry/cycles/x.md`)? */
  readonly exists: (rel: string) => boolean
}

export type RuleResult = { readonly ok: true } | { readonly ok: false; readonly errors: readonly string[] }

type Fm = Record<string, unknown>

/** Foundry reads frontmatter only when the file opens with `---` and a later line is `---`. */
function frontmatter(text: string): { fm: Fm; body: string } | { error: string } {
  const t = text.replace(/\r\n/g, "\n")
  const m = /^---\n([\s\S]*?)\n---(?:\n|$)/.exec(t)
  if (!m) return { error: "frontmatter is missing or unparseable" }
  let data: unknown
  try {
    data = parseYaml(m[1]!, "definition").data
  } catch (e) {
    return { error: `frontmatter is unparseable: ${(e as Error).message}` }
  }
  if (data === null || data === undefined) data = {}
  if (typeof data !== "object" || Array.isArray(data)) return { error: "frontmatter is unparseable: it is not a mapping of keys to values" }
  return { fm: data as Fm, body: t.slice(m[0].length) }
}

const text = (v: unknown): v is string => typeof v === "string" && v.trim().length > 0
const need = (fm: Fm, key: string): string | undefined => (text(fm[key]) ? undefined : `frontmatter.${key} is required and must be a non-empty string`)
const sameId = (fm: Fm, key: "id" | "name", name: string): string | undefined =>
  fm[key] && fm[key] !== name ? `frontmatter.${key} (${String(fm[key])}) must match the supplied name (${name})` : undefined
const heading = (body: string, h: string): string | undefined => (new RegExp(`^##\\s+${h}\\s*$`, "m").test(body) ? undefined : `body must contain a "## ${h}" section`)
const allText = (list: readonly unknown[], what: string): string | undefined => (list.every(text) ? undefined : `every ${what} entry must be a non-empty string`)

const artefactDef = (id: string) => `foundry/artefacts/${id}/definition.md`
const cycleDef = (id: string) => `foundry/cycles/${id}.md`

function cycleRules(fm: Fm, name: string, exists: RuleInput["exists"]): string[] {
  const errors: (string | undefined)[] = [need(fm, "id"), sameId(fm, "id", name), need(fm, "name")]
  const out = fm["output-type"]
  if (!text(out)) errors.push("frontmatter.output-type is required and must be a non-empty string")
  else if (!exists(artefactDef(out))) errors.push(`output-type references artefact type "${out}" but ${artefactDef(out)} does not exist`)

  const inputs = fm["inputs"]
  if (inputs !== undefined) {
    if (inputs === null || typeof inputs !== "object" || Array.isArray(inputs)) errors.push("frontmatter.inputs, when present, must be an object with type and artefacts")
    else {
      const i = inputs as Fm
      if (i["type"] !== "any-of" && i["type"] !== "all-of") errors.push("frontmatter.inputs.type must be one of: any-of, all-of")
      const arts = i["artefacts"]
      if (!Array.isArray(arts) || arts.length === 0) errors.push("frontmatter.inputs.artefacts must be a non-empty array of artefact-type ids")
      else {
        errors.push(allText(arts, "frontmatter.inputs.artefacts"))
        for (const a of arts) if (text(a) && !exists(artefactDef(a))) errors.push(`inputs.artefacts references artefact type "${a}" but ${artefactDef(a)} does not exist`)
      }
    }
  }
  const targets = fm["targets"]
  if (targets !== undefined) {
    if (!Array.isArray(targets)) errors.push("frontmatter.targets, when present, must be an array of cycle ids")
    else {
      errors.push(allText(targets, "frontmatter.targets"))
      for (const c of targets) if (text(c) && !exists(cycleDef(c))) errors.push(`targets references cycle "${c}" but ${cycleDef(c)} does not exist`)
    }
  }
  // the pre-3.6 deadlock limit, still refused when it could never trigger
  const max = fm["max-iterations"]
  const dead = fm["deadlock-iterations"]
  if (typeof max === "number" && typeof dead === "number" && dead > max) errors.push(`deadlock-iterations (${dead}) must be <= max-iterations (${max})`)
  return errors.filter((e): e is string => e !== undefined)
}

function flowRules(fm: Fm, body: string, name: string, exists: RuleInput["exists"]): string[] {
  const errors: (string | undefined)[] = [need(fm, "id"), sameId(fm, "id", name), need(fm, "name")]
  const start = fm["starting-cycles"]
  if (!Array.isArray(start) || start.length === 0) errors.push("frontmatter.starting-cycles is required and must be a non-empty array of cycle ids")
  else {
    const bad = allText(start, "frontmatter.starting-cycles")
    if (bad) errors.push(bad)
    else {
      // the first missing cycle is enough to refuse the flow
      const missing = start.find((c) => !exists(cycleDef(c as string)))
      if (missing !== undefined) errors.push(`starting-cycles references cycle "${String(missing)}" but ${cycleDef(String(missing))} does not exist`)
    }
  }
  errors.push(heading(body, "Cycles"))
  return errors.filter((e): e is string => e !== undefined)
}

function artefactTypeRules(fm: Fm, body: string, name: string): string[] {
  const errors: (string | undefined)[] = [need(fm, "name"), sameId(fm, "name", name), need(fm, "output-type")]
  const pats = fm["file-patterns"]
  if (!Array.isArray(pats) || pats.length === 0) errors.push("frontmatter.file-patterns is required and must be a non-empty array of glob strings")
  else errors.push(allText(pats, "frontmatter.file-patterns"))
  errors.push(heading(body, "Definition"))
  return errors.filter((e): e is string => e !== undefined)
}

function appraiserRules(fm: Fm, body: string, name: string): string[] {
  const errors: (string | undefined)[] = [need(fm, "id"), sameId(fm, "id", name), need(fm, "name")]
  if (fm["model"] !== undefined && !text(fm["model"])) errors.push("frontmatter.model, when present, must be a non-empty string")
  if (!body.trim()) errors.push("body must contain a personality description after the frontmatter")
  return errors.filter((e): e is string => e !== undefined)
}

/** The `## <law-id>` blocks of a laws file, each with the lines up to the next `## ` heading. */
export function lawBlocks(body: string): Array<{ id: string; text: string }> {
  const blocks: Array<{ id: string; lines: string[] }> = []
  for (const line of body.replace(/\r\n/g, "\n").split("\n")) {
    const h = /^## (.+)/.exec(line)
    if (h) blocks.push({ id: h[1]!.trim(), lines: [] })
    else blocks[blocks.length - 1]?.lines.push(line)
  }
  return blocks.map((b) => ({ id: b.id, text: b.lines.join("\n") }))
}

function lawRules(body: string): string[] {
  const blocks = lawBlocks(body)
  if (!blocks.length) return ["body must contain at least one law block (## <law-id>)"]
  const errors: string[] = []
  const seen = new Set<string>()
  for (const b of blocks) {
    if (seen.has(b.id)) errors.push(`duplicate law id: ${b.id}`)
    seen.add(b.id)
    if (!/^Passing:/m.test(b.text)) errors.push(`law "${b.id}" must contain a "Passing:" line`)
    if (!/^Failing:/m.test(b.text)) errors.push(`law "${b.id}" must contain a "Failing:" line`)
  }
  return errors
}

/** Check one definition the way Foundry's config validator for its kind would. */
export function checkDefinition(input: RuleInput): RuleResult {
  let errors: string[]
  if (input.kind === "law") errors = lawRules(input.text)
  else {
    const parsed = frontmatter(input.text)
    if ("error" in parsed) return { ok: false, errors: [parsed.error] }
    const { fm, body } = parsed
    if (input.kind === "cycle") errors = cycleRules(fm, input.name, input.exists)
    else if (input.kind === "flow") errors = flowRules(fm, body, input.name, input.exists)
    else if (input.kind === "artefact-type") errors = artefactTypeRules(fm, body, input.name)
    else errors = appraiserRules(fm, body, input.name)
  }
  return errors.length ? { ok: false, errors } : { ok: true }
}

/** What kind of definition a project-relative path holds, and the id it is filed under (undefined: not a definition Foundry validates). */
export function classifyConfigPath(rel: string): { kind: ConfigKind; name: string } | undefined {
  let m = /^foundry\/cycles\/([^/]+)\.md$/.exec(rel)
  if (m) return { kind: "cycle", name: m[1]! }
  if ((m = /^foundry\/flows\/([^/]+)\.md$/.exec(rel))) return { kind: "flow", name: m[1]! }
  if ((m = /^foundry\/artefacts\/([^/]+)\/definition\.md$/.exec(rel))) return { kind: "artefact-type", name: m[1]! }
  if ((m = /^foundry\/artefacts\/([^/]+)\/laws\.md$/.exec(rel))) return { kind: "law", name: m[1]! }
  if ((m = /^foundry\/laws\/([^/]+)\.md$/.exec(rel))) return { kind: "law", name: m[1]! }
  if ((m = /^foundry\/appraisers\/([^/]+)\.md$/.exec(rel))) return { kind: "appraiser", name: m[1]! }
  return undefined
}

export interface ConfigProblem {
  readonly file: string
  readonly kind: ConfigKind
  readonly errors: readonly string[]
}

/**
 * Check a whole config tree (project-relative path → text): every definition Foundry validates,
 * with references answered from the same tree. Returns the files that Foundry would refuse.
 */
export function checkConfigTree(files: ReadonlyMap<string, string>): ConfigProblem[] {
  const exists = (rel: string) => files.has(rel)
  const problems: ConfigProblem[] = []
  for (const [file, body] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const c = classifyConfigPath(file)
    if (!c) continue
    const r = checkDefinition({ ...c, text: body, exists })
    if (!r.ok) problems.push({ file, kind: c.kind, errors: r.errors })
  }
  return problems
}
