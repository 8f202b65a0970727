/** Pin a brief into a cycle's (or flow's) frontmatter, changing nothing else in the file. */
import { AlloyError } from "../core/errors.js"
import { isDeepStrictEqual } from "node:util"
import { lstatSync, realpathSync } from "node:fs"
import path from "node:path"
import { assertDigest, assertFoundryId, assertSlug } from "../core/ids.js"
import { parseMarkdown, setFrontmatterBlock } from "../core/frontmatter.js"
import { PIN_KEY, readPinBlock } from "../core/pin.js"
import { fileMode, sweepStaleTemps, writeFileAtomic } from "../store/atomic.js"
import type { AlloyContext } from "./context.js"
import { assertNotOnFlowBranch } from "./guard.js"
import { resolvePin } from "./resolve.js"

export interface PinResult {
  readonly target: { kind: "cycle" | "flow"; id: string; file: string }
  readonly brief_id: string
  readonly digest: string
  readonly previous: { brief_id: string; digest: string } | undefined
  readonly changed: boolean
  /** the pin was read back from the file, the way the hooks read it, and its object verified */
  readonly verified: true
  readonly object: string
  /** something the user should know, e.g. the cycle is not in the brief's formation */
  readonly note?: string
}

export interface PinRequest {
  readonly brief_id: unknown
  readonly cycle?: unknown
  readonly flow?: unknown
  /** default: the brief's current build */
  readonly digest?: unknown
}

const given = (v: unknown) => v !== undefined && v !== null && v !== ""

/** Where to pin: the given cycle or flow, else the brief's formation (its single cycle, else its flow). */
function pinTarget(ctx: AlloyContext, briefId: string, req: PinRequest): { kind: "cycle" | "flow"; id: string } {
  if (given(req.cycle) && given(req.flow)) throw new AlloyError("usage", "give either `cycle` or `flow`, not both")
  if (given(req.cycle)) return { kind: "cycle", id: assertFoundryId(req.cycle, "cycle id") }
  if (given(req.flow)) return { kind: "flow", id: assertFoundryId(req.flow, "flow id") }
  const recipe = ctx.store.exists() && ctx.store.hasRecipe(briefId) ? ctx.store.readRecipe(briefId).value : undefined
  const cycles = recipe?.formation.cycles ?? []
  if (cycles.length === 1) return { kind: "cycle", id: cycles[0]! }
  if (recipe?.formation.flow && cycles.length === 0) return { kind: "flow", id: recipe.formation.flow }
  throw new AlloyError("usage", `say where to pin brief ${briefId}: a \`cycle\` or a \`flow\`${cycles.length > 1 ? ` (its formation lists ${cycles.join(", ")})` : ""}`, {
    fix: `e.g. \`opencode-alloy pin <cycle-id> ${briefId}\``,
  })
}

/** A target the brief's own formation does not name: allowed, but said. */
function outsideFormation(ctx: AlloyContext, briefId: string, kind: "cycle" | "flow", id: string): string | undefined {
  const recipe = ctx.store.exists() && ctx.store.hasRecipe(briefId) ? ctx.store.readRecipe(briefId).value : undefined
  if (!recipe) return undefined
  const f = recipe.formation
  if (kind === "cycle" && f.cycles.length > 0 && !f.cycles.includes(id)) return `cycle ${id} is not in brief ${briefId}'s formation (${f.cycles.join(", ")})`
  if (kind === "flow" && f.flow !== undefined && f.flow !== id) return `flow ${id} is not brief ${briefId}'s formation flow (${f.flow})`
  return undefined
}

/**
 * On a Foundry `config/*` branch the pin itself belongs there, but Foundry's config finish
 * refuses anything outside foundry/**, so the object and ref it names must be committed on the
 * base branch: say so, naming the branch the user is on.
 */
function configBranchNote(ctx: AlloyContext): string | undefined {
  const branch = ctx.project.currentBranch()
  if (!branch?.startsWith("config/")) return undefined
  return `you are on Foundry config branch '${branch}': commit only the foundry/ change here (Foundry's config finish refuses other files); the .alloy/ object and ref it names must be committed on the base branch, which you are not on`
}

/**
 * The one pin use case: write the brief's digest into the cycle's (or flow's) frontmatter,
 * changing nothing else, then read it back from the file and verify its object.
 */
export function pinBrief(ctx: AlloyContext, req: PinRequest): PinResult {
  const briefId = assertSlug(req.brief_id, "brief id")
  const { kind, id } = pinTarget(ctx, briefId, req)
  assertNotOnFlowBranch(ctx, `pin ${briefId} into ${kind} ${id}`)
  const def = kind === "flow" ? ctx.project.readFlow(id) : ctx.project.readCycle(id)

  let digest: string
  if (given(req.digest)) digest = assertDigest(req.digest)
  else {
    const current = ctx.store.readRef(briefId)
    if (!current) {
      throw new AlloyError(ctx.store.hasRecipe(briefId) ? "not_pinned" : "brief_not_found", `brief ${briefId} has not been built, so there is no digest to pin`, {
        fix: `build it first: \`opencode-alloy brief build ${briefId}\``,
      })
    }
    digest = current
  }
  // never pin something that does not verify
  resolvePin(ctx, { brief_id: briefId, digest, source: { kind, id, file: def.file } })
  const r = writePin(ctx, kind, id, def, briefId, digest)
  // read it back from the file, the way the hooks will
  const back = kind === "flow" ? ctx.project.readFlow(id) : ctx.project.readCycle(id)
  const pin = readPinBlock(back.data, back.file, { kind, id })
  if (!pin || pin.brief_id !== briefId || pin.digest !== digest) throw new AlloyError("malformed", `${back.file}: the pin did not read back after writing`, { file: back.file })
  const resolved = resolvePin(ctx, { ...pin, source: { kind, id, file: back.file } })
  const note = [outsideFormation(ctx, briefId, kind, id), configBranchNote(ctx)].filter(Boolean).join("; ")
  return { ...r, verified: true, object: resolved.objectFile, ...(note ? { note } : {}) }
}

function writePin(
  ctx: AlloyContext,
  kind: "cycle" | "flow",
  id: string,
  def: { file: string; text: string; data: Record<string, unknown> },
  briefId: string,
  digest: string,
): Pick<PinResult, "target" | "brief_id" | "digest" | "previous" | "changed"> {
  let previous: { brief_id: string; digest: string } | undefined
  try {
    previous = readPinBlock(def.data, def.file)
  } catch {
    previous = undefined // a malformed block is replaced
  }
  if (previous && previous.brief_id === briefId && previous.digest === digest) {
    return { target: { kind, id, file: def.file }, brief_id: briefId, digest, previous, changed: false }
  }
  const next = setFrontmatterBlock(def.text, def.file, PIN_KEY, { brief_id: briefId, digest })
  // the edit must change the pin and nothing else
  const before = { ...def.data }
  const after = { ...parseMarkdown(next, def.file).data }
  const pinned = readPinBlock(after, def.file)
  delete before[PIN_KEY]
  delete after[PIN_KEY]
  if (!pinned || pinned.brief_id !== briefId || pinned.digest !== digest || !isDeepStrictEqual(before, after)) {
    throw new AlloyError("malformed", `${def.file}: could not add the alloy block without changing other keys; nothing was written`, {
      fix: `add it by hand:\nalloy:\n  brief_id: ${briefId}\n  digest: "${digest}"`,
    })
  }
  const abs = writeTarget(ctx, def.file)
  sweepStaleTemps(path.dirname(abs), Date.now(), { forFile: path.basename(abs), olderThanMs: 60_000 })
  writeFileAtomic(abs, next, fileMode(abs), def.file)
  return { target: { kind, id, file: def.file }, brief_id: briefId, digest, previous, changed: true }
}

/**
 * Where the edited definition is written. A cycle or flow file that is a symlink is edited where
 * it points — when that is inside the repository — so the link stays a link; a link that leads
 * out of the repository is refused. (An atomic write onto the link itself would replace the link
 * with a regular file.)
 */
function writeTarget(ctx: AlloyContext, rel: string): string {
  const abs = ctx.project.abs(rel)
  let isLink = false
  try {
    isLink = lstatSync(abs).isSymbolicLink()
  } catch {
    return abs
  }
  if (!isLink) return abs
  let real: string
  let root: string
  try {
    real = realpathSync(abs)
    root = realpathSync(ctx.project.root)
  } catch {
    throw new AlloyError("unsafe_path", `${rel} is a symlink that does not resolve; nothing was written`, { file: rel, fix: `replace ${rel} with the definition file itself, or fix the link` })
  }
  if (!real.startsWith(root + path.sep)) {
    throw new AlloyError("unsafe_path", `${rel} is a symlink to a file outside the repository; Alloy does not write through it, nothing was written`, {
      file: rel,
      fix: `replace ${rel} with the definition file itself (a copy inside the repository), then pin again`,
    })
  }
  return real
}
