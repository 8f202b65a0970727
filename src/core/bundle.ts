/**
 * The bundle object (`alloy.bundle/v1`): Formation Brief + Prompt Packs + Gate Overlay,
 * built together and pinned by one digest. `BundleSchema` is the single source of truth for
 * what an object file may hold; anything else is `malformed`.
 */
import { z } from "zod"
import { DIGEST_RE, SLUG_RE, isStage } from "./ids.js"
import { EvidenceSchema, INTENT_STATUSES } from "./intent.js"

export const BUNDLE_TYPE = "alloy.bundle/v1"

const Slug = z.string().regex(SLUG_RE)
const Digest = z.string().regex(DIGEST_RE)
const Ref = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*#AC-[1-9][0-9]{0,3}$/)
const StageKey = z.string().refine(isStage, "not a stage key")

export const GATE_KINDS = ["law", "check", "human", "artefact"] as const
export type GateKind = (typeof GATE_KINDS)[number]
/** Where a gate is enforced: appraisers, deterministic checks, the human, or the finished diff. */
export const GATE_STAGES = ["appraise", "quench", "human-appraise", "finish"] as const

export const GateSchema = z.strictObject({
  id: z.string().min(1),
  kind: z.enum(GATE_KINDS),
  stage: z.enum(GATE_STAGES),
  criterion: Ref,
  /** the criterion text */
  title: z.string(),
  /** full text of the gate as an agent or person reads it */
  text: z.string(),
  /** law gates: the law id appraisers cite (Foundry tags the feedback `law:<law_id>`) */
  law_id: z.string().optional(),
  command: z.string().optional(),
  path: z.string().optional(),
  who: z.string().optional(),
})
export type Gate = z.infer<typeof GateSchema>

export const BundleCriterionSchema = z.strictObject({
  id: z.string(),
  ref: Ref,
  text: z.string(),
  evidence: z.array(EvidenceSchema),
})

export const BundleIntentSchema = z.strictObject({
  id: Slug,
  title: z.string(),
  status: z.enum(INTENT_STATUSES),
  goal: z.string(),
  context: z.string().optional(),
  constraints: z.array(z.string()),
  acceptance_criteria: z.array(BundleCriterionSchema),
  non_goals: z.array(z.string()),
  tradeoffs: z.array(z.string()),
  open_questions: z.array(z.string()),
  links: z.array(z.string()),
  body: z.string(),
})
export type BundleIntent = z.infer<typeof BundleIntentSchema>

export const FORMATION_TYPE = "alloy.formation/v1"

/** The stages of a cycle an agent or person works in; each gets its own pack per cycle. */
const CycleStage = z.enum(["forge", "quench", "appraise", "human-appraise", "assay"])

/**
 * The formation composition (`alloy.formation/v1`), present only when the recipe scopes its
 * intents or criteria to cycles: per cycle, its edges, the criteria that apply to it, the gates
 * that prove them there and the pack each of its stages gets. Bundles of recipes without
 * `formation.scope` have no composition and keep their bytes and digests.
 */
export const CompositionSchema = z.strictObject({
  $type: z.literal(FORMATION_TYPE),
  cycles: z.array(
    z.strictObject({
      id: Slug,
      /** the formation cycles this cycle feeds (Foundry's `targets`), when known at build time */
      targets: z.array(Slug),
      /** criteria that apply here (`<intent>#AC-<n>`) */
      criteria: z.array(Ref),
      /** ids of the overlay gates that prove them here */
      gates: z.array(z.string()),
      packs: z.record(CycleStage, z.strictObject({ text: z.string() })),
    }),
  ),
  /** criteria with no gate in the formation, built only because the recipe allows it */
  ungated: z.array(Ref),
  allow_ungated: z.boolean(),
})
export type Composition = z.infer<typeof CompositionSchema>

export const BundleSchema = z.strictObject({
  $type: z.literal(BUNDLE_TYPE),
  brief: z.strictObject({
    id: Slug,
    title: z.string(),
    formation: z.strictObject({ flow: Slug.optional(), cycles: z.array(Slug) }),
    notes: z.string(),
    /** the whole Formation Brief rendered as Markdown */
    text: z.string(),
  }),
  intents: z.array(BundleIntentSchema).min(1),
  sources: z.array(z.strictObject({ kind: z.enum(["intent", "recipe"]), id: Slug, digest: Digest })).min(2),
  packs: z.record(StageKey, z.strictObject({ text: z.string() })),
  overlay: z.strictObject({ gates: z.array(GateSchema) }),
  composition: CompositionSchema.optional(),
})
export type Bundle = z.infer<typeof BundleSchema>
