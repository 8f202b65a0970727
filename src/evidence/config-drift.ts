/**
 * Foundry config under a pinned formation, read from git: for each pin, the commit that set it to its
 * digest, and every Foundry config file its formation uses that changed after that commit (committed
 * later, or changed in the work tree). The rule that makes findings of them is pure (insights.ts).
 *
 * The files a pinned formation uses: the pin's own cycle or flow file, each covered cycle's file, the
 * artefact types the cycles read and write (`foundry/artefacts/<type>/`: definition, laws and their
 * validators), the project's laws (`foundry/laws/`) and appraisers (`foundry/appraisers/`). Foundry
 * reads all of these into the stages the brief's packs and gates are injected into.
 *
 * A pin that git cannot date (not committed, or no repository) is said in `thin`, never guessed.
 */
import { assertFoundryId, isFoundryId } from "../core/ids.js"
import type { AlloyContext } from "../service/context.js"
import type { ConfigChange, PinFact } from "./insights.js"
import { catFiles, gitText, isGitRepo, logListing, nulSeparated } from "./git.js"
import { pushTo } from "../core/maps.js"

/** Most files reported per pin: a formation rewritten wholesale is one review, not a thousand findings. */
const MAX_FILES_PER_PIN = 50

/** The Foundry config paths a pin's formation uses (files and folders, repository-relative). */
export function formationConfigPaths(ctx: AlloyContext, pin: Pick<PinFact, "kind" | "id" | "cycles">): string[] {
  const paths = new Set<string>(["foundry/laws", "foundry/appraisers"])
  paths.add(pin.kind === "flow" ? ctx.project.flowRel(pin.id) : ctx.project.cycleRel(pin.id))
  for (const c of pin.cycles) {
    if (!isFoundryId(c)) continue
    paths.add(ctx.project.cycleRel(c))
    let data: Record<string, unknown> = {}
    try {
      data = ctx.project.readCycle(c).data
    } catch {
      continue // a cycle that is gone or unreadable: its file's change is still seen through its path
    }
    const types = [
      data["output-type"],
      ...(Array.isArray((data["inputs"] as { artefacts?: unknown } | undefined)?.artefacts) ? ((data["inputs"] as { artefacts: unknown[] }).artefacts as unknown[]) : []),
    ]
    for (const t of types) if (typeof t === "string" && isFoundryId(t)) paths.add(`foundry/artefacts/${assertFoundryId(t, "artefact type")}`)
  }
  return [...paths].sort()
}

/** Is `file` one of `paths`, or inside one of them (a folder)? */
const under = (file: string, paths: readonly string[]) => paths.some((p) => file === p || file.startsWith(`${p}/`))

const ZERO = /^0+$/

/** Changes of a pin file whose blobs are read in one `git cat-file` round. */
const BLOB_WINDOW = 8

/**
 * For each pin file, its changes newest first with the blobs on both sides: one `git log --raw` over
 * every pin file, the history `git log -- <file>` walks for each one.
 */
function pinFileChanges(root: string, files: readonly string[]): Map<string, Array<{ commit: string; before?: string; after?: string }>> {
  const out = new Map<string, Array<{ commit: string; before?: string; after?: string }>>()
  for (const { sha, items } of logListing(root, ["--raw", "--no-abbrev", "--no-renames", "--", ...files])) {
    for (let i = 0; i + 1 < items.length; i += 2) {
      const meta = /^:\d+ \d+ ([0-9a-f]+) ([0-9a-f]+) /.exec(items[i]!)
      if (!meta) continue
      pushTo(out, items[i + 1]!, { commit: sha, ...(ZERO.test(meta[1]!) ? {} : { before: meta[1]! }), ...(ZERO.test(meta[2]!) ? {} : { after: meta[2]! }) })
    }
  }
  return out
}

/**
 * Changes of the Foundry config under every pin; `thin` names the pins git could not date. The git
 * work is batched, so a project with a thousand pins runs a handful of git processes, not thousands:
 * one history of the pin files (and one read of the blobs it names) finds the commit that set each
 * pin — the newest that changed how often the digest occurs in the file, as `git log -S` finds it,
 * where the file then holds the digest — and one diff, one untracked listing and one log per
 * distinct pinning commit find what changed since.
 */
export function foundryConfigChanges(ctx: AlloyContext, pins: readonly PinFact[]): { changes: ConfigChange[]; thin: string[] } {
  const changes: ConfigChange[] = []
  const thin: string[] = []
  if (pins.length === 0 || !ctx.project.isFoundryProject()) return { changes, thin }
  if (!isGitRepo(ctx.root)) {
    thin.push(`the project is not a git repository: changes of Foundry config since the pins (${pins.map((p) => `${p.kind} ${p.id}`).join(", ")}) cannot be dated`)
    return { changes, thin }
  }
  const live = pins.filter((p) => p.state === "current" || p.state === "behind")
  if (live.length === 0) return { changes, thin }
  const fileOf = (p: PinFact) => (p.kind === "flow" ? ctx.project.flowRel(p.id) : ctx.project.cycleRel(p.id))

  // 1. the commit that set each pin
  const history = pinFileChanges(ctx.root, [...new Set(live.map(fileOf))])
  // the blobs are read a window of changes at a time, newest first: most pins were set in one of
  // the last changes of their file, and a long history is never read whole
  const texts = new Map<string, string>()
  const occurrences = (blob: string | undefined, hex: string) => (blob ? (texts.get(blob) ?? "").split(hex).length - 1 : 0)
  const open = live.map((p) => ({ pin: p, hex: p.digest.replace(/^sha256:/, ""), changes: history.get(fileOf(p)) ?? [], at: 0, commit: undefined as string | undefined, done: false }))
  for (let pending = open; pending.length > 0; pending = pending.filter((x) => !x.done)) {
    const wanted = new Set<string>()
    for (const x of pending) for (const c of x.changes.slice(x.at, x.at + BLOB_WINDOW)) for (const b of [c.before, c.after]) if (b && !texts.has(b)) wanted.add(b)
    for (const [id, bytes] of catFiles(ctx.root, [...wanted])) texts.set(id, bytes?.toString("utf8") ?? "")
    for (const x of pending) {
      for (const end = Math.min(x.at + BLOB_WINDOW, x.changes.length); x.at < end && !x.done; x.at++) {
        const c = x.changes[x.at]!
        // the newest change in how often the digest occurs (`git log -S`); it set the pin when the file then holds it
        if (occurrences(c.before, x.hex) !== occurrences(c.after, x.hex)) {
          x.done = true
          if (occurrences(c.after, x.hex) > 0) x.commit = c.commit
        }
      }
      if (x.at >= x.changes.length) x.done = true
    }
  }
  const pinned: Array<{ pin: PinFact; commit: string; paths: string[] }> = []
  for (const x of open) {
    const p = x.pin
    if (!x.commit) {
      thin.push(`${p.kind} ${p.id}: its pin (${p.brief_id} @ ${x.hex.slice(0, 12)}) is not committed, so changes of Foundry config since it cannot be dated; commit the pin`)
      continue
    }
    pinned.push({ pin: p, commit: x.commit, paths: formationConfigPaths(ctx, p) })
  }

  // 2. what changed since, per pinning commit: committed or in the work tree, and untracked files
  const allPaths = [...new Set(pinned.flatMap((x) => x.paths))].sort()
  const untracked = allPaths.length ? nulSeparated(gitText(ctx.root, ["ls-files", "-z", "--others", "--exclude-standard", "--", ...allPaths])) : []
  const byCommit = new Map<string, Array<{ pin: PinFact; commit: string; paths: string[] }>>()
  for (const x of pinned) pushTo(byCommit, x.commit, x)
  for (const [commit, group] of byCommit) {
    const paths = [...new Set(group.flatMap((x) => x.paths))].sort()
    const changedSince = nulSeparated(gitText(ctx.root, ["diff", "-z", "--name-only", commit, "--", ...paths]))
    // the first commit after the pin that touched each file; none: the change is in the work tree only
    const firstAfter = new Map<string, string>()
    for (const { sha, items } of logListing(ctx.root, ["--reverse", "--name-only", `${commit}..HEAD`, "--", ...paths])) {
      for (const f of items) if (!firstAfter.has(f)) firstAfter.set(f, sha)
    }
    for (const { pin: p, paths: own } of group) {
      const changed = [...new Set([...changedSince, ...untracked].filter((f) => under(f, own)))].sort()
      for (const f of changed.slice(0, MAX_FILES_PER_PIN)) {
        const since = firstAfter.get(f)
        changes.push({ pin: { kind: p.kind, id: p.id, brief_id: p.brief_id, digest: p.digest }, pinned_in: commit, file: f, ...(since ? { changed_in: since } : {}) })
      }
      if (changed.length > MAX_FILES_PER_PIN) thin.push(`${p.kind} ${p.id}: ${changed.length - MAX_FILES_PER_PIN} more changed Foundry config file(s) not listed`)
    }
  }
  // in the order the pins were given, as before
  const order = new Map(live.map((p, i) => [`${p.kind}:${p.id}`, i]))
  changes.sort((a, b) => order.get(`${a.pin.kind}:${a.pin.id}`)! - order.get(`${b.pin.kind}:${b.pin.id}`)!)
  return { changes, thin }
}
