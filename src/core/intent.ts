/**
 * Intent records (`.alloy/intents/<id>.md`): what the work is for. YAML frontmatter checked
 * by `IntentSchema` (the single source of truth for the format) plus a Markdown body.
 */
import { z } from "zod"
import { stringify } from "yaml"
import { AlloyError } from "./errors.js"
import { AC_ID_RE, SLUG_MAX, SLUG_RE } from "./ids.js"
import { decodeText, parseMarkdown } from "./frontmatter.js"
import { schemaError } from "./schema-errors.js"

const MAX_TEXT = 8_000
const MAX_ITEMS = 200

export const INTENT_STATUSES = ["draft", "active", "satisfied", "retired", "superseded"] as const
export type IntentStatus = (typeof INTENT_STATUSES)[number]

export const Slug = z
  .string({ error: "expected a kebab-case id (a string)" })
  .max(SLUG_MAX, `at most ${SLUG_MAX} characters`)
  .regex(SLUG_RE, "expected a kebab-case slug such as `checkout-redesign` (never a path)")

/** What the value was, for messages: a YAML mapping usually means unquoted text with ": " in it. */
function found(input: unknown): string {
  if (input === undefined) return "it is missing"
  if (input === null) return "found nothing"
  if (Array.isArray(input)) return "found a list"
  if (typeof input === "object") return 'found a mapping (text containing ": " must be quoted)'
  return `found ${typeof input}`
}

const Text = (what: string) =>
  z.string({ error: (iss) => `expected ${what} as text; ${found(iss.input)}` }).trim().min(1, `${what} must not be empty`).max(MAX_TEXT, `${what} is longer than ${MAX_TEXT} characters`)

const TextList = (what: string) =>
  z.array(Text(what), { error: `expected a list of ${what}s` }).max(MAX_ITEMS, `at most ${MAX_ITEMS} ${what}s`).default([])

/** How a criterion is proven. */
export const EvidenceSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({
      kind: z.literal("check"),
      command: Text("command"),
      description: Text("description").optional(),
    }),
    z.strictObject({
      kind: z.literal("law"),
      /** optional id of an existing Foundry law this criterion corresponds to */
      law: Slug.optional(),
      passing: Text("passing text").optional(),
      failing: Text("failing text").optional(),
    }),
    z.strictObject({
      kind: z.literal("human"),
      who: Text("who").optional(),
      description: Text("description").optional(),
    }),
    z.strictObject({
      kind: z.literal("artefact"),
      path: Text("path"),
      description: Text("description").optional(),
    }),
  ],
  { error: "expected evidence with `kind` one of: check (with `command`), law, human, artefact (with `path`)" },
)
export type Evidence = z.infer<typeof EvidenceSchema>

export const CriterionSchema = z.strictObject({
  id: z.string({ error: "expected an id such as AC-1" }).regex(AC_ID_RE, "expected an id of the form AC-<n>, e.g. AC-1"),
  text: Text("criterion text"),
  evidence: z
    .union([EvidenceSchema, z.array(EvidenceSchema).max(8, "at most 8 evidence entries")], {
      error: "expected an evidence entry or a list of them",
    })
    .optional()
    .transform((e) => (e === undefined ? [] : Array.isArray(e) ? e : [e])),
})
export type Criterion = z.infer<typeof CriterionSchema>

export const IntentSchema = z
  .strictObject({
    id: Slug,
    title: Text("title"),
    status: z.enum(INTENT_STATUSES, { error: `expected one of: ${INTENT_STATUSES.join(", ")}` }),
    goal: Text("goal"),
    context: Text("context").optional(),
    constraints: TextList("constraint"),
    acceptance_criteria: z.array(CriterionSchema, { error: "expected a list of criteria" }).max(MAX_ITEMS).default([]),
    non_goals: TextList("non-goal"),
    tradeoffs: TextList("tradeoff"),
    open_questions: TextList("open question"),
    links: TextList("link"),
    superseded_by: Slug.optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((intent, ctx) => {
    const seen = new Map<string, number>()
    intent.acceptance_criteria.forEach((c, i) => {
      const first = seen.get(c.id)
      if (first !== undefined) {
        ctx.addIssue({ code: "custom", path: ["acceptance_criteria", i, "id"], message: `duplicate criterion id ${c.id} (also at acceptance_criteria[${first}])` })
      } else seen.set(c.id, i)
    })
    if (intent.status === "superseded" && !intent.superseded_by) {
      ctx.addIssue({ code: "custom", path: ["superseded_by"], message: "a superseded intent names the intent that replaces it" })
    }
  })
export type IntentFrontmatter = z.infer<typeof IntentSchema>

export interface Intent extends IntentFrontmatter {
  /** Markdown prose after the frontmatter, trimmed */
  readonly body: string
}

/** Parse and validate an intent file's text. `expectedId` is the file's name. */
export function parseIntent(text: string, file: string, expectedId?: string): Intent {
  const { data, body } = recode(() => parseMarkdown(text, file))
  const r = IntentSchema.safeParse(data)
  if (!r.success) throw schemaError("invalid_intent", file, "intent record", r.error, "fix the fields listed, then run `opencode-alloy intent lint`")
  if (expectedId !== undefined && r.data.id !== expectedId) {
    throw schemaError("invalid_intent", file, "intent record", {
      issues: [{ code: "custom", path: ["id"], message: `is "${r.data.id}" but the file is named ${expectedId}.md` }],
    } as unknown as z.ZodError)
  }
  return { ...r.data, body: body.trim() }
}

export function parseIntentBytes(bytes: Uint8Array, file: string, expectedId?: string): Intent {
  return parseIntent(recode(() => decodeText(bytes, file)), file, expectedId)
}

/** File-level problems (not text, not YAML) of an intent are reported as `invalid_intent`. */
function recode<T>(fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof AlloyError && e.code === "malformed") {
      throw new AlloyError("invalid_intent", e.message, { file: e.file, fix: "fix the file, then run `opencode-alloy intent lint`" })
    }
    throw e
  }
}

/** The file text for an intent record: frontmatter in schema order, then the body. */
export function renderIntentFile(intent: Intent): string {
  const { body, ...fm } = intent
  const ordered: Record<string, unknown> = {}
  for (const k of Object.keys(IntentSchema.shape ?? {})) {
    const v = (fm as Record<string, unknown>)[k]
    if (v === undefined) continue
    if (Array.isArray(v) && v.length === 0 && k !== "acceptance_criteria") continue
    ordered[k] = v
  }
  const yaml = stringify(ordered, { lineWidth: 0 })
  return `---\n${yaml}---\n${body ? `\n${body.trim()}\n` : ""}`
}
