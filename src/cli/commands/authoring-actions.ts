/** intent, brief, status, demo: authoring: what the commands do. */
import { statusEvidence } from "../../evidence/learning.js"
import { loadEvidence, type EvidenceModel } from "../../evidence/model.js"
import { bridgeUsage } from "../../bridge/usage.js"
import { readFileSync, statSync } from "node:fs"
import path from "node:path"
import { AlloyContext } from "../../service/context.js"
import { createIntentFromText, createIntentTemplate, listIntents, showIntent, type IntentWrite } from "../../service/intents.js"
import { lintBriefSources, lintProject } from "../../service/lint-project.js"
import { saveBrief } from "../../service/briefs.js"
import { buildBriefs, computeBuild } from "../../service/build.js"
import { diffBriefs } from "../../evidence/brief-diff.js"
import { renderBundleDiff } from "../../core/diff.js"
import { projectStatus, type BriefStatus, type PinStatus } from "../../service/status.js"
import { withSharedBundles } from "../../core/verify.js"
import { AlloyError } from "../../core/errors.js"
import { isSlug } from "../../core/ids.js"
import { decodeText, MAX_SOURCE_BYTES } from "../../core/frontmatter.js"
import { formatWarning, type LintWarning } from "../../core/lint.js"
import { EXIT_FAIL, EXIT_OK, usageError, type Io } from "../io.js"
import { startProgress } from "../progress.js"
import { str, strs, type CliRunner, type OptionValues } from "./types.js"
import { assertKnownBrief, assertKnownIntent } from "./known-names.js"

const short = (d: string | undefined) => (d ? `${d.slice(0, 19)}…` : "-")
const PLURALS: Record<string, string> = { criterion: "criteria" }
const plural = (n: number, w: string) => `${n} ${n === 1 ? w : (PLURALS[w] ?? `${w}s`)}`

/**
 * Lint findings a command found on the way. `hints: "count"` (writing and building, where lint is
 * not what was asked): warnings in full, the info-level hints as one line that says where to read
 * them, so the same hint is not repeated by every command of a session.
 */
function printWarnings(io: Io, warnings: readonly LintWarning[], opts: { hints?: "all" | "count" } = {}): void {
  const hints = warnings.filter((w) => w.severity === "info")
  for (const w of opts.hints === "count" ? warnings.filter((x) => x.severity !== "info") : warnings) {
    io.err(formatWarning(w))
    if (w.fix) io.err(`  fix: ${w.fix}`)
  }
  if (opts.hints === "count" && hints.length)
    io.err(`${plural(hints.length, "hint")} (${[...new Set(hints.map((w) => w.code))].join(", ")}): \`opencode-alloy intent lint\` shows ${hints.length === 1 ? "it" : "them"}`)
}

function jsonWarnings(ws: readonly LintWarning[]) {
  return ws.map((w) => ({ ...w }))
}

// ---- intent --------------------------------------------------------------------------------

/** Read `--from <file>` (relative to the project root): bounded, text only. */
function readFromFile(io: Io, file: string): { text: string; shown: string } {
  const abs = path.resolve(io.cwd, file)
  const shown = path.isAbsolute(file) ? path.basename(file) : file.split(path.sep).join("/")
  let size: number
  try {
    const st = statSync(abs)
    if (!st.isFile()) throw new AlloyError("usage", `--from ${shown} is not a file`)
    size = st.size
  } catch (e) {
    if (e instanceof AlloyError) throw e
    throw new AlloyError("usage", `--from ${shown}: cannot read it (${(e as NodeJS.ErrnoException).code ?? "error"})`, { fix: "give the path of a Markdown file with YAML frontmatter" })
  }
  if (size > MAX_SOURCE_BYTES) {
    throw new AlloyError("invalid_intent", `${shown}: ${size} bytes is larger than the ${MAX_SOURCE_BYTES}-byte limit for an intent record; nothing was written`, { file: shown })
  }
  try {
    return { text: decodeText(readFileSync(abs), shown), shown }
  } catch (e) {
    if (e instanceof AlloyError) throw new AlloyError("invalid_intent", `${e.message}; nothing was written`, { file: shown, fix: "give a UTF-8 Markdown file with YAML frontmatter" })
    throw e
  }
}

function reportIntentWrite(io: Io, r: IntentWrite, template: boolean): number {
  if (io.json) {
    io.out(JSON.stringify({ ok: true, id: r.intent.id, file: r.file, source_digest: r.source_digest, template, warnings: jsonWarnings(r.warnings), initialised: r.initialised }, null, 2))
    return EXIT_OK
  }
  if (r.initialised.length) io.out(`Initialised .alloy/ (created ${r.initialised.join(", ")}).`)
  if (template) {
    io.out(`Wrote ${r.file}: a template (status ${r.intent.status}) with TODO placeholders.`)
    io.out(`Next: edit it, then \`opencode-alloy intent lint ${r.intent.id}\`, and \`opencode-alloy brief new ${r.intent.id} --intent ${r.intent.id} --cycle <cycle-id>\`.`)
  } else {
    io.out(`Wrote ${r.file} (${r.intent.status}, ${plural(r.intent.acceptance_criteria.length, "criterion")}).`)
    io.out(`Next: \`opencode-alloy brief new ${r.intent.id} --intent ${r.intent.id} --cycle <cycle-id>\`, then \`opencode-alloy brief build ${r.intent.id}\`.`)
    printWarnings(io, r.warnings, { hints: "count" })
  }
  return EXIT_OK
}

export function cmdIntentNew(io: Io, args: string[], v: OptionValues): number {
  if (args.length !== 1) throw usageError("usage: opencode-alloy intent new <id> [--title <t>] [--goal <g>] [--status <s>] [--from <file>]")
  const ctx = new AlloyContext(io.cwd)
  const from = str(v["from"])
  if (from !== undefined) {
    if (v["title"] !== undefined || v["goal"] !== undefined || v["status"] !== undefined) {
      throw usageError("--from takes the whole record from the file; do not combine it with --title, --goal or --status")
    }
    const { text, shown } = readFromFile(io, from)
    return reportIntentWrite(io, createIntentFromText(ctx, args[0]!, text, shown), false)
  }
  const opts = { ...(str(v["title"]) ? { title: str(v["title"])! } : {}), ...(str(v["goal"]) ? { goal: str(v["goal"])! } : {}), ...(str(v["status"]) ? { status: str(v["status"])! } : {}) }
  return reportIntentWrite(io, createIntentTemplate(ctx, args[0], opts), true)
}

export function cmdIntentList(io: Io): number {
  const ctx = new AlloyContext(io.cwd)
  const all = listIntents(ctx)
  if (io.json) {
    io.out(JSON.stringify({ ok: true, intents: all }, null, 2))
    return EXIT_OK
  }
  if (!ctx.store.exists()) {
    io.out("No .alloy/ folder yet. Start with `opencode-alloy intent new <id>`.")
    return EXIT_OK
  }
  if (!all.length) {
    io.out("No intents yet. Write one with `opencode-alloy intent new <id>`.")
    return EXIT_OK
  }
  const w = Math.max(...all.map((i) => i.id.length))
  for (const i of all) {
    if (i.error) io.out(`${i.id.padEnd(w)}  INVALID    [${i.error.code}] ${i.error.message.split("\n")[0]}`)
    else
      io.out(
        `${i.id.padEnd(w)}  ${(i.status ?? "").padEnd(10)} ${plural(i.criteria ?? 0, "criterion").padEnd(13)} ${i.briefs.length ? `briefs: ${i.briefs.join(", ")}` : "in no brief"}  ${i.title ?? ""}`,
      )
  }
  return EXIT_OK
}

export function cmdIntentShow(io: Io, args: string[]): number {
  if (args.length !== 1) throw usageError("usage: opencode-alloy intent show <id>")
  const ctx = new AlloyContext(io.cwd)
  assertKnownIntent(ctx, args[0]!)
  const r = showIntent(ctx, args[0])
  if (io.json) {
    io.out(JSON.stringify({ ok: true, file: r.file, source_digest: r.source_digest, briefs: r.briefs, intent: r.intent, warnings: jsonWarnings(r.warnings) }, null, 2))
    return EXIT_OK
  }
  io.out(`${r.intent.id} (${r.intent.status}): ${r.intent.title}`)
  io.out(`file ${r.file}; source ${r.source_digest}; ${r.briefs.length ? `used by brief${r.briefs.length === 1 ? "" : "s"} ${r.briefs.join(", ")}` : "in no brief yet"}`)
  io.out("")
  io.out(r.text.replace(/\r\n/g, "\n").trimEnd())
  if (r.warnings.length) io.out("")
  printWarnings(io, r.warnings)
  return EXIT_OK
}

export function cmdIntentLint(io: Io, args: string[], v: OptionValues): number {
  const strict = v["strict"] === true
  const ctx = new AlloyContext(io.cwd)
  for (const id of args) assertKnownIntent(ctx, id)
  const report = lintProject(ctx, { ids: args, strict })
  if (io.json) {
    io.out(JSON.stringify({ ok: report.ok, strict, warnings: report.warnings, errors: report.errors, entries: report.entries }, null, 2))
    return report.ok ? EXIT_OK : EXIT_FAIL
  }
  for (const e of report.entries) {
    if (e.error) {
      io.out(`error [${e.error.code}] ${e.error.message}`)
      continue
    }
    for (const w of e.warnings) {
      io.out(formatWarning(w))
      if (w.fix) io.out(`  fix: ${w.fix}`)
    }
  }
  const intents = report.entries.filter((e) => e.kind === "intent").length
  const briefs = report.entries.filter((e) => e.kind === "brief").length
  io.out(
    `${plural(intents, "intent")} and ${plural(briefs, "brief")} checked: ${plural(report.errors, "error")}, ${plural(report.warnings, "warning")}${strict && report.warnings ? " (--strict: warnings fail)" : ""}`,
  )
  return report.ok ? EXIT_OK : EXIT_FAIL
}

// ---- brief ---------------------------------------------------------------------------------

export function cmdBriefNew(io: Io, args: string[], v: OptionValues): number {
  if (args.length !== 1) throw usageError("usage: opencode-alloy brief new <id> --intent <intent-id>... [--cycle <cycle-id>...] [--flow <flow-id>] [--title <t>]")
  const intents = strs(v["intent"])
  if (!intents.length) throw usageError("name at least one intent: --intent <intent-id>", `e.g. \`opencode-alloy brief new ${args[0]} --intent ${args[0]} --cycle <cycle-id>\``)
  const ctx = new AlloyContext(io.cwd)
  const cycles = strs(v["cycle"])
  const r = saveBrief(
    ctx,
    { id: args[0], intents, ...(cycles.length ? { cycles } : {}), ...(str(v["flow"]) ? { flow: str(v["flow"]) } : {}), ...(str(v["title"]) ? { title: str(v["title"]) } : {}) },
    "create",
  )
  if (io.json) {
    io.out(JSON.stringify({ ok: true, id: r.recipe.id, file: r.file, recipe: r.recipe, initialised: r.initialised }, null, 2))
    return EXIT_OK
  }
  if (r.initialised.length) io.out(`Initialised .alloy/ (created ${r.initialised.join(", ")}).`)
  io.out(
    `Wrote ${r.file}: brief ${r.recipe.id} from ${r.recipe.intents.join(", ")}${r.recipe.formation.flow ? `, flow ${r.recipe.formation.flow}` : ""}${r.recipe.formation.cycles.length ? `, cycles ${r.recipe.formation.cycles.join(", ")}` : ""}.`,
  )
  io.out(`Add per-stage notes under \`stages:\` in the file if you like. Next: \`opencode-alloy brief build ${r.recipe.id}\`.`)
  return EXIT_OK
}

export function cmdBriefBuild(io: Io, named: string[], v: OptionValues): number {
  const all = v["all"] === true
  if (all && named.length) throw usageError("give brief ids or --all, not both", "`opencode-alloy brief build --all` builds every brief in .alloy/briefs/")
  if (!all && named.length < 1)
    throw usageError("usage: opencode-alloy brief build <brief-id>... | --all [--strict] [--dry-run] [--allow-ungated]", "name the briefs to build, or pass --all for every brief in .alloy/briefs/")
  const dryRun = v["dry-run"] === true
  const allowUngated = v["allow-ungated"] === true
  const ctx = new AlloyContext(io.cwd)
  const ids = all ? (ctx.store.exists() ? ctx.store.listRecipeIds() : []) : named
  for (const id of named) assertKnownBrief(ctx, id)
  if (all && ids.length === 0) {
    io.out(io.json ? JSON.stringify({ ok: true, dry_run: dryRun, builds: [] }, null, 2) : "No briefs in .alloy/briefs/ to build. Write one with `opencode-alloy brief new <id> --intent <intent-id>`.")
    return EXIT_OK
  }
  const progress = startProgress(dryRun ? "computing" : "building", ids.length, { json: io.json })
  let results
  try {
    results = buildBriefs(ctx, ids, { strict: v["strict"] === true, dryRun, allowUngated, onProgress: (done, _total, id) => progress.update(done, id) })
  } finally {
    progress.end()
  }
  if (io.json) {
    io.out(
      JSON.stringify(
        {
          ok: true,
          dry_run: dryRun,
          builds: results.map(({ output, ...r }) => ({
            ...r,
            ...(output.bundle.composition ? { allow_ungated: output.bundle.composition.allow_ungated, ungated: output.bundle.composition.ungated } : {}),
            warnings: jsonWarnings(r.warnings),
          })),
        },
        null,
        2,
      ),
    )
    return EXIT_OK
  }
  printWarnings(
    io,
    results.flatMap((r) => r.warnings),
    { hints: "count" },
  )
  for (const r of results) {
    const ungated = r.output.bundle.composition?.ungated ?? []
    if (allowUngated && ungated.length) io.out(`${r.brief_id}: built with --allow-ungated; recorded in the bundle, ungated: ${ungated.join(", ")}`)
    if (r.dry_run) io.out(`${r.brief_id} @ ${r.digest} (dry run: nothing written; ${r.changed ? (r.previous ? `the ref is ${r.previous}` : "never built") : "same as the current build"})`)
    else {
      io.out(`${r.brief_id} @ ${r.digest}${r.changed ? (r.previous ? ` (was ${r.previous})` : " (first build)") : " (unchanged)"}`)
      io.out(`  object ${r.object}${r.created ? "" : " (already stored)"}; ref ${r.ref}`)
    }
  }
  return EXIT_OK
}

export function cmdBriefDiff(io: Io, args: string[], v: OptionValues): number {
  if (args.length !== 2)
    throw usageError("usage: opencode-alloy brief diff <a> <b> [--format text|markdown]", "each side: a digest, a brief id (its current build), <brief-id>@<git-rev>, or a git revision such as HEAD~1")
  const format = str(v["format"]) ?? "text"
  if (format !== "text" && format !== "markdown") throw usageError(`--format ${JSON.stringify(format.slice(0, 40))} is not text or markdown`)
  const ctx = new AlloyContext(io.cwd)
  // a side that names a brief by its id names one that is there
  // (a brief at a git revision may be one deleted since, so only a bare id is checked here)
  for (const a of args) if (isSlug(a)) assertKnownBrief(ctx, a)
  const d = diffBriefs(ctx, args[0]!, args[1]!)
  if (io.json) io.out(JSON.stringify({ ok: true, ...d }, null, 2))
  else io.out(renderBundleDiff(d, format))
  return EXIT_OK
}

function pinLine(p: PinStatus): string {
  const what = p.state === "current" ? "current" : p.state === "behind" ? "BEHIND (a newer build exists; re-pin)" : p.state === "unbuilt" ? "unbuilt (no ref)" : `BROKEN [${p.error?.code}]`
  return `${p.kind} ${p.id} (${p.file}) @ ${short(p.digest)}: ${what}${p.covers?.length ? `; covers ${p.covers.join(", ")}` : ""}`
}

function briefLine(b: BriefStatus): string {
  const state = b.error ? `cannot build [${b.error.code}]` : !b.digest ? "never built" : b.needs_build ? "sources changed since the last build: rebuild" : "up to date"
  return `${b.id}  ${b.digest ? short(b.digest) : "(no build)"}  ${state}`
}

export function cmdBriefShow(io: Io, args: string[]): number {
  if (args.length !== 1) throw usageError("usage: opencode-alloy brief show <brief-id>")
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  assertKnownBrief(ctx, args[0]!)
  const recipe = ctx.store.readRecipe(args[0]!)
  const status = projectStatus(ctx).briefs.find((b) => b.id === recipe.value.id)
  const { warnings } = lintBriefSources(ctx, recipe.value.id)
  if (io.json) {
    io.out(JSON.stringify({ ok: true, file: recipe.file, recipe: recipe.value, status, warnings: jsonWarnings(warnings) }, null, 2))
    return EXIT_OK
  }
  const r = recipe.value
  io.out(`brief ${r.id}${r.title ? `: ${r.title}` : ""}`)
  io.out(`file ${recipe.file}`)
  io.out(`intents: ${r.intents.join(", ")}`)
  io.out(`formation: ${[r.formation.flow ? `flow ${r.formation.flow}` : "", r.formation.cycles.length ? `cycles ${r.formation.cycles.join(", ")}` : ""].filter(Boolean).join("; ") || "(none)"}`)
  if (Object.keys(r.stages).length) io.out(`stage notes: ${Object.keys(r.stages).sort().join(", ")}`)
  if (status) {
    io.out(
      `build: ${status.digest ?? "(none)"}${status.error ? ` (cannot build: ${status.error.message.split("\n")[0]})` : status.needs_build ? ` (${status.changed_sources?.length ? `${status.changed_sources.join(", ")} changed` : "never built"}; a build now gives ${computeBuild(ctx, r.id).digest})` : status.digest ? " (up to date)" : ""}`,
    )
    if (status.pins.length) for (const p of status.pins) io.out(`pinned by ${pinLine(p)}`)
    else io.out(`pinned by: nothing yet (\`opencode-alloy pin <cycle-id> ${r.id}\`)`)
  }
  printWarnings(io, warnings)
  return EXIT_OK
}

// ---- status --------------------------------------------------------------------------------

export function cmdStatus(io: Io): number {
  const ctx = new AlloyContext(io.cwd)
  // the evidence model and the pin scan read the same current builds: the model first, so the
  // scan finds each one parsed (a model that cannot load is loaded and reported by statusEvidence)
  const { s, evidence } = withSharedBundles(() => {
    let model: EvidenceModel | undefined
    if (ctx.store.exists()) {
      try {
        model = loadEvidence(ctx)
      } catch {
        model = undefined
      }
    }
    const s = projectStatus(ctx)
    return { s, evidence: s.root_initialised ? statusEvidence(ctx, s, { usage: bridgeUsage(ctx.root) }, model) : undefined }
  })
  const satisfaction = evidence?.satisfaction
  if (io.json) {
    io.out(JSON.stringify({ ok: true, ...s, ...(evidence ? { satisfaction: evidence.satisfaction.json, insights: evidence.insights.json } : {}) }, null, 2))
    return EXIT_OK
  }
  const where = [s.branch ? `branch ${s.branch}${s.flow_branch ? " (a Foundry flow branch: authoring writes are refused here)" : ""}` : "", s.foundry_version ? `Foundry ${s.foundry_version}` : ""]
    .filter(Boolean)
    .join("; ")
  io.out(`Alloy status${where ? ` (${where})` : ""}`)
  if (!s.root_initialised) {
    io.out("\nNo .alloy/ folder yet: start with `opencode-alloy intent new <id>` (or `opencode-alloy init`).")
  }
  io.out(`\nIntents (${s.intents.length})`)
  if (!s.intents.length) io.out("  none")
  const iw = Math.max(0, ...s.intents.map((i) => i.id.length))
  for (const i of s.intents) {
    io.out(
      i.error
        ? `  ${i.id.padEnd(iw)}  INVALID [${i.error.code}]`
        : `  ${i.id.padEnd(iw)}  ${(i.status ?? "").padEnd(10)} ${plural(i.criteria ?? 0, "criterion").padEnd(13)} ${i.briefs.length ? `in ${i.briefs.join(", ")}` : "in no brief"}`,
    )
  }
  io.out(`\nBriefs (${s.briefs.length})`)
  if (!s.briefs.length) io.out("  none")
  for (const b of s.briefs) {
    io.out(`  ${briefLine(b)}`)
    if (!b.pins.length) io.out("      not pinned anywhere")
    for (const p of b.pins) io.out(`      pinned by ${pinLine(p)}`)
  }
  if (s.orphan_pins.length) {
    io.out("\nPins naming a brief that is not here")
    for (const p of s.orphan_pins) io.out(`  ${p.brief_id || "?"}: ${pinLine(p)}${p.error ? `\n      ${p.error.message.split("\n")[0]}` : ""}`)
  }
  if (s.covered_cycles.length) io.out(`\nCycles covered by a flow pin: ${s.covered_cycles.map((c) => `${c.cycle} (flow ${c.flow})`).join(", ")}`)
  if (s.unpinned_cycles.length) io.out(`\nCycles without a pin: ${s.unpinned_cycles.join(", ")}`)
  if (s.findings.length) {
    io.out("\nWhat `opencode-alloy verify` reports")
    for (const f of s.findings) io.out(`  ${f.severity} [${f.code}] ${f.message.split("\n")[0]}`)
  }
  if (satisfaction && s.intents.length) {
    io.out("")
    for (const line of satisfaction.lines) io.out(line)
    for (const line of evidence?.insights.lines ?? []) io.out(line)
  }
  const behind = s.briefs.flatMap((b) => b.pins).filter((p) => p.state === "behind").length
  const stale = s.briefs.filter((b) => b.needs_build && !b.error).map((b) => b.id)
  const rebuild = stale.length
  if (behind || rebuild) {
    io.out("")
    // the command to run, not a template: the briefs by name when there are a few
    if (rebuild) io.out(`${plural(rebuild, "brief")} changed since the last build: \`opencode-alloy brief build ${rebuild <= 3 ? stale.join(" ") : "--all"}\`.`)
    if (behind) io.out(`${plural(behind, "pin")} behind the current build: \`opencode-alloy pin <cycle-id> <brief-id>\`.`)
  }
  return EXIT_OK
}

// ---- demo ----------------------------------------------------------------------------------

export async function cmdDemo(io: Io, v: OptionValues, cli: CliRunner): Promise<number> {
  // loaded on demand: the plugin and hooks it drives are not needed by any other command
  const { runDemo } = await import("../../demo/demo.js")
  return runDemo(io, cli, { keep: v["keep"] === true })
}
