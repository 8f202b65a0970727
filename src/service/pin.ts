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
}

export function pinBrief(ctx: AlloyContext, opts: { cycle?: string; flow?: string; brief_id: string; digest?: string }): PinResult {
  const kind = opts.flow !== undefined ? "flow" : "cycle"
  const id = assertFoundryId(kind === "flow" ? opts.flow : opts.cycle, `${kind} id`)
  const briefId = assertSlug(opts.brief_id, "brief id")
  assertNotOnFlowBranch(ctx, `pin ${briefId} into ${kind} ${id}`)
  const def = kind === "flow" ? ctx.project.readFlow(id) : ctx.project.readCycle(id)

  let digest: string
  if (opts.digest !== undefined) digest = assertDigest(opts.digest)
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
