/**
 * `brief diff <a> <b>`: find and verify the two bundles, then diff them (core/diff.ts). Each side
 * is a digest (`sha256:…`), a brief id (its current build), `<brief-id>@<git-rev>` (the brief's
 * ref at that commit), or a bare git revision such as `HEAD~1` (the other side's brief at that
 * commit).
 */
import { diffBundles, type BundleDiff } from "../core/diff.js"
import { AlloyError } from "../core/errors.js"
import { isDigest, isSlug } from "../core/ids.js"
import { verifyObjectBytes } from "../core/verify.js"
import type { Bundle } from "../core/bundle.js"
import { catFiles, gitText } from "./git.js"

const showFile = (cwd: string, commit: string, file: string): string | undefined =>
  catFiles(cwd, [`${commit}:${file}`])
    .get(`${commit}:${file}`)
    ?.toString("utf8")
import type { AlloyContext } from "../service/context.js"
import { resolvePin } from "../service/resolve.js"

interface Side {
  readonly name: string
  readonly brief?: string
  readonly digest?: string
  readonly rev?: string
}

function parseSide(token: string): Side {
  if (token.startsWith("sha256:")) {
    if (!isDigest(token)) throw new AlloyError("invalid_digest", `${JSON.stringify(String(token).slice(0, 80))} is not a digest ("sha256:" + 64 hex)`)
    return { name: `${token.slice(0, 19)}…`, digest: token }
  }
  const at = token.indexOf("@")
  if (at > 0 && isSlug(token.slice(0, at))) return { name: token, brief: token.slice(0, at), rev: token.slice(at + 1) }
  if (isSlug(token)) return { name: token, brief: token }
  return { name: token, rev: token }
}

function bundleAt(ctx: AlloyContext, side: Side, brief: string | undefined): { bundle: Bundle; digest: string; name: string } {
  if (side.digest) {
    // a digest alone: the object names its own brief
    const bytes = ctx.store.readObject(side.digest)
    if (!bytes) throw new AlloyError("object_missing", `no object ${side.digest} in .alloy/objects/`, { fix: "check the digest, or build the brief that produced it" })
    const id = (JSON.parse(bytes.toString("utf8")) as { brief?: { id?: unknown } }).brief?.id
    const r = resolvePin(ctx, { brief_id: typeof id === "string" ? id : "", digest: side.digest, source: { kind: "explicit", id: String(id), file: undefined } })
    return { bundle: r.bundle, digest: side.digest, name: side.name }
  }
  const id = side.brief ?? brief
  if (!id) throw new AlloyError("usage", `say which brief ${side.name} is for: \`<brief-id>@${side.name}\``)
  if (side.rev === undefined) {
    const digest = ctx.store.readRef(id)
    if (!digest) throw new AlloyError("not_pinned", `brief ${id} has not been built`, { fix: `opencode-alloy brief build ${id}` })
    return { bundle: resolvePin(ctx, { brief_id: id, digest, source: { kind: "explicit", id, file: undefined } }).bundle, digest, name: side.name }
  }
  // a revision is passed to git as one argument; refuse anything that could read as an option
  if (!/^[A-Za-z0-9][A-Za-z0-9._/~^@{}-]{0,199}$/.test(side.rev)) throw new AlloyError("usage", `${JSON.stringify(side.rev.slice(0, 80))} is not a git revision Alloy will pass to git`)
  const commit = gitText(ctx.root, ["rev-parse", "--verify", "--quiet", `${side.rev}^{commit}`])?.trim() || undefined
  if (!commit) throw new AlloyError("usage", `git revision ${side.rev} does not exist here`, { fix: "give a commit, branch or tag (e.g. HEAD~1), in a git repository" })
  const ref = showFile(ctx.root, commit, `.alloy/refs/briefs/${id}`)?.trim()
  if (!ref || !isDigest(ref)) throw new AlloyError("not_pinned", `brief ${id} had no build at ${side.rev}`, { fix: "pick a commit where .alloy/refs/briefs/<id> was committed" })
  // objects are content-addressed and kept; fall back to the commit's copy, verified the same way
  let bundle: Bundle
  if (ctx.store.readObject(ref)) bundle = resolvePin(ctx, { brief_id: id, digest: ref, source: { kind: "explicit", id, file: undefined } }).bundle
  else {
    const text = showFile(ctx.root, commit, `.alloy/objects/sha256/${ref.slice(7)}.json`)
    if (text === undefined) throw new AlloyError("object_missing", `the object for ${ref} (brief ${id} at ${side.rev}) is neither in .alloy/objects/ nor in that commit`)
    bundle = verifyObjectBytes(Buffer.from(text, "utf8"), { brief_id: id, digest: ref }, `${side.rev}:.alloy/objects/sha256/${ref.slice(7)}.json`)
  }
  return { bundle, digest: ref, name: `${id}@${side.rev}` }
}

export function diffBriefs(ctx: AlloyContext, a: string, b: string): BundleDiff & { from_digest: string; to_digest: string } {
  ctx.store.requireInit()
  const sa = parseSide(a)
  const sb = parseSide(b)
  const brief = sa.brief ?? sb.brief
  const x = bundleAt(ctx, sa, brief)
  const y = bundleAt(ctx, sb, brief ?? x.bundle.brief.id)
  return { ...diffBriefsOf(x, y), from_digest: x.digest, to_digest: y.digest }
}

function diffBriefsOf(x: { bundle: Bundle; digest: string; name: string }, y: { bundle: Bundle; digest: string; name: string }): BundleDiff {
  const d = diffBundles(x.bundle, y.bundle, { from: x.name, to: y.name })
  return x.digest === y.digest ? { ...d, same: true } : d
}
