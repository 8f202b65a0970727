/**
 * One scan of every pin in the project, the facts both `status` and `verify` report: each
 * cycle and flow file is read once, each distinct pinned object verified once, each intent
 * hashed once, so the scan is linear in the size of the project. The findings are named by a
 * stable code and a severity (core/verify-report.ts); `verify` fails on errors, and with
 * `--strict` on warnings too.
 */
import { AlloyError } from "../core/errors.js"
import { isSlug } from "../core/ids.js"
import { unknownNameFix } from "../core/nearest.js"
import { intentFilePath, recipeFilePath } from "../core/lint.js"
import { parseMarkdown } from "../core/frontmatter.js"
import { readPinBlock, type LocatedPin, type Pin } from "../core/pin.js"
import type { Recipe } from "../core/recipe.js"
import { sourceDigest } from "../core/digest.js"
import { compositionEdges } from "../core/build.js"
import { formationTargets } from "./formation-targets.js"
import type { Finding } from "../core/verify-report.js"
import { hasConflictMarkers, type PinState } from "../core/verify-rules.js"
import type { Bundle } from "../core/bundle.js"
import { foundryVersionWarning } from "../foundry/compat.js"
import { strayTemps } from "../store/atomic.js"
import type { AlloyContext } from "./context.js"
import { inPinContext, resolvePin } from "./resolve.js"
import { errInfo, isObj } from "./util.js"

export interface ScannedPin {
  readonly kind: "cycle" | "flow"
  readonly id: string
  readonly file: string
  readonly brief_id: string
  readonly digest: string
  /** current: equals the brief's ref; behind: the brief was built again since; unbuilt: the brief has no ref; broken: does not verify */
  readonly state: PinState
  /** for a behind pin: the brief's current build */
  readonly current?: string
  /** for flow pins: the flow's cycles without a pin of their own, which the flow pin covers */
  readonly covers?: string[]
  readonly error?: { code: string; message: string; fix?: string }
}

export interface ScannedBrief {
  readonly id: string
  readonly file: string
  readonly recipe?: Recipe
  /** the digest the ref names (the current build), if built */
  readonly digest?: string
  /** the sources changed since the last build (or it was never built) */
  readonly needs_build: boolean
  /** which sources changed since the build the ref names: `intent <id>`, `recipe <id>` */
  readonly changed_sources: string[]
  /** cycles (and flows) whose pin names this brief */
  readonly pins: ScannedPin[]
  readonly error?: { code: string; message: string; details?: ReadonlyArray<{ path?: string; message: string }> }
}

export interface PinScan {
  readonly pins: ScannedPin[]
  readonly briefs: ScannedBrief[]
  /** cycles without a pin of their own that a flow pin covers */
  readonly covered: Array<{ cycle: string; flow: string }>
  /** cycles with no pin at all */
  readonly unpinned: string[]
  readonly findings: Finding[]
}

/**
 * A cycle or flow definition as the scan keeps it: its pin and the few keys it reads later, not
 * its whole frontmatter: every parsed frontmatter held to the end of the scan was memory the
 * garbage collector copied and promoted for nothing (over 1,000 cycles, verify's collections took
 * 16 ms instead of 19: docs/performance.md).
 */
interface Def {
  readonly kind: "cycle" | "flow"
  readonly id: string
  readonly file: string
  /** the definition cannot be read, or its `alloy` block is wrong */
  readonly error?: AlloyError
  /** its pin (undefined: it has no `alloy` block) */
  readonly pin?: Pin
  /** with a wrong `alloy` block: its brief_id and digest as written, when they are strings */
  readonly written?: { readonly brief_id: string; readonly digest: string }
  /** a cycle's `targets`, a flow's `starting-cycles`: the slugs among them */
  readonly next?: readonly string[]
}

/** The slugs of a list in a definition (anything else in it is Foundry's validator's to report). */
const slugsOf = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter(isSlug) : undefined)

const CONFLICT_FIX = (file: string) =>
  `resolve the merge conflict in ${file} (keep one side, delete the <<<<<<< ======= >>>>>>> lines); for a ref or a pin, take either side and then rebuild and re-pin (\`opencode-alloy brief build <brief-id>\`, \`opencode-alloy pin <cycle> <brief-id>\`)`

function readDef(ctx: AlloyContext, kind: "cycle" | "flow", id: string): Def {
  const file = kind === "cycle" ? ctx.project.cycleRel(id) : ctx.project.flowRel(id)
  let text: string | undefined
  try {
    text = ctx.project.readText(file)
  } catch (e) {
    return { kind, id, file, error: e instanceof AlloyError ? e : new AlloyError("io_error", String(e)) }
  }
  if (text === undefined) return { kind, id, file, error: new AlloyError("cycle_not_found", `${kind} ${id} does not exist (${file})`) }
  if (hasConflictMarkers(text)) {
    return { kind, id, file, error: new AlloyError("merge_conflict", `${file} holds git merge conflict markers`, { file, fix: CONFLICT_FIX(file) }) }
  }
  let data: Record<string, unknown>
  try {
    data = parseMarkdown(text, file).data
  } catch (e) {
    return { kind, id, file, error: e instanceof AlloyError ? e : new AlloyError("malformed", String(e)) }
  }
  const next = slugsOf(data[kind === "cycle" ? "targets" : "starting-cycles"])
  const base = { kind, id, file, ...(next ? { next } : {}) }
  try {
    const pin = readPinBlock(data, file, { kind, id })
    return pin ? { ...base, pin } : base
  } catch (e) {
    const raw = isObj(data["alloy"]) ? (data["alloy"] as Record<string, unknown>) : undefined
    const written = { brief_id: typeof raw?.["brief_id"] === "string" ? raw["brief_id"] : "", digest: typeof raw?.["digest"] === "string" ? raw["digest"] : "" }
    return { ...base, written, error: e instanceof AlloyError ? e : new AlloyError("malformed", String(e)) }
  }
}

/** The cycles a flow reaches (its starting cycles and everything through `targets`), from the defs already read. */
function flowCycles(flow: Def, cycles: ReadonlyMap<string, Def>): string[] {
  const start = flow.next ?? []
  const seen = new Set<string>()
  const queue = [...start]
  for (let i = 0; i < queue.length && seen.size < 10_000; i++) {
    const c = queue[i]!
    if (seen.has(c) || !cycles.has(c)) continue
    seen.add(c)
    for (const t of cycles.get(c)!.next ?? []) if (!seen.has(t)) queue.push(t)
  }
  return [...seen].sort()
}

/** The sources a bundle was built from and its composition: all the scan keeps of a verified bundle. */
type BuiltFrom = Pick<Bundle, "sources" | "composition">
const builtFrom = (b: Bundle): BuiltFrom => ({ sources: b.sources, ...(b.composition ? { composition: b.composition } : {}) })

const info = (e: AlloyError) => ({ code: e.code, message: e.describe(), ...(e.fix ? { fix: e.fix } : {}) })

/** Scan every pin, formation and ref. Read-only; never throws for a project's content. */
export function scanPins(ctx: AlloyContext): PinScan {
  return ctx.store.inOneScan(() => scanAll(ctx))
}

function scanAll(ctx: AlloyContext): PinScan {
  const findings: Finding[] = []
  const add = (f: Finding) => findings.push(f)
  const storeOk = ctx.store.exists()
  const foundry = ctx.project.isFoundryProject()

  // ---- refs, read once per brief ------------------------------------------------------------
  const refs = new Map<string, { digest?: string; error?: AlloyError }>()
  const refOf = (brief: string) => {
    let r = refs.get(brief)
    if (!r) {
      try {
        const d = storeOk ? ctx.store.readRef(brief) : undefined
        r = d ? { digest: d } : {}
      } catch (e) {
        r = { error: e instanceof AlloyError ? e : new AlloyError("io_error", String(e)) }
      }
      refs.set(brief, r)
    }
    return r
  }

  // ---- definitions, read once --------------------------------------------------------------
  const cycleIds = foundry ? ctx.project.listCycleIds() : []
  const flowIds = foundry ? ctx.project.listFlowIds() : []
  const cycles = new Map(cycleIds.map((id) => [id, readDef(ctx, "cycle", id)]))
  const flows = new Map(flowIds.map((id) => [id, readDef(ctx, "flow", id)]))

  // ---- pins: each distinct (brief, digest) verified once -----------------------------------
  // what the drift check needs of each verified bundle, not the bundle: 10,000 bundles held to the
  // end of the scan made the heap (and the garbage collector's work) grow faster than the project.
  // The drift check reads only the brief's current build, so an older build keeps nothing (null)
  const verified = new Map<string, BuiltFrom | null>()
  const pins: ScannedPin[] = []
  const ownPinned = new Set<string>()
  for (const def of [...cycles.values(), ...flows.values()]) {
    if (def.error) {
      const err = inPinContext(def.error, { source: { kind: def.kind, id: def.id, file: def.file } })
      // a definition that cannot be read is only a pin problem when it carries (or may carry) a pin
      if (def.kind === "cycle") ownPinned.add(def.id)
      pins.push({ kind: def.kind, id: def.id, file: def.file, brief_id: def.written?.brief_id ?? "", digest: def.written?.digest ?? "", state: "broken", error: info(err) })
      continue
    }
    if (!def.pin) continue
    const pin: LocatedPin = { ...def.pin, source: { kind: def.kind, id: def.id, file: def.file } }
    if (def.kind === "cycle") ownPinned.add(def.id)
    const ref = refOf(pin.brief_id)
    const key = `${pin.brief_id}@${pin.digest}`
    let error: AlloyError | undefined
    if (!verified.has(key)) {
      try {
        const bundle = resolvePin(ctx, pin, false, { current: ref.digest, keep: false }).bundle
        verified.set(key, ref.digest === pin.digest ? builtFrom(bundle) : null)
      } catch (e) {
        error = inPinContext(e, pin)
      }
    }
    const state: PinState = error ? "broken" : ref.digest === undefined ? "unbuilt" : ref.digest === pin.digest ? "current" : "behind"
    pins.push({
      kind: def.kind,
      id: def.id,
      file: def.file,
      brief_id: pin.brief_id,
      digest: pin.digest,
      state,
      ...(state === "behind" ? { current: ref.digest! } : {}),
      ...(error ? { error: info(error) } : {}),
    })
  }
  for (const p of pins) {
    if (p.state === "broken") {
      add({
        code: (p.error!.code as Finding["code"]) ?? "malformed",
        severity: "error",
        message: p.error!.message,
        ...(p.error!.fix ? { fix: p.error!.fix } : {}),
        file: p.file,
        [p.kind]: p.id,
        ...(p.brief_id ? { brief: p.brief_id } : {}),
      })
    } else if (p.state === "behind") {
      add({
        code: "pin_behind",
        severity: "warning",
        message: `${p.kind} ${p.id} (${p.file}) pins ${p.brief_id} @ ${p.digest}, but a newer build exists: ${p.current}`,
        fix: `re-pin: \`opencode-alloy pin ${p.kind === "flow" ? "--flow " : ""}${p.id} ${p.brief_id}\``,
        file: p.file,
        [p.kind]: p.id,
        brief: p.brief_id,
      })
    }
  }

  // ---- flows: coverage, shadowing, ambiguity -----------------------------------------------
  const pinByDef = new Map(pins.map((p) => [`${p.kind}:${p.id}`, p]))
  const reachMemo = new Map<string, Set<string>>()
  const reachOf = (flow: string): Set<string> => {
    let r = reachMemo.get(flow)
    if (!r) reachMemo.set(flow, (r = new Set(flows.has(flow) ? flowCycles(flows.get(flow)!, cycles) : [])))
    return r
  }
  const coveredBy = new Map<string, ScannedPin[]>()
  for (let i = 0; i < pins.length; i++) {
    const p = pins[i]!
    if (p.kind !== "flow") continue
    const reach = [...reachOf(p.id)]
    const covers: string[] = []
    for (const c of reach) {
      const own = pinByDef.get(`cycle:${c}`)
      if (!own) {
        covers.push(c)
        const by = coveredBy.get(c)
        if (by) by.push(p)
        else coveredBy.set(c, [p])
      } else if (own.state !== "broken" && p.state !== "broken" && (own.brief_id !== p.brief_id || own.digest !== p.digest)) {
        add({
          code: "pin_shadowed",
          severity: "warning",
          message: `cycle ${c} (${own.file}) pins ${own.brief_id} @ ${own.digest}, which shadows flow ${p.id}'s pin ${p.brief_id} @ ${p.digest}: the cycle's stages get the cycle's brief, not the flow's`,
          fix: `remove the cycle's \`alloy\` block to use the flow's brief, or pin the same brief into both`,
          file: own.file,
          cycle: c,
          flow: p.id,
          brief: own.brief_id,
        })
      }
    }
    pins[i] = { ...p, covers }
  }
  const covered: Array<{ cycle: string; flow: string }> = []
  for (const [cycle, by] of coveredBy) {
    const distinct = new Set(by.map((p) => `${p.brief_id}@${p.digest}`))
    if (distinct.size > 1) {
      add({
        code: "ambiguous_pin",
        severity: "error",
        message: `cycle ${cycle} has no alloy block of its own and belongs to flows with different pins: ${by.map((p) => p.id).join(", ")}`,
        fix: `pin the cycle itself: \`opencode-alloy pin ${cycle} <brief-id>\``,
        cycle,
      })
    }
    covered.push({ cycle, flow: by[0]!.id })
  }
  covered.sort((a, b) => (a.cycle < b.cycle ? -1 : a.cycle > b.cycle ? 1 : 0))
  const unpinned = cycleIds.filter((c) => !ownPinned.has(c) && !coveredBy.has(c))

  // ---- briefs: recipes and refs, drift, formations -----------------------------------------
  const pinsOf = new Map<string, ScannedPin[]>()
  for (const p of pins) {
    const list = pinsOf.get(p.brief_id)
    if (list) list.push(p)
    else pinsOf.set(p.brief_id, [p])
  }
  const intentDigests = new Map<string, string | AlloyError>()
  const intentDigest = (id: string) => {
    let d = intentDigests.get(id)
    if (d === undefined) {
      try {
        d = sourceDigest(ctx.store.readIntent(id).text)
      } catch (e) {
        d = e instanceof AlloyError ? e : new AlloyError("io_error", String(e))
      }
      intentDigests.set(id, d)
    }
    return d
  }
  const briefs: ScannedBrief[] = []
  const briefIds = storeOk ? [...new Set([...ctx.store.listRecipeIds(), ...ctx.store.listRefIds()])].sort() : []
  const briefPinIds = new Set<string>()
  for (const id of briefIds) {
    briefPinIds.add(id)
    const file = recipeFilePath(id)
    const ref = refOf(id)
    const briefPins = pinsOf.get(id) ?? []
    if (ref.error) {
      add({
        code: ref.error.code === "merge_conflict" ? "merge_conflict" : "ref_broken",
        severity: "error",
        message: ref.error.message,
        ...(ref.error.fix ? { fix: ref.error.fix } : {}),
        ...(ref.error.file ? { file: ref.error.file } : {}),
        brief: id,
      })
    }
    const base = { id, file, ...(ref.digest ? { digest: ref.digest } : {}), pins: briefPins }
    if (!ctx.store.hasRecipe(id)) {
      briefs.push({ ...base, needs_build: false, changed_sources: [], error: { code: "brief_not_found", message: `brief ${id} has a ref but no recipe (${file})` } })
      continue
    }
    let recipe: Recipe
    let recipeText: string
    try {
      const r = ctx.store.readRecipe(id)
      recipe = r.value
      recipeText = r.text
    } catch (e) {
      const err = e instanceof AlloyError ? e : new AlloyError("io_error", String(e))
      if (err.code === "invalid_recipe" || err.code === "malformed") {
        const text = (() => {
          try {
            return ctx.project.readText(file)
          } catch {
            return undefined
          }
        })()
        if (text !== undefined && hasConflictMarkers(text)) {
          add({ code: "merge_conflict", severity: "error", message: `${file} holds git merge conflict markers`, fix: CONFLICT_FIX(file), file, brief: id })
        }
      }
      briefs.push({ ...base, needs_build: false, changed_sources: [], error: errInfo(err) })
      continue
    }
    // drift: compare the sources the current build was made from with the files now
    const changed: string[] = []
    let error: ScannedBrief["error"]
    for (const iid of recipe.intents) {
      const d = intentDigest(iid)
      if (d instanceof AlloyError)
        error ??= errInfo(d.code === "intent_not_found" ? new AlloyError("intent_not_found", `brief ${id} (${file}) names intent ${iid}, which does not exist (${intentFilePath(iid)})`) : d)
    }
    if (ref.digest && !error) {
      let bundle = verified.get(`${id}@${ref.digest}`)
      if (!bundle) {
        try {
          bundle = builtFrom(resolvePin(ctx, { brief_id: id, digest: ref.digest, source: { kind: "explicit", id, file: undefined } }).bundle)
          verified.set(`${id}@${ref.digest}`, bundle)
        } catch (e) {
          const err = e instanceof AlloyError ? e : new AlloyError("io_error", String(e))
          add({
            code: "ref_broken",
            severity: "error",
            message: `brief ${id}'s current build ${ref.digest} does not verify: ${err.message}`,
            fix: `rebuild it: \`opencode-alloy brief build ${id}\``,
            brief: id,
          })
        }
      }
      if (bundle) {
        const built = new Map(bundle.sources.map((s) => [`${s.kind} ${s.id}`, s.digest]))
        if (built.get(`recipe ${id}`) !== sourceDigest(recipeText)) changed.push(`recipe ${id}`)
        for (const iid of recipe.intents) if (built.get(`intent ${iid}`) !== intentDigest(iid)) changed.push(`intent ${iid}`)
        // a composed bundle also records its cycles' edges (Foundry's `targets`), read from foundry/ at build time
        if (bundle.composition) {
          const now = compositionEdges(recipe.formation.cycles, formationTargets(ctx, recipe).targets)
          for (const c of bundle.composition.cycles) {
            if ((now[c.id] ?? []).join(",") !== c.targets.join(",")) changed.push(`edges of cycle ${c.id} (targets ${c.targets.join(", ") || "none"} → ${(now[c.id] ?? []).join(", ") || "none"})`)
          }
        }
      }
    }
    if (changed.length) {
      add({
        code: "source_drift",
        severity: "warning",
        message: `brief ${id}: ${changed.join(", ")} changed since the build ${ref.digest} (${briefPins.length ? `pinned by ${briefPins.map((p) => `${p.kind} ${p.id}`).join(", ")}` : "not pinned"}); the agents still get the old text`,
        fix: `rebuild and re-pin: \`opencode-alloy brief build ${id}\` then \`opencode-alloy pin <cycle> ${id}\``,
        file,
        brief: id,
      })
    }
    briefs.push({ ...base, recipe, needs_build: !error && (ref.digest === undefined || changed.length > 0), changed_sources: changed, ...(error ? { error } : {}) })
    if (foundry) formationFindings(recipe, file, cycles, flows, pinByDef, coveredBy, add)
  }

  // ---- pins outside their brief's formation ------------------------------------------------
  const recipes = new Map(briefs.filter((b) => b.recipe).map((b) => [b.id, b.recipe!]))
  for (const p of pins) {
    if (p.state === "broken") continue
    const r = recipes.get(p.brief_id)
    if (!r) continue
    const f = r.formation
    const inFlow = f.flow !== undefined && flows.has(f.flow) && (p.kind === "flow" ? p.id === f.flow : reachOf(f.flow).has(p.id))
    const named = p.kind === "cycle" ? f.cycles.includes(p.id) : p.id === f.flow
    const unscoped = f.cycles.length === 0 && f.flow === undefined
    if (!named && !inFlow && !unscoped) {
      add({
        code: "pin_outside_formation",
        severity: "warning",
        message: `${p.kind} ${p.id} (${p.file}) pins brief ${p.brief_id}, whose formation (${describeFormation(r)}) does not include it`,
        fix: `add it to the formation in ${recipeFilePath(r.id)} and rebuild, or pin the brief that is meant for it`,
        file: p.file,
        [p.kind]: p.id,
        brief: p.brief_id,
      })
    }
  }
  for (const p of pins) {
    if (storeOk && p.brief_id && p.state !== "broken" && !briefPinIds.has(p.brief_id)) {
      // a pinned object can verify without its recipe (e.g. copied in); the project cannot rebuild it
      add({
        code: "brief_not_found",
        severity: "warning",
        message: `${p.kind} ${p.id} pins brief ${p.brief_id}, which has no recipe or ref here`,
        fix: `restore .alloy/briefs/${p.brief_id}.md, or pin a brief of this project`,
        file: p.file,
        [p.kind]: p.id,
        brief: p.brief_id,
      })
    }
  }

  // ---- the project around the pins ---------------------------------------------------------
  const versionWarning = foundry ? foundryVersionWarning(ctx.project.version()) : undefined
  if (versionWarning) add({ code: "foundry_version", severity: "warning", message: versionWarning, file: "foundry/VERSION" })
  if (foundry) {
    for (const dir of ["foundry/cycles", "foundry/flows"]) {
      for (const n of strayTemps(ctx.project.abs(dir))) {
        add({
          code: "stray_temp",
          severity: "warning",
          message: `${dir}/${n} is a temp file left by an interrupted write; delete it (Foundry's finish refuses untracked foundry/** files)`,
          file: `${dir}/${n}`,
        })
      }
    }
  }
  return { pins, briefs, covered, unpinned, findings }
}

function describeFormation(r: Recipe): string {
  return [r.formation.flow ? `flow ${r.formation.flow}` : "", r.formation.cycles.length ? `cycles ${r.formation.cycles.join(", ")}` : ""].filter(Boolean).join("; ") || "none"
}

/**
 * A formation names cycles and a flow: each must exist (else it dangles) and each named cycle
 * must carry a pin of this brief, its own or through a flow (else its stages run without it).
 */
function formationFindings(
  recipe: Recipe,
  file: string,
  cycles: ReadonlyMap<string, Def>,
  flows: ReadonlyMap<string, Def>,
  pinByDef: ReadonlyMap<string, ScannedPin>,
  coveredBy: ReadonlyMap<string, ScannedPin[]>,
  add: (f: Finding) => void,
): void {
  const id = recipe.id
  if (recipe.formation.flow !== undefined && !flows.has(recipe.formation.flow)) {
    add({
      code: "formation_dangling",
      severity: "warning",
      message: `brief ${id} (${file}) names flow ${recipe.formation.flow} in its formation, but foundry/flows/${recipe.formation.flow}.md does not exist`,
      fix: unknownNameFix(recipe.formation.flow, flows.keys(), { kind: "flow", instead: "remove it from the formation, or restore the flow" }),
      file,
      brief: id,
      flow: recipe.formation.flow,
    })
  }
  for (const cycle of recipe.formation.cycles) {
    if (!cycles.has(cycle)) {
      add({
        code: "formation_dangling",
        severity: "warning",
        message: `brief ${id} (${file}) names cycle ${cycle} in its formation, but foundry/cycles/${cycle}.md does not exist`,
        fix: unknownNameFix(cycle, cycles.keys(), { kind: "cycle", instead: "remove it from the formation and rebuild, or restore the cycle" }),
        file,
        brief: id,
        cycle,
      })
      continue
    }
    const own = pinByDef.get(`cycle:${cycle}`)
    if (own?.state === "broken") continue // reported as that pin's error
    const effective = own ?? coveredBy.get(cycle)?.[0]
    const cycleFile = `foundry/cycles/${cycle}.md`
    if (!effective) {
      add({
        code: "not_pinned",
        severity: "error",
        message: `cycle ${cycle} (${cycleFile}) is in the formation of brief ${id} (${file}) but carries no \`alloy\` pin, so its stages would run without the brief`,
        fix: `opencode-alloy pin ${cycle} ${id} (or remove the cycle from the brief's formation)`,
        file: cycleFile,
        cycle,
        brief: id,
      })
    } else if (effective.brief_id !== id) {
      add({
        code: "pin_other_brief",
        severity: "warning",
        message: `cycle ${cycle} is in the formation of brief ${id} but ${own ? "pins" : `is covered by flow ${effective.id}, which pins`} brief ${effective.brief_id}`,
        fix: `pin brief ${id} into it (\`opencode-alloy pin ${cycle} ${id}\`) or remove it from ${file}`,
        file: cycleFile,
        cycle,
        brief: id,
      })
    }
  }
}
