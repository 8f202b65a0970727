/**
 * The compatibility check: every pinned bundle against the capability manifest. A problem names the
 * tool, field, agent or feature, and the fix. `ok` only when nothing Alloy relies on is missing or
 * different from the recorded known-good contracts (src/foundry/contracts.ts).
 */
import { gatesFor } from "../core/formation.js"
import type { Capabilities } from "../core/capabilities.js"
import { knownTools, type RecordedTool } from "../foundry/contracts.js"
import { RUN_STAGE_AGENTS, SHAPES, unknownProtocolReason, type KnownGeneration } from "../foundry/generations.js"
import type { BuiltCapabilities } from "./capabilities.js"
import type { AlloyContext } from "./context.js"
import { resolveTarget } from "./resolve.js"
import { verifyAllPins } from "./verify-pins.js"

export type CompatProblemKind = "protocol" | "tool" | "schema" | "agent" | "gate"

export interface CompatProblem {
  readonly kind: CompatProblemKind
  /** the tool, agent, gate kind or feature the problem is about */
  readonly name: string
  readonly message: string
  readonly fix: string
}

export interface CompatReport {
  readonly ok: boolean
  readonly generation: Capabilities["foundry"]["generation"]
  readonly manifest_digest: string
  readonly source: Capabilities["source"]
  readonly bundles: Array<{ brief_id: string; digest: string; gate_kinds: string[] }>
  readonly problems: CompatProblem[]
  readonly notes: string[]
}

const FIX_UPGRADE = "use the Foundry version Alloy's contracts were recorded against, or upgrade Alloy to one that knows this Foundry (`opencode-alloy caps --server <url>` shows what is installed)"

/** How two argument lists differ: `+name` added, `-name` removed, `name: required -> optional`. */
export function fieldDifference(known: readonly string[], now: readonly string[]): string[] {
  const base = (f: string) => f.replace(/\?$/, "")
  const k = new Map(known.map((f) => [base(f), f]))
  const n = new Map(now.map((f) => [base(f), f]))
  const out: string[] = []
  for (const [name, f] of k) {
    const g = n.get(name)
    if (g === undefined) out.push(`-${name}`)
    else if (g !== f) out.push(`${name}: ${f.endsWith("?") ? "optional" : "required"} -> ${g.endsWith("?") ? "optional" : "required"}`)
  }
  for (const name of n.keys()) if (!k.has(name)) out.push(`+${name}`)
  return out
}

function checkTools(generation: KnownGeneration, m: Capabilities, problems: CompatProblem[]): void {
  const relied = new Set([...SHAPES[generation].driverTools, ...SHAPES[generation].stageTools])
  let known: RecordedTool[]
  try {
    known = knownTools(generation).filter((t) => relied.has(t.id))
  } catch {
    known = []
  }
  const have = new Map(m.tools.map((t) => [t.id, t]))
  const knownIds = new Set(known.map((t) => t.id))
  const extra = m.tools.map((t) => t.id).filter((id) => !knownIds.has(id) && relied.size > 0)
  for (const id of relied) {
    const want = known.find((t) => t.id === id)
    const now = have.get(id)
    if (!now) {
      const hint = extra.length ? ` (renamed? Foundry tools not in the contract: ${extra.slice(0, 8).join(", ")}${extra.length > 8 ? `, and ${extra.length - 8} more` : ""})` : ""
      problems.push({ kind: "tool", name: id, message: `tool ${id} is missing${hint}; Alloy relies on it in the ${generation} protocol`, fix: FIX_UPGRADE })
      continue
    }
    if (want && now.schema_digest !== want.schema_digest) {
      const diff = fieldDifference(want.fields, now.fields)
      const what = diff.length ? `fields ${diff.join(", ")}` : "argument types or descriptions (same field names)"
      problems.push({
        kind: "schema",
        name: id,
        message: `tool ${id}'s argument schema differs from the recorded known-good one (${what}; ${want.schema_digest} -> ${now.schema_digest})`,
        fix: FIX_UPGRADE,
      })
    }
  }
}

export function checkCompat(ctx: AlloyContext, built: BuiltCapabilities): CompatReport {
  const m = built.manifest
  const g = m.foundry.generation
  const problems: CompatProblem[] = []
  const notes: string[] = []

  if (g === "unknown") {
    problems.push({ kind: "protocol", name: m.foundry.version ?? "foundry/VERSION", message: unknownProtocolReason(m.foundry.version ?? undefined).split(" Fix: ")[0]!, fix: FIX_UPGRADE })
  } else if (m.source === "server") {
    checkTools(g, m, problems)
    if (g === "run") {
      for (const a of RUN_STAGE_AGENTS) {
        if (!m.agents.includes(a)) {
          problems.push({ kind: "agent", name: a, message: `agent ${a} is missing: Alloy injects the pinned brief into the first message of its stage sessions`, fix: FIX_UPGRADE })
        }
      }
    }
  } else {
    notes.push("tools, schemas and agents were not checked: pass --server <url> of a running OpenCode (`opencode serve`) to check them")
  }

  // every gate kind the pinned bundles use must have a path in this generation
  const bundles: CompatReport["bundles"] = []
  const report = verifyAllPins(ctx)
  const seen = new Set<string>()
  for (const p of report.pins) {
    if (p.status !== "ok" && p.status !== "stale") continue
    if (!p.brief_id || !p.digest || seen.has(`${p.brief_id}@${p.digest}`)) continue
    seen.add(`${p.brief_id}@${p.digest}`)
    let kinds: string[]
    try {
      kinds = [...new Set(gatesFor(resolveTarget(ctx, { brief_id: p.brief_id, digest: p.digest }).bundle, undefined).map((x) => x.kind))].sort()
    } catch {
      continue // verify reports it
    }
    bundles.push({ brief_id: p.brief_id, digest: p.digest, gate_kinds: kinds })
    const stages = new Set(m.stage_kinds)
    const need: Record<string, [string, string]> = {
      law: ["appraise", "law gates need an appraise stage"],
      human: ["human-appraise", "human gates need a human-appraise path"],
      check: ["quench", "check gates need a validator (quench stage) or `opencode-alloy` evidence checks"],
    }
    for (const k of kinds) {
      const n = need[k]
      if (n && g !== "unknown" && !stages.has(n[0])) {
        problems.push({
          kind: "gate",
          name: `${k} (${p.brief_id})`,
          message: `${n[1]}, and this Foundry has no ${n[0]} stage`,
          fix: `remove the ${k} evidence from the brief's intents or use a Foundry with a ${n[0]} stage`,
        })
      }
    }
  }
  if (report.failed > 0) notes.push(`${report.failed} pin(s) do not verify; run \`opencode-alloy verify\``)
  return { ok: problems.length === 0, generation: g, manifest_digest: built.digest, source: m.source, bundles, problems, notes }
}
