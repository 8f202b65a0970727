/**
 * Authoring tools for the agent and the wizard skill (issue #4): write intent records, build a
 * brief into a pinned bundle, pin it into a cycle. Same JSON result style and error codes as the
 * resolver tools. Every write is refused on a Foundry `work/*` or `dry-run/*\/*` branch.
 */
import type { ToolDefinition } from "@opencode-ai/plugin"
import { tool } from "./tool.js"
import { AlloyError } from "../../core/errors.js"
import { INTENT_STATUSES, type Intent } from "../../core/intent.js"
import type { LintWarning } from "../../core/lint.js"
import { contextFor } from "../../service/context.js"
import { createIntent, listIntents, showIntent, updateIntent, type IntentPatch } from "../../service/intents.js"
import { saveBrief } from "../../service/briefs.js"
import { buildBrief } from "../../service/build.js"
import { pinBrief } from "../../service/pin.js"
import { runTool } from "../result.js"

const z = tool.schema

const evidence = z
  .object({
    kind: z.enum(["check", "law", "human", "artefact"]).describe("check: a command that must exit 0; law: appraisers grade it; human: a person signs it off; artefact: a file that must exist"),
    command: z
      .string()
      .optional()
      .describe(
        'kind check: a command in this repository that tests exactly this criterion and exits 0, e.g. "node scripts/validators/word-limit.mjs --max 150 release-notes/*.md"; never a generic "npm test" that does not test it. Run without a shell: split into words; no pipes, &&, redirects or $VARS unless shell is true',
      ),
    shell: z.boolean().optional().describe("kind check: run the command through /bin/sh (only when it needs pipes, &&, redirects or $VARS)"),
    timeout: z.number().int().optional().describe("kind check: seconds the check may run (1-3600; default 300)"),
    law: z.string().optional().describe("kind law: id of an existing Foundry law this criterion matches (optional)"),
    passing: z.string().optional().describe("kind law: what a passing artefact looks like (optional; defaults to the criterion text)"),
    failing: z.string().optional().describe("kind law: what a failing artefact looks like (optional)"),
    who: z.string().optional().describe('kind human: who signs off, e.g. "the product owner" (optional)'),
    path: z.string().optional().describe('kind artefact: path or glob that must exist in the finished work, e.g. "release-notes/*.md"'),
    description: z.string().optional().describe("optional note on how the evidence is gathered"),
  })
  .describe("How the criterion is proven")

const criterion = z.object({
  id: z.string().optional().describe('"AC-<n>"; omit to get the next free id'),
  text: z.string().describe('A checkable statement a reviewer can answer yes or no to, e.g. "The note is 150 words or fewer"'),
  evidence: z
    .union([evidence, z.array(evidence)])
    .optional()
    .describe("One evidence entry, or a list of them"),
})

const textList = (what: string) => z.array(z.string()).optional().describe(what)

const intentFields = {
  title: z.string().optional().describe("One-line title"),
  status: z.enum(INTENT_STATUSES).optional().describe("draft (default) while being agreed, active once the user confirmed it, then satisfied, retired or superseded"),
  goal: z.string().optional().describe("What should be true when the work is done, and for whom"),
  context: z.string().optional().describe("Background the agent needs: who reads or uses the result, where, why now"),
  constraints: textList('Rules the work must respect, one per item ("The note is at most 150 words.")'),
  acceptance_criteria: z.array(criterion).optional().describe("Criteria that prove the intent is satisfied, each with the evidence that proves it"),
  non_goals: textList("Things the work must not try to do"),
  tradeoffs: textList('Decisions already made ("Brevity over completeness: ...")'),
  open_questions: textList("Questions not answered yet (an active intent should have none)"),
  links: textList("URLs or repository paths for reference"),
  superseded_by: z.string().optional().describe("With status superseded: the id of the intent that replaces this one"),
  clarifications: z
    .array(z.object({ question: z.string(), answer: z.string().optional(), priority: z.number().int().optional() }))
    .optional()
    .describe("The clarify loop: at most 5 questions asked (priority 1 first), each with the user's answer once given"),
  body: z.string().optional().describe("Markdown prose after the frontmatter: rationale, examples"),
}

const listPatch = z
  .object({
    constraints: z.array(z.string()).optional(),
    non_goals: z.array(z.string()).optional(),
    tradeoffs: z.array(z.string()).optional(),
    open_questions: z.array(z.string()).optional(),
    links: z.array(z.string()).optional(),
  })
  .optional()

function intentView(i: Intent): Record<string, unknown> {
  return {
    id: i.id,
    title: i.title,
    status: i.status,
    goal: i.goal,
    ...(i.context ? { context: i.context } : {}),
    constraints: i.constraints,
    acceptance_criteria: i.acceptance_criteria.map((c) => ({ id: c.id, ref: `${i.id}#${c.id}`, text: c.text, evidence: c.evidence })),
    non_goals: i.non_goals,
    tradeoffs: i.tradeoffs,
    open_questions: i.open_questions,
    links: i.links,
    ...(i.superseded_by ? { superseded_by: i.superseded_by } : {}),
    ...(i.body ? { body: i.body } : {}),
  }
}

const warningsView = (ws: readonly LintWarning[]) => ws.map((w) => ({ code: w.code, severity: w.severity, ...(w.path ? { path: w.path } : {}), message: w.message, ...(w.fix ? { fix: w.fix } : {}) }))

const BRANCH_NOTE = "Writes are refused on Foundry work/* and dry-run/* branches: make them on the base branch or a config/* branch and commit."

export function authoringTools(): Record<string, ToolDefinition> {
  return {
    alloy_intent_create: tool({
      description: `Create an Alloy intent record (.alloy/intents/<id>.md): goal, context, constraints, acceptance criteria (each with the evidence that proves it), non-goals, tradeoffs, open questions. The whole record is validated first; on any problem nothing is written and every problem is listed (code invalid_intent). Returns the record and lint warnings (vague criteria, criteria without evidence...). Fails with already_exists if the id is taken. ${BRANCH_NOTE}`,
      args: {
        id: z.string().describe('Kebab-case intent id, e.g. "release-note-voice" (never a path)'),
        ...intentFields,
        title: z.string().describe("One-line title"),
        goal: z.string().describe("What should be true when the work is done, and for whom"),
      },
      async execute(args, context) {
        return runTool("alloy_intent_create", () => {
          const r = createIntent(contextFor(context.directory), args as Record<string, unknown>)
          return {
            intent: intentView(r.intent),
            file: r.file,
            source_digest: r.source_digest,
            warnings: warningsView(r.warnings),
            ...(r.initialised.length ? { initialised: r.initialised } : {}),
            next: "build a brief from it with alloy_brief_build (pass `intents` and `cycles` the first time), then pin it with alloy_brief_pin",
          }
        })
      },
    }),

    alloy_intent_update: tool({
      description: `Change an existing intent record with a partial patch: \`set\` replaces fields (null clears context/superseded_by), \`append\`/\`remove\` add or remove list items by exact text, \`criteria\` adds (ids assigned automatically), replaces (by id: text and/or evidence) or removes criteria (ids are never reused). The whole result is validated before anything is written; on any error nothing changes. The author's YAML comments and layout are kept: only the changed values are edited. ${BRANCH_NOTE}`,
      args: {
        id: z.string().describe("Id of the intent to change"),
        set: z
          .object({ ...intentFields, context: z.string().nullable().optional(), superseded_by: z.string().nullable().optional(), clarifications: intentFields.clarifications.nullable() })
          .optional()
          .describe('Fields to replace, e.g. {status: "active"} or {goal: "..."}; lists given here replace the whole list'),
        append: listPatch.describe('Items to add to list fields, e.g. {constraints: ["..."]}'),
        remove: listPatch.describe("Items to remove from list fields, by their exact text"),
        criteria: z
          .object({
            add: z.array(criterion).optional().describe("New criteria"),
            replace: z
              .array(z.object({ id: z.string(), text: z.string().optional(), evidence: z.union([evidence, z.array(evidence)]).optional() }))
              .optional()
              .describe("Criteria to change, by id"),
            remove: z.array(z.string()).optional().describe('Ids of criteria to remove, e.g. ["AC-3"]'),
          })
          .optional()
          .describe("Changes to acceptance criteria: add new ones, replace the text and/or evidence of some by id, remove some by id"),
        expected_digest: z.string().optional().describe("Optional: the source_digest you read; the update is refused if the file changed since"),
      },
      async execute(args, context) {
        return runTool("alloy_intent_update", () => {
          const { id, ...patch } = args
          const r = updateIntent(contextFor(context.directory), id, patch as IntentPatch)
          return {
            intent: intentView(r.intent),
            file: r.file,
            changed: r.changed,
            source_digest: r.source_digest,
            warnings: warningsView(r.warnings),
            ...(r.changed ? { next: "rebuild the briefs that use it (alloy_brief_build) and re-pin (alloy_brief_pin)" } : {}),
          }
        })
      },
    }),

    alloy_intent_list: tool({
      description: "List Alloy intent records (id, title, status, number of criteria, open questions, which briefs use each). Give `id` to get one record in full with its lint warnings.",
      args: {
        id: z.string().optional().describe("Show this intent in full"),
        status: z.enum(INTENT_STATUSES).optional().describe("Only intents with this status"),
      },
      async execute(args, context) {
        return runTool("alloy_intent_list", () => {
          const ctx = contextFor(context.directory)
          if (args.id) {
            const r = showIntent(ctx, args.id)
            return { intent: intentView(r.intent), file: r.file, source_digest: r.source_digest, briefs: r.briefs, warnings: warningsView(r.warnings) }
          }
          const all = listIntents(ctx)
          return { intents: args.status ? all.filter((i) => i.status === args.status) : all }
        })
      },
    }),

    alloy_brief_build: tool({
      description: `Build an Alloy brief into one content-addressed bundle (brief, prompt packs per stage, gate overlay): deterministic, no model calls. Writes .alloy/objects/sha256/<hex>.json and moves .alloy/refs/briefs/<id>. The first time, pass \`intents\` (and \`cycles\` or \`flow\`) to create the recipe .alloy/briefs/<id>.md; later calls may pass them to change it. Returns the digest and lint warnings; \`strict: true\` fails on any warning (code lint_failed) and \`dry_run: true\` writes nothing. ${BRANCH_NOTE}`,
      args: {
        brief_id: z.string().describe("Kebab-case brief id (often the same as the main intent's id)"),
        intents: z.array(z.string()).optional().describe("Intent ids the brief is built from (creates or replaces the recipe's list)"),
        cycles: z.array(z.string()).optional().describe("Foundry cycle ids the brief is for (see foundry/cycles/)"),
        flow: z.string().optional().describe("Foundry flow id the brief is for (see foundry/flows/)"),
        title: z.string().optional().describe("Title of the brief (defaults to the first intent's title)"),
        stages: z.record(z.string(), z.string()).optional().describe('Notes per stage, e.g. {forge: "...", appraise: "...", "forge:draft-release-note": "..."}'),
        notes: z.string().optional().describe("Markdown notes for the whole brief"),
        strict: z.boolean().optional().describe("Fail (and write nothing) when lint warns"),
        dry_run: z.boolean().optional().describe("Compute the digest and warnings; write nothing"),
      },
      async execute(args, context) {
        return runTool("alloy_brief_build", () => {
          const ctx = contextFor(context.directory)
          const recipeFields = ["intents", "cycles", "flow", "title", "stages", "notes"] as const
          let recipe: Record<string, unknown> | undefined
          if (recipeFields.some((k) => args[k] !== undefined)) {
            if (args.dry_run) {
              throw new AlloyError("usage", "dry_run cannot change the recipe", { fix: "call without recipe fields (intents, cycles, flow, title, stages, notes), or without dry_run" })
            }
            const saved = saveBrief(ctx, { id: args.brief_id, ...args }, "upsert")
            recipe = { file: saved.file, created: saved.created, changed: saved.changed }
          }
          const r = buildBrief(ctx, args.brief_id, { strict: args.strict === true, dryRun: args.dry_run === true })
          return {
            brief_id: r.brief_id,
            digest: r.digest,
            previous: r.previous ?? null,
            changed: r.changed,
            dry_run: r.dry_run,
            ...(r.object ? { object: r.object, ref: r.ref } : {}),
            ...(recipe ? { recipe } : {}),
            sources: r.sources,
            warnings: warningsView(r.warnings),
            ...(r.dry_run ? {} : { next: `pin it: alloy_brief_pin({brief_id: "${r.brief_id}", cycle: "<cycle-id>"})` }),
          }
        })
      },
    }),

    alloy_brief_pin: tool({
      description: `Pin a built Alloy brief into a Foundry cycle (or flow): writes \`alloy: {brief_id, digest}\` into the definition's frontmatter, changing nothing else, then reads it back and verifies the object against the digest. Without \`digest\` the brief's current build is pinned; without \`cycle\`/\`flow\` the brief's own formation decides. Commit the cycle file and .alloy/ afterwards. ${BRANCH_NOTE}`,
      args: {
        brief_id: z.string().describe("Id of the built brief"),
        cycle: z.string().optional().describe("Foundry cycle id to pin into (foundry/cycles/<id>.md)"),
        flow: z.string().optional().describe("Foundry flow id to pin into instead; applies to the flow's cycles without a pin of their own"),
        digest: z.string().optional().describe('A specific digest ("sha256:" + 64 hex) to pin; default: the brief\'s current build'),
      },
      async execute(args, context) {
        return runTool("alloy_brief_pin", () => {
          const r = pinBrief(contextFor(context.directory), args)
          return {
            target: r.target,
            brief_id: r.brief_id,
            digest: r.digest,
            previous: r.previous ?? null,
            changed: r.changed,
            verified: r.verified,
            object: r.object,
            ...(r.note ? { note: r.note } : {}),
            next: `commit on the base or a config/* branch: git add ${r.target.file} .alloy && git commit -m "alloy: pin ${r.brief_id}"; then start the flow as usual`,
          }
        })
      },
    }),
  }
}
