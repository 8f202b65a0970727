/**
 * The formation designer (pure): from a brief (its recipe and intents) and the project's Foundry
 * config as it is, propose the config files the brief's formation needs, in Foundry's own formats
 * (CONTRACTS.md §2): a cycle per formation cycle (carrying the brief's `alloy:` pin), the flow with
 * its starting cycles, a law for every law gate, a validator for every check gate no validator
 * runs yet, `always-human-appraise` on cycles with a human gate, and an artefact type where a new
 * cycle needs one. Existing files are changed only surgically (a pin, a flag, law blocks appended);
 * nothing existing is ever rewritten whole. The result is checked by Alloy's port of Foundry's
 * config rules (./config-rules.ts) by the caller.
 *
 * Authored text is untrusted: it reaches Foundry's agents through the files written here only as
 * law prose (passing/failing text, which appraisers must read anyway), never in a cycle body.
 */
import { criterionCycles, deriveGates, toBundleIntent } from "../core/build.js"
import type { BundleIntent } from "../core/bundle.js"
import { parseMarkdown, setFrontmatterBlock, setFrontmatterScalar } from "../core/frontmatter.js"
import { globToRegExp, splitGlobs } from "../core/glob.js"
import { gateLawId } from "../core/ids.js"
import { suggest } from "../core/nearest.js"
import type { Intent } from "../core/intent.js"
import { PIN_KEY } from "../core/pin.js"
import type { Recipe } from "../core/recipe.js"
import { lawBlocks } from "./config-rules.js"
import { reachableCycles } from "./flow-graph.js"
import { bindCheckCommand, parseLawValidators, type Validator } from "./laws.js"
import { inline } from "../core/prompt-safety.js"

export interface DesignInput {
  readonly recipe: Recipe
  readonly intents: readonly Intent[]
  /** the project's Foundry config as it is: project-relative path → text (foundry/**) */
  readonly config: ReadonlyMap<string, string>
  /** the digest the brief builds to with these cycle edges (`targets`), for the pin */
  readonly digestFor: (targets: Readonly<Record<string, readonly string[]>>) => string
}

export interface ProposedFile {
  readonly path: string
  /** create: a new file; modify: an existing file, changed surgically; unchanged: already right */
  readonly action: "create" | "modify" | "unchanged"
  readonly before?: string
  readonly after: string
  /** what the change is for, one line each */
  readonly why: readonly string[]
}

export interface FormationDesign {
  readonly brief_id: string
  readonly cycles: readonly string[]
  readonly flow?: string
  readonly pin: { readonly brief_id: string; readonly digest: string }
  readonly files: readonly ProposedFile[]
  /** what the designer could not settle and a person should look at */
  readonly notes: readonly string[]
}

const cyclePath = (id: string) => `foundry/cycles/${id}.md`
const flowPath = (id: string) => `foundry/flows/${id}.md`
const typePath = (t: string) => `foundry/artefacts/${t}/definition.md`
const typeLawsPath = (t: string) => `foundry/artefacts/${t}/laws.md`

/** `draft-release-note` → `Draft release note` */
const titleOf = (id: string) => id.charAt(0).toUpperCase() + id.slice(1).replace(/-/g, " ")
/** One line of authored prose for a law file: the prompt-safe single line, no heading or list markers at the start. */
const oneLine = (s: string) => inline(s).replace(/^[#>\-*\s]+/, "")
const yamlList = (items: readonly string[], indent = "  ") => items.map((i) => `${indent}- ${i}`).join("\n")

function frontmatterOf(text: string, file: string): Record<string, unknown> {
  try {
    return parseMarkdown(text, file).data
  } catch {
    return {}
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [])

/** A cycle's `targets` in the proposed config (none for a cycle the config does not have). */
const configTargets = (config: ReadonlyMap<string, string>, cycle: string): string[] => {
  const text = config.get(cyclePath(cycle))
  return text === undefined ? [] : strings(frontmatterOf(text, cyclePath(cycle))["targets"])
}

/** The law ids declared anywhere in the config, and the validators under them. */
function configLaws(config: ReadonlyMap<string, string>): { ids: Set<string>; validators: Validator[] } {
  const ids = new Set<string>()
  const validators: Validator[] = []
  for (const [p, text] of config) {
    if (!/^foundry\/laws\/[^/]+\.md$/.test(p) && !/^foundry\/artefacts\/[^/]+\/laws\.md$/.test(p)) continue
    for (const b of lawBlocks(text)) ids.add(b.id)
    validators.push(...parseLawValidators(text, p))
  }
  return { ids, validators }
}

/** The artefact types and their file patterns. */
function artefactTypes(config: ReadonlyMap<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const [p, text] of config) {
    const m = /^foundry\/artefacts\/([^/]+)\/definition\.md$/.exec(p)
    if (m) out.set(m[1]!, strings(frontmatterOf(text, p)["file-patterns"]))
  }
  return out
}

/** A glob made concrete enough to test against a type's patterns. */
const probe = (glob: string) =>
  glob
    .replace(/\*\*\/?/g, "x/")
    .replace(/\*/g, "x")
    .replace(/\?/g, "x")
    .replace(/\{([^,}]*)[^}]*\}/g, "$1")
const covers = (patterns: readonly string[], glob: string) => patterns.some((p) => p === glob || globToRegExp(p).test(probe(glob)))

/**
 * A validator command for a check: the check's own command with the words that name the cycle's
 * output files replaced by `{files}` (Foundry fills in the matching files), so the check gate binds
 * to it by the same rule lint and evidence use (./laws.ts). Without such words, the command itself.
 */
export function validatorCommandFor(command: string, patterns: readonly string[]): string {
  const words = command.trim().split(/\s+/)
  const fileWord = (w: string) => /[*?/]/.test(w) && !/\.(?:mjs|cjs|js|ts|mts|sh|bash|py|rb|pl)$/.test(w) && covers(patterns, w)
  const first = words.findIndex(fileWord)
  if (first < 0) return words.join(" ")
  let last = first
  while (last + 1 < words.length && fileWord(words[last + 1]!)) last++
  return [...words.slice(0, first), "{files}", ...words.slice(last + 1)].join(" ")
}

interface LawProposal {
  readonly id: string
  readonly text: string
  readonly why: string
}

function lawBlock(id: string, name: string, passing: string, failing: string, validators?: ReadonlyArray<{ id: string; command: string }>): string {
  const lines = [`## ${id}`, "", `${oneLine(name)}`, "", `Passing: ${oneLine(passing)}`, "", `Failing: ${oneLine(failing)}`]
  if (validators?.length) {
    lines.push("", "validators:")
    for (const v of validators) lines.push(`  - id: ${v.id}`, `    command: ${JSON.stringify(v.command)}`)
  }
  return `${lines.join("\n")}\n`
}

/** Propose the Foundry config for a brief's formation. */
export function designFormation(input: DesignInput): FormationDesign {
  const { recipe, config } = input
  const notes: string[] = []
  const intents: BundleIntent[] = recipe.intents.flatMap((id) => {
    const i = input.intents.find((x) => x.id === id)
    return i ? [toBundleIntent(i)] : []
  })
  const gates = deriveGates(intents)
  const types = artefactTypes(config)
  const laws = configLaws(config)
  const appraisers = [...config.keys()].flatMap((p) => /^foundry\/appraisers\/([^/]+)\.md$/.exec(p)?.[1] ?? []).sort()

  // the formation's cycles: the recipe's, else every cycle the existing flow reaches (starting cycles, then targets)
  const cycles = [...recipe.formation.cycles]
  const flow = recipe.formation.flow
  if (!cycles.length && flow && config.has(flowPath(flow))) {
    const start = strings(frontmatterOf(config.get(flowPath(flow))!, flowPath(flow))["starting-cycles"])
    cycles.push(...reachableCycles(start, (c) => configTargets(config, c)).filter((c) => config.has(cyclePath(c))))
  }
  const applies = criterionCycles({ ...recipe, formation: { ...recipe.formation, cycles } }, intents)
  const gatesIn = (c: string) => gates.filter((g) => applies.get(g.criterion)?.includes(c))

  const files = new Map<string, { before?: string; after: string; why: string[] }>()
  const edit = (p: string, change: (text: string) => string, why: string) => {
    const cur = files.get(p)
    const before = cur ? cur.after : config.get(p)
    if (before === undefined) return
    const after = change(before)
    if (after === before) return
    files.set(p, { ...(cur ? { before: cur.before } : config.has(p) ? { before: config.get(p)! } : {}), after, why: [...(cur?.why ?? []), why] })
  }
  const create = (p: string, text: string, why: string) => files.set(p, { after: text, why: [why] })
  const exists = (p: string) => files.has(p) || config.has(p)

  // ---- output types and edges of the cycles -----------------------------------------------
  const outputType = new Map<string, string>()
  const targets: Record<string, string[]> = {}
  const fresh = cycles.filter((c) => !config.has(cyclePath(c)))
  for (const c of cycles) {
    if (config.has(cyclePath(c))) {
      const fm = frontmatterOf(config.get(cyclePath(c))!, cyclePath(c))
      if (typeof fm["output-type"] === "string" && types.has(fm["output-type"])) outputType.set(c, fm["output-type"])
      else notes.push(`cycle ${c} has no output type with a definition in foundry/artefacts/, so no laws or validators can be placed for it; fix its output-type first`)
      targets[c] = strings(fm["targets"])
      continue
    }
    // a new cycle: the type whose patterns cover every artefact its criteria name, else a new type
    const paths = gatesIn(c)
      .filter((g) => g.kind === "artefact")
      .flatMap((g) => splitGlobs(g.path ?? ""))
    const fit = [...types].find(([, ps]) => ps.length > 0 && paths.length > 0 && paths.every((g) => covers(ps, g)))
    if (fit) outputType.set(c, fit[0])
    else {
      const t = types.has(c) ? `${c}-output` : c
      const patterns = paths.length ? [...new Set(paths)] : [`${t}/*.md`]
      if (!paths.length)
        notes.push(`artefact type ${t}: no criterion of cycle ${c} names an artefact path, so its file pattern is a guess (${patterns[0]}); set file-patterns to where the cycle writes`)
      const allowed = appraisers.length ? appraisers : ["alloy-reviewer"]
      create(
        typePath(t),
        `---\nname: ${t}\noutput-type: ${t}\nfile-patterns:\n${yamlList(patterns.map((p) => JSON.stringify(p)))}\nappraisers:\n  count: ${Math.min(2, allowed.length)}\n  allowed:\n${yamlList(allowed, "    ")}\n---\n\n## Definition\n\nWhat cycle \`${c}\` produces for brief \`${recipe.id}\`. Describe the artefact here: who reads it, its shape, where it lives.\n`,
        `artefact type for new cycle ${c}`,
      )
      types.set(t, patterns)
      outputType.set(c, t)
      if (!appraisers.length && !exists("foundry/appraisers/alloy-reviewer.md")) {
        create(
          "foundry/appraisers/alloy-reviewer.md",
          "---\nid: alloy-reviewer\nname: Alloy reviewer\n---\n\n# Alloy reviewer\n\nA careful reviewer who reads the work against each law and the brief's criteria, and names exactly what fails and where.\n",
          "an appraiser for the new artefact types (the project has none)",
        )
      }
    }
  }
  // new cycles feed the next formation cycle in the recipe's order (a chain); existing cycles keep theirs
  fresh.forEach((c) => {
    const next = cycles[cycles.indexOf(c) + 1]
    targets[c] = next ? [next] : []
  })
  if (fresh.length > 1 || (fresh.length && cycles.length > fresh.length))
    notes.push(`new cycles feed the next cycle in the recipe's order (${cycles.join(" → ")}); change \`targets\` if the formation branches`)

  // ---- cycles -------------------------------------------------------------------------------
  const pin = { brief_id: recipe.id, digest: input.digestFor(targets) }
  for (const c of cycles) {
    const human = gatesIn(c).some((g) => g.kind === "human")
    if (!config.has(cyclePath(c))) {
      const feeders = cycles.filter((o) => targets[o]?.includes(c))
      const inTypes = [...new Set(feeders.map((o) => outputType.get(o)).filter((t): t is string => t !== undefined))]
      const criteria = [...new Set(gatesIn(c).map((g) => g.criterion))]
      const fm = [
        `id: ${c}`,
        `name: ${titleOf(c)}`,
        `output-type: ${outputType.get(c)}`,
        ...(inTypes.length ? ["inputs:", "  type: any-of", "  artefacts:", yamlList(inTypes, "    ")] : []),
        ...(targets[c]!.length ? ["targets:", yamlList(targets[c]!)] : []),
        "max-iterations: 3",
        `always-human-appraise: ${human}`,
        // Foundry 3.6 reads an absent key as false; say it
        "deadlock-human-appraise: true",
        `alloy: { brief_id: ${pin.brief_id}, digest: "${pin.digest}" }`,
      ]
      create(
        cyclePath(c),
        `---\n${fm.join("\n")}\n---\n\n## Cycle\n\nProduces ${outputType.get(c)} for brief \`${recipe.id}\`${criteria.length ? ` (criteria ${criteria.join(", ")})` : ""}.\n`,
        `new cycle of brief ${recipe.id}'s formation, pinned to it`,
      )
      continue
    }
    edit(cyclePath(c), (t) => setFrontmatterBlock(t, cyclePath(c), PIN_KEY, { ...pin }), `pin brief ${recipe.id} at ${pin.digest.slice(0, 19)}…`)
    if (human && frontmatterOf(config.get(cyclePath(c))!, cyclePath(c))["always-human-appraise"] !== true) {
      edit(
        cyclePath(c),
        (t) => setFrontmatterScalar(t, cyclePath(c), "always-human-appraise", true),
        `human gate${gatesIn(c).filter((g) => g.kind === "human").length === 1 ? "" : "s"} ${gatesIn(c)
          .filter((g) => g.kind === "human")
          .map((g) => g.criterion)
          .join(", ")} need human-appraise in this cycle`,
      )
    }
  }

  // ---- flow ---------------------------------------------------------------------------------
  if (flow && !config.has(flowPath(flow))) {
    const fed = new Set(cycles.flatMap((c) => targets[c] ?? []))
    const starting = cycles.filter((c) => !fed.has(c))
    create(
      flowPath(flow),
      `---\nid: ${flow}\nname: ${titleOf(flow)}\nstarting-cycles:\n${yamlList(starting.length ? starting : cycles.slice(0, 1))}\n---\n\n## Cycles\n\n${cycles.map((c) => `- \`${c}\`${targets[c]?.length ? ` → ${targets[c]!.map((t) => `\`${t}\``).join(", ")}` : ""}`).join("\n")}\n`,
      `flow of brief ${recipe.id}'s formation`,
    )
  } else if (flow) {
    // every formation cycle should be reachable from the flow's starting cycles through targets
    const start = strings(frontmatterOf(config.get(flowPath(flow))!, flowPath(flow))["starting-cycles"])
    const seen = new Set(reachableCycles(start, (c) => targets[c] ?? configTargets(config, c)))
    const unreachable = cycles.filter((c) => !seen.has(c))
    if (unreachable.length)
      notes.push(
        `flow ${flow} does not reach ${unreachable.join(", ")} from its starting cycles (${start.join(", ") || "none"}); add ${unreachable.length === 1 ? "it" : "them"} to starting-cycles or to a cycle's targets`,
      )
  } else if (cycles.length > 1) {
    notes.push(`the recipe names ${cycles.length} cycles and no flow; Foundry runs cycles through a flow, so add \`formation.flow\` to the recipe and design again to get one`)
  }

  // ---- laws for law gates, validators for check gates --------------------------------------
  const byType = new Map<string, LawProposal[]>()
  const planned = new Set<string>()
  const allValidators = [...laws.validators]
  for (const c of cycles) {
    const t = outputType.get(c)
    if (!t) continue
    for (const g of gatesIn(c)) {
      const intent = intents.find((i) => g.criterion.startsWith(`${i.id}#`))!
      const crit = intent.acceptance_criteria.find((a) => a.ref === g.criterion)!
      if (g.kind === "law") {
        for (const e of crit.evidence) {
          if (e.kind !== "law") continue
          const id = e.law ?? g.law_id!
          if (laws.ids.has(id) || planned.has(`${t}/${id}`)) continue
          // a named law that is a near miss of an existing one is a typo in the intent, not a new law
          const near = e.law !== undefined ? suggest(e.law, laws.ids) : undefined
          if (near) {
            notes.push(`${g.criterion} names law ${e.law}, which does not exist; did you mean ${near}? Fix the intent rather than add a second law`)
            continue
          }
          planned.add(`${t}/${id}`)
          const text = lawBlock(id, `${g.criterion} — ${crit.text}`, e.passing ?? crit.text, e.failing ?? `The work does not meet ${g.criterion}: ${crit.text}`)
          byType.set(t, [...(byType.get(t) ?? []), { id, text, why: `law gate ${g.id}` }])
        }
      }
      if (g.kind === "check" && g.command && !bindCheckCommand(g.command, allValidators)) {
        const id = `${gateLawId(intent.id, crit.id)}--check`
        if (laws.ids.has(id) || planned.has(`${t}/${id}`)) continue
        planned.add(`${t}/${id}`)
        const parts = g.command
          .split("&&")
          .map((p) => p.trim())
          .filter(Boolean)
        const validators = parts.map((p, k) => ({ id: parts.length === 1 ? "check" : `check-${k + 1}`, command: validatorCommandFor(p, types.get(t) ?? []) }))
        allValidators.push(...validators.map((v) => ({ law: id, ...v })))
        const text = lawBlock(id, `${g.criterion} — ${crit.text}`, `\`${g.command}\` finds nothing to report.`, `\`${g.command}\` reports a finding: ${crit.text}`, validators)
        byType.set(t, [...(byType.get(t) ?? []), { id, text, why: `validator for check gate ${g.id}` }])
        notes.push(
          `validator ${id}: Foundry's quench runs \`${validators.map((v) => v.command).join(" && ")}\` and reads each line it prints as a JSON finding ({"file", "text"}); a script that only sets its exit code reports nothing to quench`,
        )
        if (!bindCheckCommand(g.command, allValidators)) notes.push(`check gate ${g.id}: the validator proposed for it does not bind to its command; bind them by hand`)
      }
    }
  }
  for (const [t, proposals] of byType) {
    const p = typeLawsPath(t)
    const blocks = proposals.map((l) => l.text).join("\n")
    const why = proposals.map((l) => `${l.id} (${l.why})`).join(", ")
    if (exists(p)) edit(p, (cur) => `${cur.replace(/\s*$/, "")}\n\n${blocks}`, `laws for ${why}`)
    else create(p, blocks, `laws for ${why}`)
  }

  // ---- artefact gates ---------------------------------------------------------------------
  for (const c of cycles) {
    const t = outputType.get(c)
    const ps = t ? (types.get(t) ?? []) : []
    for (const g of gatesIn(c).filter((x) => x.kind === "artefact")) {
      for (const glob of splitGlobs(g.path ?? "")) {
        if (!covers(ps, glob))
          notes.push(
            `artefact gate ${g.id}: ${glob} is not among the files cycle ${c} writes (${t ?? "no output type"}: ${ps.join(", ") || "no patterns"}); move the criterion to the cycle that writes it, or widen the type's file-patterns`,
          )
      }
    }
  }
  for (const g of gates) if (!cycles.some((c) => applies.get(g.criterion)?.includes(c))) notes.push(`gate ${g.id} applies to no cycle of the formation`)

  const out: ProposedFile[] = []
  for (const p of [...new Set([...files.keys(), ...cycles.filter((c) => config.has(cyclePath(c))).map(cyclePath)])].sort()) {
    const f = files.get(p)
    if (!f) out.push({ path: p, action: "unchanged", before: config.get(p)!, after: config.get(p)!, why: ["already as designed"] })
    else out.push({ path: p, action: f.before === undefined ? "create" : "modify", ...(f.before !== undefined ? { before: f.before } : {}), after: f.after, why: f.why })
  }
  return { brief_id: recipe.id, cycles, ...(flow ? { flow } : {}), pin, files: out, notes }
}
