/**
 * The formation designer use case: propose the Foundry config a brief's formation needs
 * (src/foundry/formation-design.ts), check it with Alloy's port of Foundry's config rules, show it
 * as a unified diff, and write it only on a Foundry `config/*` branch, where Foundry expects config
 * changes. Writing is all or nothing: every file is checked first (nothing changed under the
 * preview), then written atomically one by one, and a failure puts back what was written.
 */
import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from "node:fs"
import path from "node:path"
import { buildBundle } from "../core/build.js"
import { unifiedDiff } from "../core/diff.js"
import { AlloyError } from "../core/errors.js"
import { parseMarkdown } from "../core/frontmatter.js"
import { assertSlug } from "../core/ids.js"
import { readPinBlock } from "../core/pin.js"
import { checkConfigTree, type ConfigProblem } from "../foundry/config-rules.js"
import { designFormation, type FormationDesign } from "../foundry/formation-design.js"
import { fileMode, makeDirs, writeFileAtomic } from "../store/atomic.js"
import type { AlloyContext } from "./context.js"

export interface DesignReport extends FormationDesign {
  /** Foundry would refuse these files (only files the design creates or changes are listed) */
  readonly problems: readonly ConfigProblem[]
  /** is the pinned digest's object in the store already? (else build the brief after the config is merged) */
  readonly built: boolean
  /** the changes as one unified diff (empty when nothing changes) */
  readonly diff: string
  readonly branch: string | undefined
}

const MAX_FILES = 2000

/** A new file as a unified diff (every line added), the way git shows one. */
function newFileDiff(file: string, text: string): string {
  const lines = text.replace(/\n$/, "").split("\n")
  return [`--- /dev/null`, `+++ b/${file}`, `@@ -0,0 +1,${lines.length} @@`, ...lines.map((l) => `+${l}`)].join("\n")
}

/** The project's Foundry config files (foundry/**, Markdown only), as text. */
export function readConfigTree(ctx: AlloyContext): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (rel: string, depth: number) => {
    if (depth > 4 || out.size >= MAX_FILES) return
    let names: string[]
    try {
      names = readdirSync(ctx.project.abs(rel)).sort()
    } catch {
      return
    }
    for (const n of names) {
      const r = `${rel}/${n}`
      let dir = false
      try {
        dir = statSync(ctx.project.abs(r)).isDirectory()
      } catch {
        continue
      }
      if (dir) walk(r, depth + 1)
      else if (n.endsWith(".md")) {
        const text = ctx.project.readText(r)
        if (text !== undefined) out.set(r, text)
      }
    }
  }
  walk("foundry", 0)
  return out
}

/** Propose the config for a brief; writes nothing. */
export function designBriefFormation(ctx: AlloyContext, briefId: unknown): DesignReport {
  const id = assertSlug(briefId, "brief id")
  ctx.store.requireInit()
  if (!ctx.project.isFoundryProject()) {
    throw new AlloyError("usage", "there is no foundry/ folder here, so there is no Foundry config to design into", {
      fix: "run this in a Foundry project (open it in OpenCode with Foundry installed once)",
    })
  }
  const recipe = ctx.store.readRecipe(id)
  if (!recipe.value.formation.cycles.length && !recipe.value.formation.flow) {
    throw new AlloyError("usage", `brief ${id} names no cycles and no flow, so there is no formation to design`, {
      fix: `add \`formation: { flow: <flow-id>, cycles: [<cycle-id>, …] }\` to ${recipe.file}, then design again`,
    })
  }
  const intents = recipe.value.intents.map((iid) => ctx.store.readIntent(iid))
  const config = readConfigTree(ctx)
  const design = designFormation({
    recipe: recipe.value,
    intents: intents.map((i) => i.value),
    config,
    // the digest the brief will build to once these edges are in foundry/: the same build `brief build` does
    digestFor: (targets) => buildBundle({ recipe: { value: recipe.value, text: recipe.text }, intents: intents.map((i) => ({ value: i.value, text: i.text })), targets }).digest,
  })
  const merged = new Map(config)
  for (const f of design.files) merged.set(f.path, f.after)
  const changed = new Set(design.files.filter((f) => f.action !== "unchanged").map((f) => f.path))
  const problems = checkConfigTree(merged).filter((p) => changed.has(p.file))
  // every cycle the design writes must carry the pin, readable the way the hooks read it
  for (const f of design.files) {
    if (!/^foundry\/cycles\//.test(f.path)) continue
    let ok = false
    try {
      const pin = readPinBlock(parseMarkdown(f.after, f.path).data, f.path)
      ok = pin?.brief_id === design.pin.brief_id && pin.digest === design.pin.digest
    } catch {
      ok = false
    }
    if (!ok) problems.push({ file: f.path, kind: "cycle", errors: [`the cycle does not carry brief ${design.pin.brief_id}'s pin`] })
  }
  const diff = design.files
    .filter((f) => f.action !== "unchanged")
    .map((f) => (f.before === undefined ? newFileDiff(f.path, f.after) : unifiedDiff(f.before, f.after, `a/${f.path}`, `b/${f.path}`)))
    .join("\n")
  return { ...design, problems, built: ctx.store.hasObject(design.pin.digest), diff, branch: ctx.project.currentBranch() }
}

export interface WriteResult {
  readonly written: ReadonlyArray<{ path: string; action: "create" | "modify" }>
  readonly branch: string
}

/** The branch a config change for this brief belongs on (Foundry's `config/<one segment>`). */
/** The designer's answer as data, one shape for the CLI's `--json` and the tool. */
export function designView(report: DesignReport, written: WriteResult | undefined): Record<string, unknown> {
  return {
    brief_id: report.brief_id,
    cycles: report.cycles,
    ...(report.flow ? { flow: report.flow } : {}),
    pin: report.pin,
    built: report.built,
    branch: report.branch ?? null,
    files: report.files.map((f) => ({ path: f.path, action: f.action, why: f.why })),
    problems: report.problems,
    notes: report.notes,
    diff: report.diff,
    written: written?.written ?? null,
  }
}

export const configBranchFor = (briefId: string) => `config/${briefId}-formation`

/**
 * Write a design. Only on a `config/*` branch; refused when Foundry's rules refuse a file, or when
 * a file changed (or appeared) since the design was made.
 */
export function writeFormationDesign(ctx: AlloyContext, report: DesignReport): WriteResult {
  const branch = ctx.project.currentBranch()
  const want = configBranchFor(report.brief_id)
  const flow = ctx.project.onFlowBranch()
  if (flow) {
    throw new AlloyError(
      "work_branch",
      `refusing to write Foundry config: the repository is on Foundry flow branch '${flow}', where config must not change and any file Foundry did not write stops the flow`,
      {
        fix: `finish or leave the flow, switch to the base branch, then create a config branch: \`git switch main && git switch -c ${want}\``,
      },
    )
  }
  if (!branch || !/^config\/[^/]+$/.test(branch)) {
    throw new AlloyError(
      "not_config_branch",
      `refusing to write Foundry config on ${branch ? `branch '${branch}'` : "a detached HEAD"}: Foundry takes config changes only on a config/<name> branch (its config finish squash-merges them)`,
      {
        fix: `create one and design again: \`git switch -c ${want}\`, then \`opencode-alloy formation design ${report.brief_id} --write\``,
      },
    )
  }
  if (report.problems.length) {
    throw new AlloyError(
      "config_invalid",
      `the design for brief ${report.brief_id} has ${report.problems.length} file${report.problems.length === 1 ? "" : "s"} Foundry's config rules refuse; nothing was written`,
      {
        details: report.problems.flatMap((p) => p.errors.map((e) => ({ path: p.file, message: e }))),
        fix: "fix the brief or the existing config named, then design again",
      },
    )
  }
  const todo = report.files.filter((f) => f.action !== "unchanged")
  // nothing may have changed since the preview: an existing differing file is never overwritten unannounced
  for (const f of todo) {
    const cur = ctx.project.readText(f.path)
    if (f.action === "create" && cur !== undefined) {
      throw new AlloyError("already_exists", `${f.path} appeared since the design was made and differs from it; nothing was written`, {
        file: f.path,
        fix: "design again to see the change against the file as it is now",
      })
    }
    if (f.action === "modify" && cur !== f.before) {
      throw new AlloyError("already_exists", `${f.path} changed since the design was made; nothing was written`, { file: f.path, fix: "design again to see the change against the file as it is now" })
    }
  }
  const done: Array<{ path: string; action: "create" | "modify"; before?: string; dirs: string[] }> = []
  try {
    for (const f of todo) {
      const abs = ctx.project.abs(f.path)
      const dirs: string[] = []
      for (let d = path.dirname(abs); !existsSync(d) && d.startsWith(ctx.project.root); d = path.dirname(d)) dirs.unshift(d)
      if (dirs.length) makeDirs(path.dirname(abs))
      writeFileAtomic(abs, f.after, f.action === "modify" ? fileMode(abs) : 0o644, f.path)
      done.push({ path: f.path, action: f.action as "create" | "modify", ...(f.before !== undefined ? { before: f.before } : {}), dirs })
    }
  } catch (e) {
    // put back what was written: the config is either all designed or as it was
    for (const d of done.reverse()) {
      const abs = ctx.project.abs(d.path)
      try {
        if (d.action === "create") rmSync(abs, { force: true })
        else writeFileAtomic(abs, d.before!, fileMode(abs), d.path)
        for (const dir of d.dirs.reverse()) rmdirSync(dir)
      } catch {
        /* best effort; the error below says nothing was kept */
      }
    }
    throw e
  }
  return { written: done.map((d) => ({ path: d.path, action: d.action })), branch }
}
