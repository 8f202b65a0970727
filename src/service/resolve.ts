/**
 * Resolving a pin: find it (explicit, or from a cycle's frontmatter), read the object, verify
 * it (fail closed) and say whether the brief has been built again since (`stale`).
 */
import { AlloyError, toAlloyError } from "../core/errors.js"
import { assertDigest, assertFoundryId, assertSlug } from "../core/ids.js"
import type { Bundle } from "../core/bundle.js"
import type { LocatedPin } from "../core/pin.js"
import { verifyObjectBytes } from "../core/verify.js"
import type { AlloyContext } from "./context.js"

export interface ResolveTarget {
  readonly brief_id?: string | undefined
  readonly digest?: string | undefined
  readonly cycle?: string | undefined
}

export interface Resolved {
  readonly pin: LocatedPin
  readonly bundle: Bundle
  readonly objectFile: string
  /** the digest the brief's ref points at now (undefined when it has no ref) */
  readonly current: string | undefined
  readonly stale: boolean
  /** true when no digest was given and the brief's current build was used */
  readonly unpinned: boolean
}

/** Attach where the pin came from (cycle or flow, and its file) to an error, as data. */
export function inPinContext(e: unknown, pin: Pick<LocatedPin, "source"> | undefined): AlloyError {
  const err = toAlloyError(e)
  if (!pin || pin.source.kind === "explicit") return err
  return err.withContext({ [pin.source.kind]: pin.source.id, ...(pin.source.file ? { source_file: pin.source.file } : {}) })
}

/** Find the pin a request names. */
export function locatePin(ctx: AlloyContext, target: ResolveTarget): { pin: LocatedPin; unpinned: boolean } {
  if (target.cycle !== undefined && target.cycle !== null && target.cycle !== "") {
    if (target.brief_id || target.digest) {
      throw new AlloyError("usage", "give either `cycle` or `brief_id` + `digest`, not both")
    }
    const cycle = assertFoundryId(target.cycle, "cycle id")
    const pin = ctx.project.pinForCycleCached(cycle)
    if (!pin) {
      const file = ctx.project.cycleRel(cycle)
      throw new AlloyError("not_pinned", "it has no `alloy` block and no flow pins it", {
        cycle,
        source_file: file,
        fix: `pin a brief into it: \`opencode-alloy pin ${cycle} <brief-id>\``,
      })
    }
    return { pin, unpinned: false }
  }
  if (target.brief_id === undefined || target.brief_id === "") {
    throw new AlloyError("usage", "name a pin: `brief_id` and `digest`, or a `cycle` whose frontmatter carries an `alloy` block")
  }
  const brief_id = assertSlug(target.brief_id, "brief id")
  if (target.digest === undefined || target.digest === "") {
    const current = ctx.store.readRef(brief_id)
    if (!current) {
      throw new AlloyError(ctx.store.hasRecipe(brief_id) ? "not_pinned" : "brief_not_found", `brief ${brief_id} has no build yet`, {
        fix: `build it: \`opencode-alloy brief build ${brief_id}\``,
      })
    }
    return { pin: { brief_id, digest: current, source: { kind: "explicit", id: brief_id, file: undefined } }, unpinned: true }
  }
  const digest = assertDigest(target.digest)
  return { pin: { brief_id, digest, source: { kind: "explicit", id: brief_id, file: undefined } }, unpinned: false }
}

/** Read and verify the object a pin names. Throws AlloyError with a stable code on any failure. */
/**
 * `known.current`: the brief's ref as the caller already read it (a scan over many pins reads each
 * ref once), so it is not read again per pin; `known.keep: false`: do not keep the parsed bundle
 * in the in-process cache (a scan reads each object once).
 */
export function resolvePin(ctx: AlloyContext, pin: LocatedPin, unpinned = false, known?: { current: string | undefined; keep?: boolean }): Resolved {
  try {
    const { store } = ctx
    let current: string | undefined
    if (known) current = known.current
    else {
      try {
        current = store.readRef(pin.brief_id)
      } catch {
        current = undefined // a damaged ref does not stop a pinned digest from resolving
      }
    }
    const file = store.objectFile(pin.digest)
    const bytes = store.readObject(pin.digest)
    if (!bytes) {
      if (!store.exists()) {
        throw new AlloyError("object_missing", `there is no .alloy/ folder, so the object for ${pin.digest} cannot be read`, {
          fix: "commit .alloy/ on the base branch (or check it out), or run `opencode-alloy init` and build the brief",
        })
      }
      if (current === undefined && !store.hasRecipe(pin.brief_id)) {
        throw new AlloyError("brief_not_found", `brief ${pin.brief_id} does not exist: no recipe in .alloy/briefs/, no ref and no object for ${pin.digest}`, {
          fix: `check the brief id, or create the brief (\`opencode-alloy brief new ${pin.brief_id}\`) and build it`,
        })
      }
      throw new AlloyError("object_missing", `the object for ${pin.digest} is missing (${store.rel(file)})`, {
        fix: `restore it from git (\`git checkout -- ${store.rel(file)}\`), or rebuild and re-pin: \`opencode-alloy brief build ${pin.brief_id}\` then \`opencode-alloy pin ${pin.source.kind === "cycle" ? pin.source.id : "<cycle>"} ${pin.brief_id}\``,
      })
    }
    const bundle = verifyObjectBytes(bytes, pin, store.rel(file), { keep: known?.keep })
    return { pin, bundle, objectFile: store.rel(file), current, stale: current !== undefined && current !== pin.digest, unpinned }
  } catch (e) {
    throw inPinContext(e, pin)
  }
}

export function resolveTarget(ctx: AlloyContext, target: ResolveTarget): Resolved {
  const { pin, unpinned } = locatePin(ctx, target)
  return resolvePin(ctx, pin, unpinned)
}
