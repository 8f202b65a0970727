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
import { gitText, isGitRepo } from "./git.js"

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

const lines = (s: string | undefined) =>
  (s ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)

/** Changes of the Foundry config under every pin; `thin` names the pins git could not date. */
export function foundryConfigChanges(ctx: AlloyContext, pins: readonly PinFact[]): { changes: ConfigChange[]; thin: string[] } {
  const changes: ConfigChange[] = []
  const thin: string[] = []
  if (pins.length === 0 || !ctx.project.isFoundryProject()) return { changes, thin }
  if (!isGitRepo(ctx.root)) {
    thin.push(`the project is not a git repository: changes of Foundry config since the pins (${pins.map((p) => `${p.kind} ${p.id}`).join(", ")}) cannot be dated`)
    return { changes, thin }
  }
  for (const p of pins) {
    if (p.state !== "current" && p.state !== "behind") continue
    const file = p.kind === "flow" ? ctx.project.flowRel(p.id) : ctx.project.cycleRel(p.id)
    const hex = p.digest.replace(/^sha256:/, "")
    // the newest commit that added or removed the digest in the pin's file: the one that set the pin
    const pinnedIn = lines(gitText(ctx.root, ["log", "-1", "--format=%H", "-S", hex, "--", file]))[0]
    if (!pinnedIn || !lines(gitText(ctx.root, ["show", `${pinnedIn}:${file}`])).some((l) => l.includes(hex))) {
      thin.push(`${p.kind} ${p.id}: its pin (${p.brief_id} @ ${hex.slice(0, 12)}) is not committed, so changes of Foundry config since it cannot be dated; commit the pin`)
      continue
    }
    const paths = formationConfigPaths(ctx, p)
    const changed = new Set([
      ...lines(gitText(ctx.root, ["diff", "--name-only", pinnedIn, "--", ...paths])),
      ...lines(gitText(ctx.root, ["ls-files", "--others", "--exclude-standard", "--", ...paths])),
    ])
    for (const f of [...changed].sort().slice(0, MAX_FILES_PER_PIN)) {
      // the first commit after the pin that touched it; none: the change is in the work tree only
      const since = lines(gitText(ctx.root, ["log", "--reverse", "--format=%H", `${pinnedIn}..HEAD`, "--", f]))[0]
      changes.push({ pin: { kind: p.kind, id: p.id, brief_id: p.brief_id, digest: p.digest }, pinned_in: pinnedIn, file: f, ...(since ? { changed_in: since } : {}) })
    }
    if (changed.size > MAX_FILES_PER_PIN) thin.push(`${p.kind} ${p.id}: ${changed.size - MAX_FILES_PER_PIN} more changed Foundry config file(s) not listed`)
  }
  return { changes, thin }
}
