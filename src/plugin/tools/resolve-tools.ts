/** The resolver tools (ALLOY.md §5): verified brief, stage pack and gate overlay for a pin. */
import type { ToolDefinition } from "@opencode-ai/plugin"
import { tool } from "./tool.js"
import { briefText } from "../../core/build.js"
import { gatesFor, packFor } from "../../core/formation.js"
import { parseStage } from "../../core/ids.js"
import { contextFor } from "../../service/context.js"
import { resolveTarget, type Resolved } from "../../service/resolve.js"
import { runTool } from "../result.js"

const z = tool.schema

export const pinArgs = {
  brief_id: z.string().optional().describe('Id of the Alloy brief (kebab-case, e.g. "release-note-voice"). Give it with `digest`, or give `cycle` instead.'),
  digest: z.string().optional().describe("The pinned digest, \"sha256:\" + 64 hex characters, exactly as in the cycle's `alloy.digest`. Omit it to use the brief's current build (unpinned)."),
  cycle: z
    .string()
    .optional()
    .describe(
      "Foundry cycle id (e.g. \"draft-release-note\", the `Cycle:` line of your prompt). The pin is read from the cycle's `alloy` frontmatter block, or its flow's. Use instead of brief_id/digest.",
    ),
}

export function pinInfo(r: Resolved): Record<string, unknown> {
  return {
    brief_id: r.pin.brief_id,
    digest: r.pin.digest,
    verified: true,
    stale: r.stale,
    ...(r.stale && r.current ? { current_digest: r.current, stale_note: `a newer build of ${r.pin.brief_id} exists (${r.current}); this result is what the pin names` } : {}),
    ...(r.unpinned ? { unpinned: true } : {}),
    pinned_by: r.pin.source.kind === "explicit" ? { kind: "explicit" } : { kind: r.pin.source.kind, id: r.pin.source.id, file: r.pin.source.file },
    object: r.objectFile,
  }
}

export function resolveTools(): Record<string, ToolDefinition> {
  return {
    alloy_brief_resolve: tool({
      description:
        "Get the verified Alloy Formation Brief for a Foundry cycle: the goal, constraints, acceptance criteria (with the evidence that proves each), non-goals and tradeoffs the work must honour. The content is checked against its pinned sha256 digest first; if it does not verify you get an error code instead (fail closed). Reports `stale: true` when a newer build exists.",
      args: pinArgs,
      async execute(args, context) {
        return runTool("alloy_brief_resolve", () => {
          const r = resolveTarget(contextFor(context.directory), args)
          const b = r.bundle
          return {
            ...pinInfo(r),
            brief: { id: b.brief.id, title: b.brief.title, formation: b.brief.formation },
            text: briefText(b),
            intents: b.intents.map((i) => ({
              id: i.id,
              title: i.title,
              status: i.status,
              goal: i.goal,
              constraints: i.constraints,
              non_goals: i.non_goals,
              tradeoffs: i.tradeoffs,
              open_questions: i.open_questions,
              acceptance_criteria: i.acceptance_criteria.map((c) => ({ ref: c.ref, text: c.text, evidence: c.evidence })),
            })),
            stages: Object.keys(b.packs).sort(),
            gates: b.overlay.gates.length,
          }
        })
      },
    }),
    alloy_prompt_pack_resolve: tool({
      description:
        "Get the verified Alloy Prompt Pack for one Foundry stage: the text that stage should know (forge: what to build and how it is judged; appraise: extra laws; human-appraise: the sign-off checklist; quench: deterministic checks). Verified against the pinned digest before it is returned.",
      args: {
        ...pinArgs,
        stage: z
          .string()
          .describe(
            'Foundry stage: a base ("forge", "quench", "appraise", "human-appraise", "assay") or Foundry\'s "<base>:<alias>" form, e.g. "forge:draft-release-note" (the `Stage:` line of your prompt).',
          ),
      },
      async execute(args, context) {
        return runTool("alloy_prompt_pack_resolve", () => {
          const stage = parseStage(args.stage)
          const r = resolveTarget(contextFor(context.directory), args)
          const pack = packFor(r.bundle, r.pin.source.kind === "cycle" ? r.pin.source.id : undefined, stage.raw)
          return { ...pinInfo(r), stage: stage.raw, pack: pack.key, text: pack.text }
        })
      },
    }),
    alloy_gate_overlay_resolve: tool({
      description:
        "Get the verified Alloy Gate Overlay: the extra gates a brief adds on top of the cycle's own (appraisal laws, deterministic checks, human sign-offs, required artefacts), each with its id, kind, text or command, and the acceptance criterion (`<intent>#AC-n`) it proves. Optionally only those for one stage.",
      args: {
        ...pinArgs,
        stage: z.string().optional().describe('Only the gates for this stage ("appraise", "quench", "human-appraise", or "<base>:<alias>"). Omit for all gates.'),
      },
      async execute(args, context) {
        return runTool("alloy_gate_overlay_resolve", () => {
          const stage = args.stage ? parseStage(args.stage) : undefined
          const r = resolveTarget(contextFor(context.directory), args)
          return { ...pinInfo(r), ...(stage ? { stage: stage.raw } : {}), gates: gatesFor(r.bundle, r.pin.source.kind === "cycle" ? r.pin.source.id : undefined, stage?.raw) }
        })
      },
    }),
  }
}
