/**
 * Intent records (`.alloy/intents/<id>.md`): what the work is for. YAML frontmatter checked
 * by `IntentSchema` (the single source of truth for the format) plus a Markdown body.
 *
 * Validation reports every problem at once, each naming the file, the field (`acceptance_criteria[1].evidence[0].command`)
 * and what is expected there, so one round of edits fixes a record.
 */
import { INTENT_STATUSES } from "./intent-status.js"
import { z } from "zod"
import type { Document, YAMLMap, YAMLSeq } from "yaml"
import { isDeepStrictEqual } from "node:util"
import { yamlLib } from "./yaml-lib.js"
import { AlloyError } from "./errors.js"
import { AC_ID_RE, SLUG_MAX, SLUG_RE } from "./ids.js"
import { suggest } from "./nearest.js"
import { decodeText, parseMarkdown, parseYaml, splitFrontmatter } from "./frontmatter.js"
import { schemaError, tooManyValues } from "./schema-errors.js"
import { assertSafeText } from "./prompt-safety.js"

/** Longest text one field may hold (characters). */
export const MAX_TEXT = 8_000
/** Most entries one list field may hold. */
export const MAX_ITEMS = 200
/** Longest `timeout:` a check may ask for (one hour). */
export const MAX_CHECK_TIMEOUT_SECONDS = 3600
/** Most evidence entries one criterion may hold. */
export const MAX_EVIDENCE = 8

export { INTENT_STATUSES, type IntentStatus } from "./intent-status.js"

export const EVIDENCE_KINDS = ["check", "law", "human", "artefact"] as const
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number]

/** What the value was, for messages: a YAML mapping usually means unquoted text with ": " in it. */
export function describeValue(input: unknown): string {
  if (input === undefined) return "it is missing"
  if (input === null) return "found nothing (an empty value)"
  if (Array.isArray(input)) return "found a list"
  if (typeof input === "object") return 'found a mapping (text containing ": " must be quoted)'
  if (typeof input === "string") return `found ${JSON.stringify(input.length > 40 ? `${input.slice(0, 37)}...` : input)}`
  return `found ${typeof input} ${String(input)}`
}

// Checks are added with one `.check(...)` each, not a chain of `.trim().min().max()`: every link of
// a chain builds a whole new schema object (about 0.1 ms each when a command starts), and the
// schemas here are built on every run of every command that reads an intent. Same checks, same order.
export const Slug = z.string({ error: (iss) => `expected a kebab-case id (text); ${describeValue(iss.input)}` }).check(
  z.maxLength(SLUG_MAX, { error: (iss) => `expected at most ${SLUG_MAX} characters; found ${String(iss.input).length}` }),
  z.regex(SLUG_RE, {
    error: (iss) => `expected a kebab-case slug such as \`checkout-redesign\` (lowercase letters and digits in dash-separated words, never a path); ${describeValue(iss.input)}`,
  }),
)

const Text = (what: string) =>
  z
    .string({ error: (iss) => `expected ${what} as text; ${describeValue(iss.input)}` })
    .check(
      z.trim(),
      z.minLength(1, `${what} must not be empty`),
      z.maxLength(MAX_TEXT, `${what} is longer than ${MAX_TEXT} characters; shorten it, move the detail into the Markdown body, or split the intent`),
    )

const TextList = (what: string) =>
  z
    .array(Text(what), { error: (iss) => `expected a list of ${what}s (one per line, each starting with "- "); ${describeValue(iss.input)}` })
    .check(z.maxLength(MAX_ITEMS, `at most ${MAX_ITEMS} ${what}s; split the intent into smaller intents (one brief can carry several)`))
    .default([])

/** Keys of a strict mapping, for "unknown field" messages with a did-you-mean. */
function unknownKeys(where: string, allowed: readonly string[]) {
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "")
  return (iss: { code?: string; keys?: string[]; input?: unknown }) => {
    if (iss.code === "unrecognized_keys" && iss.keys) {
      const hints = iss.keys.map((k) => {
        // the same field spelled another way (`acceptanceCriteria`, `constraint`), else a slip (`acceptence_criteria`)
        const near = allowed.find((a) => squash(a) === squash(k) || squash(a) === squash(k).replace(/s$/, "") || squash(a) + "s" === squash(k)) ?? suggest(k, allowed)
        return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`
      })
      return `unknown field${iss.keys.length === 1 ? "" : "s"} ${hints.join(", ")} in ${where}; allowed: ${allowed.join(", ")}`
    }
    if (iss.code === "invalid_type") return `expected ${where} as a mapping of fields; ${describeValue(iss.input)}`
    return undefined
  }
}

const EVIDENCE_SHAPES = {
  check: {
    kind: z.literal("check"),
    command: Text("command"),
    description: Text("description").optional(),
    /** run the command through `/bin/sh -c` (pipes, `&&`, `$VAR`); without it the command is split into words and run directly */
    shell: z.boolean({ error: (iss) => `expected shell as true or false; ${describeValue(iss.input)}` }).optional(),
    /** seconds `opencode-alloy check` lets the command run before stopping it (a failed run) */
    timeout: z
      .number({ error: (iss) => `expected timeout as a number of seconds; ${describeValue(iss.input)}` })
      .check(z.int("timeout is a whole number of seconds"), z.gte(1, "timeout is at least 1 second"), z.lte(MAX_CHECK_TIMEOUT_SECONDS, `timeout is at most ${MAX_CHECK_TIMEOUT_SECONDS} seconds`))
      .optional(),
  },
  law: {
    kind: z.literal("law"),
    /** optional id of an existing Foundry law this criterion corresponds to */
    law: Slug.optional(),
    passing: Text("passing text").optional(),
    failing: Text("failing text").optional(),
  },
  human: { kind: z.literal("human"), who: Text("who").optional(), description: Text("description").optional() },
  artefact: { kind: z.literal("artefact"), path: Text("path"), description: Text("description").optional() },
} as const

const evidenceObject = <K extends EvidenceKind>(k: K) => z.strictObject(EVIDENCE_SHAPES[k], { error: unknownKeys(`${k} evidence`, Object.keys(EVIDENCE_SHAPES[k])) })

/** How a criterion is proven: a deterministic check, an appraisal law, a human sign-off, or an artefact that must exist. */
export const EvidenceSchema = z.discriminatedUnion("kind", [evidenceObject("check"), evidenceObject("law"), evidenceObject("human"), evidenceObject("artefact")], {
  error: (iss) =>
    iss.code === "invalid_union" || iss.code === "invalid_value" || (iss as { note?: string }).note
      ? `expected evidence with \`kind\` one of: check (with \`command\`), law (optional \`law\`, \`passing\`, \`failing\`), human (optional \`who\`), artefact (with \`path\`); ${describeValue((iss.input as { kind?: unknown } | undefined)?.kind ?? iss.input)}`
      : `expected an evidence mapping such as {kind: law} or {kind: check, command: "node scripts/check-links.mjs"}; ${describeValue(iss.input)}`,
})
export type Evidence = z.infer<typeof EvidenceSchema>

/** `evidence:` holds one entry or a list of them; both read as a list. */
const EvidenceList = z.preprocess(
  (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]),
  z.array(EvidenceSchema).check(z.maxLength(MAX_EVIDENCE, `at most ${MAX_EVIDENCE} evidence entries per criterion; split the criterion into several criteria`)),
)

export const CRITERION_FIELDS = ["id", "text", "evidence"] as const

export const CriterionSchema = z.strictObject(
  {
    id: z
      .string({ error: (iss) => `expected an id such as AC-1; ${describeValue(iss.input)}` })
      .check(z.regex(AC_ID_RE, { error: (iss) => `expected an id of the form AC-<n> (AC-1, AC-2, ...); ${describeValue(iss.input)}` })),
    text: Text("criterion text"),
    evidence: EvidenceList,
  },
  { error: unknownKeys("an acceptance criterion", CRITERION_FIELDS) },
)
export type Criterion = z.infer<typeof CriterionSchema>

export const INTENT_FIELDS = [
  "id",
  "title",
  "status",
  "goal",
  "context",
  "constraints",
  "acceptance_criteria",
  "non_goals",
  "tradeoffs",
  "open_questions",
  "links",
  "superseded_by",
  "clarifications",
  "metadata",
] as const

/** Most clarification questions one intent records: the clarify loop asks the few that matter most. */
export const MAX_CLARIFICATIONS = 5

export const CLARIFICATION_FIELDS = ["question", "answer", "priority"] as const

/**
 * One question of the clarify loop and its answer, as recorded in the intent. `priority` 1 is
 * asked first. An entry without an answer is still open (lint says so).
 */
export const ClarificationSchema = z.strictObject(
  {
    question: Text("question"),
    answer: Text("answer").optional(),
    priority: z
      .number({ error: (iss) => `expected a priority from 1 (most important) to ${MAX_CLARIFICATIONS}; ${describeValue(iss.input)}` })
      .check(z.int(), z.gte(1), z.lte(MAX_CLARIFICATIONS))
      .optional(),
  },
  { error: unknownKeys("a clarification", CLARIFICATION_FIELDS) },
)
export type Clarification = z.infer<typeof ClarificationSchema>

const IntentShape = z.strictObject(
  {
    id: Slug,
    title: Text("title"),
    status: z.enum(INTENT_STATUSES, { error: (iss) => `expected one of: ${INTENT_STATUSES.join(", ")}; ${describeValue(iss.input)}` }),
    goal: Text("goal"),
    context: Text("context").optional(),
    constraints: TextList("constraint"),
    acceptance_criteria: z
      .array(CriterionSchema, { error: (iss) => `expected a list of criteria, each with id, text and evidence; ${describeValue(iss.input)}` })
      .check(z.maxLength(MAX_ITEMS, `at most ${MAX_ITEMS} criteria; split the intent into smaller intents (one brief can carry several)`))
      .default([]),
    non_goals: TextList("non-goal"),
    tradeoffs: TextList("tradeoff"),
    open_questions: TextList("open question"),
    links: TextList("link"),
    superseded_by: Slug.optional(),
    /** the clarify loop's questions and answers (absent in older records, which keep their bytes and digests) */
    clarifications: z
      .array(ClarificationSchema, { error: (iss) => `expected a list of {question, answer, priority}; ${describeValue(iss.input)}` })
      .check(z.maxLength(MAX_CLARIFICATIONS, `at most ${MAX_CLARIFICATIONS} clarifications: ask the most important questions first and fold their answers into constraints and criteria`))
      .optional(),
    metadata: z.record(z.string(), z.unknown(), { error: (iss) => `expected metadata as a mapping; ${describeValue(iss.input)}` }).optional(),
  },
  { error: unknownKeys("the intent record", INTENT_FIELDS) },
)

/**
 * Checks that span fields: unique criterion ids, a superseded intent names its successor.
 * Works on raw (possibly invalid) input too, so these problems are reported together with
 * type errors instead of after them.
 */
export function crossFieldIssues(raw: unknown): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = []
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return out
  const r = raw as Record<string, unknown>
  if (Array.isArray(r["acceptance_criteria"])) {
    const seen = new Map<string, number>()
    r["acceptance_criteria"].forEach((c, i) => {
      const id = c && typeof c === "object" ? (c as Record<string, unknown>)["id"] : undefined
      if (typeof id !== "string") return
      const first = seen.get(id)
      if (first !== undefined) out.push({ path: ["acceptance_criteria", i, "id"], message: `duplicate criterion id ${id} (also at acceptance_criteria[${first}]); ids are unique within an intent` })
      else seen.set(id, i)
    })
  }
  if (r["status"] === "superseded" && (r["superseded_by"] === undefined || r["superseded_by"] === null)) {
    out.push({ path: ["superseded_by"], message: "a superseded intent names the intent that replaces it (superseded_by: <intent-id>)" })
  }
  if (typeof r["id"] === "string" && r["superseded_by"] === r["id"]) {
    out.push({ path: ["superseded_by"], message: "an intent cannot be superseded by itself" })
  }
  return out
}

export const IntentSchema = IntentShape.superRefine((intent, ctx) => {
  for (const i of crossFieldIssues(intent)) ctx.addIssue({ code: "custom", path: i.path, message: i.message })
})
export type IntentFrontmatter = z.infer<typeof IntentSchema>

export interface Intent extends IntentFrontmatter {
  /** Markdown prose after the frontmatter, trimmed */
  readonly body: string
}

/** Longest intent body accepted from tools (files are bounded by their byte size). */
export const MAX_BODY = 100_000

const INTENT_FIX = "fix the fields listed, then run `opencode-alloy intent lint`"

/**
 * Validate frontmatter data (parsed YAML or tool input) as an intent record: every problem
 * at once as one `invalid_intent` error naming `file` and each field.
 */
export function validateIntent(data: unknown, body: string, file: string, expectedId?: string): Intent {
  // a record too large for any valid one is refused before zod and the cross-field checks read it
  const tooMany = tooManyValues(data, { split: "split the intent into smaller intents (one brief can carry several)" })
  if (tooMany) throw schemaError("invalid_intent", file, "intent record", tooMany, INTENT_FIX)
  const r = IntentSchema.safeParse(data)
  const issues: Array<{ path: PropertyKey[]; message: string }> = r.success ? [] : r.error.issues.map((i) => ({ path: [...i.path], message: i.message }))
  if (!r.success) {
    const known = new Set(issues.map((i) => `${i.path.join(".")}|${i.message}`))
    for (const i of crossFieldIssues(data)) if (!known.has(`${i.path.join(".")}|${i.message}`)) issues.push(i)
  }
  const id = data && typeof data === "object" ? (data as Record<string, unknown>)["id"] : undefined
  if (expectedId !== undefined && typeof id === "string" && id !== expectedId) {
    issues.push({ path: ["id"], message: `is "${id.slice(0, 80)}" but the file is named ${expectedId}.md; the id and the file name must match` })
  }
  if (body.length > MAX_BODY)
    issues.push({ path: ["(body)"], message: `the Markdown body is ${body.length} characters, longer than ${MAX_BODY}; move reference material into a linked file (links:) or split the intent` })
  if (issues.length || !r.success) {
    throw schemaError("invalid_intent", file, "intent record", { issues } as unknown as z.ZodError, INTENT_FIX)
  }
  // a valid record whose text could steer Foundry's agents is refused with its own code (`metadata` never reaches a prompt)
  assertSafeText("intent record", file, data as Record<string, unknown>, body, ["metadata"])
  return { ...r.data, body: body.trim() }
}

/** Split an intent file into frontmatter data and body, without validating the data (file and YAML problems are `invalid_intent`). */
export function readIntentSource(text: string, file: string): { data: Record<string, unknown>; body: string } {
  const { data, body } = recode(() => parseMarkdown(text, file), text)
  return { data, body }
}

/** Parse and validate an intent file's text. `expectedId` is the file's name. */
export function parseIntent(text: string, file: string, expectedId?: string): Intent {
  const { data, body } = recode(() => parseMarkdown(text, file), text)
  return validateIntent(data, body, file, expectedId)
}

export function parseIntentBytes(bytes: Uint8Array, file: string, expectedId?: string): Intent {
  return parseIntent(
    recode(() => decodeText(bytes, file)),
    file,
    expectedId,
  )
}

/**
 * File-level problems (not text, not YAML) of an intent are reported as `invalid_intent`. The
 * most common YAML mistake, unquoted text containing ": ", gets the offending line and the fix.
 */
function recode<T>(fn: () => T, text?: string): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof AlloyError && e.code === "malformed") {
      let message = e.message
      const line = /at line (\d+)/.exec(message)?.[1]
      if (text !== undefined && line && /[Nn]ested mappings|[Ii]mplicit (map )?keys|compact mapping/.test(message)) {
        const src = text.replace(/\r\n?/g, "\n").split("\n")[Number(line) - 1]
        const m = src ? /^(\s*-?\s*)([A-Za-z_][\w-]*):\s+(.+)$/.exec(src) : null
        if (m) {
          message += `; line ${line} is \`${src!.trim().slice(0, 120)}\`: the value of ${m[2]} contains ": ", so it must be quoted: ${m[2]}: ${JSON.stringify(m[3]!.trim().slice(0, 100))}`
        }
      }
      throw new AlloyError("invalid_intent", message, { ...(e.file ? { file: e.file } : {}), fix: "fix the file, then run `opencode-alloy intent lint`" })
    }
    throw e
  }
}

/** The next free criterion id of an intent (`AC-<max+1>`): ids are never reused after a removal. */
export function nextCriterionId(criteria: ReadonlyArray<{ id: string }>): string {
  let max = 0
  for (const c of criteria) {
    const m = /^AC-(\d+)$/.exec(c.id)
    if (m) max = Math.max(max, Number(m[1]))
  }
  return `AC-${max + 1}`
}

/** The file text for an intent record: frontmatter in schema order, then the body. */
export function renderIntentFile(intent: Intent): string {
  const { body, ...fm } = intent
  const ordered: Record<string, unknown> = {}
  for (const k of INTENT_FIELDS) {
    const v = (fm as Record<string, unknown>)[k]
    if (v === undefined) continue
    if (Array.isArray(v) && v.length === 0 && k !== "acceptance_criteria") continue
    if (k === "acceptance_criteria") {
      // one evidence entry is written as a mapping, several as a list (both read back the same)
      ordered[k] = (v as Criterion[]).map((c) => ({ id: c.id, text: c.text, ...(c.evidence.length === 0 ? {} : { evidence: c.evidence.length === 1 ? c.evidence[0] : c.evidence }) }))
      continue
    }
    ordered[k] = v
  }
  const yaml = yamlLib().stringify(ordered, { lineWidth: 0 })
  return `---\n${yaml}---\n${body ? `\n${body.trim()}\n` : ""}`
}

/**
 * A starting point for a new intent record: valid YAML (status `draft`), every field present
 * with a comment saying what belongs there, and `TODO` placeholders (which lint reports) where
 * the author has not given a value.
 */
export function intentTemplate(id: string, opts: { title?: string; goal?: string; status?: string } = {}): string {
  const q = (s: string) => JSON.stringify(s.replace(/\r\n?/g, "\n"))
  return `---
id: ${id}
title: ${q(opts.title ?? "TODO: one line saying what this intent is about")}
# draft while it is being agreed, active once agreed; later satisfied, retired or superseded
status: ${(INTENT_STATUSES as readonly string[]).includes(opts.status ?? "draft") ? (opts.status ?? "draft") : q(opts.status ?? "")}
# What should be true when the work is done, and for whom.
goal: ${q(opts.goal ?? "TODO: what should be true when the work is done, and for whom")}
# Background an agent needs: who reads or uses the result, where, and why now.
context: ${q("TODO: who uses the result, where, and why now")}
# Rules the work must respect, one per line. Quote text that contains ": ".
constraints:
  - ${q("TODO: a rule the work must respect, e.g. The note is at most 150 words.")}
# How we will know it is done: statements a reviewer can answer yes or no to, best as EARS
# ("WHEN <trigger> THE SYSTEM SHALL <response>", "IF <condition> THEN THE SYSTEM SHALL ...")
# or "Given ..., when ..., then ...", each with the evidence that proves it:
#   check     a command in this repository that tests exactly this criterion and must exit 0
#                                            evidence: {kind: check, command: "node scripts/check-x.mjs"}
#             (run without a shell; shell: true for pipes and &&; timeout: seconds)
#   law       appraisers grade it            evidence: {kind: law, passing: "...", failing: "..."}
#   human     a person signs it off          evidence: {kind: human, who: "the product owner"}
#   artefact  a file that must exist         evidence: {kind: artefact, path: "docs/*.md"}
acceptance_criteria:
  - id: AC-1
    text: ${q("TODO: a statement a reviewer can answer yes or no to")}
    evidence:
      kind: law
# Things the work must not try to do.
non_goals: []
# Decisions already made, e.g. "Brevity over completeness: ...".
tradeoffs: []
# Questions not answered yet (an active intent should have none). A marker
# [NEEDS CLARIFICATION: <question>] in any field is one too.
open_questions: []
# URLs or repository paths worth reading.
links: []
---

Why this matters, examples, anything else worth knowing (Markdown).
`
}

/** A criterion as the file holds it: one evidence entry as a mapping, several as a list. */
function criterionData(c: Criterion): Record<string, unknown> {
  return { id: c.id, text: c.text, ...(c.evidence.length === 0 ? {} : { evidence: c.evidence.length === 1 ? c.evidence[0] : c.evidence }) }
}

const fieldData = (intent: Intent, k: string): unknown => {
  const v = (intent as unknown as Record<string, unknown>)[k]
  if (k === "acceptance_criteria") return (v as Criterion[]).map(criterionData)
  return v
}

/** Edit a list in place: items that stay keep their nodes (and comments), in the new order; new items are added. */
function editTextList(doc: Document, seq: YAMLSeq, from: readonly unknown[], to: readonly unknown[]): boolean {
  if (from.length !== seq.items.length) return false
  const pool = seq.items.map((node, i) => ({ node, value: from[i], used: false }))
  seq.items = to.map((x) => {
    const hit = pool.find((p) => !p.used && isDeepStrictEqual(p.value, x))
    if (!hit) return doc.createNode(x)
    hit.used = true
    return hit.node
  }) as YAMLSeq["items"]
  return true
}

/** Edit the criteria by id: unchanged ones keep their nodes (and comments); changed fields are set in place. */
function editCriteria(doc: Document, seq: YAMLSeq, from: readonly Record<string, unknown>[], to: readonly Record<string, unknown>[]): void {
  const byId = new Map(seq.items.map((n, i) => [yamlLib().isMap(n) ? String((n as YAMLMap).get("id")) : `#${i}`, n]))
  const items = to.map((c) => {
    const node = byId.get(String(c["id"]))
    const old = from.find((o) => o["id"] === c["id"])
    if (!node || !yamlLib().isMap(node) || !old) return doc.createNode(c)
    for (const k of ["text", "evidence"]) {
      if (isDeepStrictEqual(old[k], c[k])) continue
      if (c[k] === undefined) node.delete(k)
      else node.set(k, k === "text" ? c[k] : doc.createNode(c[k]))
    }
    return node
  })
  seq.items = items as YAMLSeq["items"]
}

/**
 * The intent file text for an update, edited on the author's own text: only the fields whose
 * value changed are touched (scalars in place, list items added or dropped one by one, criteria
 * by id), so YAML comments, blank lines and quoting elsewhere stay as they were; the body is
 * replaced only when it changed. Returns undefined when the result would not read back as
 * exactly `next` (the caller then writes Alloy's own layout).
 */
export function updateIntentText(text: string, file: string, prev: Intent, next: Intent): string | undefined {
  const split = splitFrontmatter(text)
  if (!split) return undefined
  const { doc } = parseYaml(split.yaml, file)
  if (!yamlLib().isMap(doc.contents)) return undefined
  const root = doc.contents as YAMLMap
  for (const k of INTENT_FIELDS) {
    const a = fieldData(prev, k)
    const b = fieldData(next, k)
    if (isDeepStrictEqual(a, b)) continue
    const node = root.get(k, true)
    const empty = b === undefined || (Array.isArray(b) && b.length === 0 && k !== "acceptance_criteria")
    if (empty) {
      root.delete(k)
      continue
    }
    if (Array.isArray(a) && Array.isArray(b) && yamlLib().isSeq(node)) {
      if (k === "acceptance_criteria") editCriteria(doc, node, a as Record<string, unknown>[], b as Record<string, unknown>[])
      else if (!editTextList(doc, node, a, b)) root.set(k, doc.createNode(b))
      continue
    }
    // a scalar keeps its node (and comment) when the new value is a scalar too
    root.set(k, typeof b === "object" && b !== null ? doc.createNode(b) : b)
  }
  const yaml = doc.toString({ lineWidth: 0 })
  const nl = text.includes("\r\n") ? "\r\n" : "\n"
  const bodyText = next.body === prev.body ? text.slice(split.bodyStart) : next.body ? `${nl}${next.body.trim()}${nl}` : ""
  const out = `${text.slice(0, split.yamlStart)}${nl === "\n" ? yaml : yaml.replace(/\n/g, nl)}${text.slice(split.yamlEnd, split.bodyStart)}${bodyText}`
  try {
    const back = parseIntent(out, file, next.id)
    return isDeepStrictEqual(back, next) ? out : undefined
  } catch {
    return undefined
  }
}
