/**
 * Intent records for the CLI and the agent tools: create (from fields, from a file, or as a
 * template), update with a validated patch, list and show. Every write is refused on a Foundry
 * flow branch, validates the whole record before anything touches the disk, and is atomic;
 * the first write creates `.alloy/`.
 */
import { AlloyError } from "../core/errors.js"
import { assertDigest, assertSlug, isSlug } from "../core/ids.js"
import { sourceDigest } from "../core/digest.js"
import { INTENT_FIELDS, intentTemplate, nextCriterionId, parseIntent, readIntentSource, renderIntentFile, updateIntentText, validateIntent, type Intent } from "../core/intent.js"
import { intentFilePath, lintIntent, markerQuestions, type LintWarning } from "../core/lint.js"
import type { AlloyContext } from "./context.js"
import { assertNotOnFlowBranch } from "./guard.js"
import { writeFileOnce } from "../store/atomic.js"

import { clean, ensureInit, isObj, readRecipesLoose, type Json } from "./util.js"

/** The list fields of an intent that `append`/`remove` patches address. */
export const INTENT_LIST_FIELDS = ["constraints", "non_goals", "tradeoffs", "open_questions", "links"] as const
export type IntentListField = (typeof INTENT_LIST_FIELDS)[number]

const EVIDENCE_OPTIONAL = ["command", "law", "passing", "failing", "who", "path", "description"]

function cleanEvidence(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(cleanEvidence)
  return isObj(e) ? clean(e, EVIDENCE_OPTIONAL) : e
}

/** Fill in missing criterion ids (`AC-<n>`, after the highest id already used) and tidy evidence. */
function prepareCriteria(list: unknown, existing: ReadonlyArray<{ id: string }> = []): unknown {
  if (!Array.isArray(list)) return list
  const used = [
    ...existing,
    ...list
      .filter(isObj)
      .filter((c) => typeof c["id"] === "string")
      .map((c) => ({ id: c["id"] as string })),
  ]
  return list.map((c) => {
    if (!isObj(c)) return c
    const out = clean(c)
    if (out["evidence"] !== undefined) out["evidence"] = cleanEvidence(out["evidence"])
    if (out["id"] === undefined || out["id"] === null || out["id"] === "") {
      const id = nextCriterionId(used)
      used.push({ id })
      return { id, ...out }
    }
    return out
  })
}

/**
 * Read an intent record; a file the store refuses before parsing (too big, not a regular file)
 * is an invalid intent like any other, not a generic `malformed`.
 */
export function readIntent(ctx: AlloyContext, id: string): ReturnType<AlloyContext["store"]["readIntent"]> {
  try {
    return ctx.store.readIntent(id)
  } catch (e) {
    if (e instanceof AlloyError && e.code === "malformed") {
      throw new AlloyError("invalid_intent", e.message, { file: e.file ?? intentFilePath(id), fix: `fix or replace ${intentFilePath(id)}` })
    }
    throw e
  }
}

export interface IntentWrite {
  readonly intent: Intent
  readonly file: string
  readonly source_digest: string
  readonly changed: boolean
  readonly warnings: LintWarning[]
  /** folders and files created because `.alloy/` did not exist yet */
  readonly initialised: string[]
}

/**
 * Create an intent record from data (tool arguments, or a file's frontmatter). `status`
 * defaults to `draft`; criteria without an id get `AC-1`, `AC-2`... The whole record is checked
 * before anything is written; an existing record is never replaced (`already_exists`).
 */
/**
 * `[NEEDS CLARIFICATION: …]` markers are open questions: each marker's question is listed in
 * `open_questions` (once) when a record is created or updated through Alloy, so an active intent
 * with a marker is flagged by the same rule as any other open question.
 */
function withMarkerQuestions(intent: Intent): Intent {
  const missing = markerQuestions(intent).filter((q) => !intent.open_questions.some((o) => o.trim() === q))
  return missing.length ? { ...intent, open_questions: [...intent.open_questions, ...missing] } : intent
}

export function createIntent(ctx: AlloyContext, input: Json & { body?: unknown }, opts: { source?: string } = {}): IntentWrite {
  const id = assertSlug(input["id"], "intent id")
  assertNotOnFlowBranch(ctx, `create intent ${id}`)
  const file = intentFilePath(id)
  const { body, ...fields } = input
  if (body !== undefined && typeof body !== "string") {
    throw new AlloyError("invalid_intent", `${opts.source ?? file}: body must be Markdown text`, { file, details: [{ path: "body", message: "expected text" }] })
  }
  const data = clean(fields, ["context", "superseded_by"])
  if (data["status"] === undefined) data["status"] = "draft"
  if (data["acceptance_criteria"] !== undefined) data["acceptance_criteria"] = prepareCriteria(data["acceptance_criteria"])
  const intent = withMarkerQuestions(validateIntent(data, body ?? "", opts.source ?? file, id))
  if (ctx.store.exists() && ctx.store.readBytes(ctx.store.intentFile(id)) !== undefined) {
    throw new AlloyError("already_exists", `intent ${id} already exists (${file})`, {
      file,
      fix: "choose another id, or change the existing record (`alloy_intent_update`, or edit the file)",
    })
  }
  const initialised = ensureInit(ctx)
  const w = ctx.store.writeIntent(intent, "create")
  return { intent, file: w.file, source_digest: sourceDigest(w.text), changed: true, warnings: lintIntent(intent, { file: w.file }), initialised }
}

/**
 * Create an intent from a Markdown file with frontmatter (`intent new <id> --from <file>`).
 * The file's `id` may be omitted; when present it must equal `id`.
 */
export function createIntentFromText(ctx: AlloyContext, id: string, text: string, source: string): IntentWrite {
  assertSlug(id, "intent id")
  assertNotOnFlowBranch(ctx, `create intent ${id}`)
  const parsed = readIntentSource(text, source)
  const data = { ...parsed.data }
  if (data["id"] === undefined) data["id"] = id
  else if (data["id"] !== id) {
    throw new AlloyError("invalid_intent", `${source}: id is ${JSON.stringify(data["id"])} but the command names intent ${id}`, {
      file: source,
      details: [{ path: "id", message: `expected "${id}" (or leave it out)` }],
      fix: `run \`opencode-alloy intent new ${isSlug(data["id"]) ? String(data["id"]) : "<id>"} --from ${source}\`, or change the id in the file`,
    })
  }
  return createIntent(ctx, { ...data, body: parsed.body }, { source })
}

/** A partial change to an intent record (what `alloy_intent_update` takes). */
export interface IntentPatch {
  /** fields to replace; `null` clears an optional field (`context`, `superseded_by`, `metadata`) */
  readonly set?: Json
  /** items to append to list fields */
  readonly append?: Partial<Record<IntentListField, unknown>>
  /** items to remove from list fields, by exact text */
  readonly remove?: Partial<Record<IntentListField, unknown>>
  readonly criteria?: {
    /** new criteria; ids are assigned after the highest existing one unless given */
    readonly add?: unknown
    /** criteria to change, by id: `text` and/or `evidence` (evidence is replaced as a whole) */
    readonly replace?: unknown
    /** ids of criteria to remove (ids are never reused) */
    readonly remove?: unknown
  }
  /** refuse the update when the file changed since this source digest was read */
  readonly expected_digest?: string
}

/** what an update may set: every intent field but its id, and the body */
const SETTABLE = new Set<string>([...INTENT_FIELDS.filter((f) => f !== "id"), "body"])
const CLEARABLE = new Set(["context", "superseded_by", "clarifications", "metadata"])

/**
 * Apply a patch to an intent and write it back. Everything is checked before the write: an
 * unknown field, a criterion id that does not exist, an item to remove that is not there, or
 * a result that is not a valid intent -> `invalid_intent` (with every problem), nothing written.
 * Only the changed values are edited in the author's text: YAML comments and layout elsewhere are kept.
 */
export function updateIntent(ctx: AlloyContext, idIn: unknown, patch: IntentPatch): IntentWrite {
  const id = assertSlug(idIn, "intent id")
  assertNotOnFlowBranch(ctx, `update intent ${id}`)
  ctx.store.requireInit()
  const current = readIntent(ctx, id)
  const file = current.file
  const problems: Array<{ path: string; message: string }> = []
  if (patch.expected_digest !== undefined) {
    const want = assertDigest(patch.expected_digest, "expected_digest")
    const have = sourceDigest(current.text)
    if (want !== have) {
      throw new AlloyError("invalid_intent", `${file} changed since it was read (it is now ${have}, the update expected ${want}); nothing was written`, {
        file,
        fix: "read the intent again (`alloy_intent_list` with its id) and redo the change",
      })
    }
  }
  const { body: oldBody, ...old } = current.value
  const next: Json = structuredClone(old) as Json
  let body: string = oldBody

  if (patch.set !== undefined) {
    if (!isObj(patch.set)) problems.push({ path: "set", message: "expected a mapping of fields to new values" })
    else
      for (const [k, v] of Object.entries(patch.set)) {
        if (v === undefined) continue
        if (k === "id") problems.push({ path: "set.id", message: "an intent's id cannot change (create a new intent and supersede this one)" })
        else if (!SETTABLE.has(k)) problems.push({ path: `set.${k}`, message: `unknown field; settable: ${[...SETTABLE].join(", ")}` })
        else if (k === "body") {
          if (typeof v !== "string") problems.push({ path: "set.body", message: "expected Markdown text" })
          else body = v
        } else if (v === null) {
          if (CLEARABLE.has(k)) delete next[k]
          else problems.push({ path: `set.${k}`, message: `${k} cannot be cleared${INTENT_LIST_FIELDS.includes(k as IntentListField) ? " with null; set it to []" : ""}` })
        } else if (k === "acceptance_criteria") next[k] = prepareCriteria(v)
        else next[k] = v
      }
  }

  for (const [op, spec] of [
    ["append", patch.append],
    ["remove", patch.remove],
  ] as const) {
    if (spec === undefined) continue
    if (!isObj(spec)) {
      problems.push({ path: op, message: `expected a mapping of list fields (${INTENT_LIST_FIELDS.join(", ")}) to items` })
      continue
    }
    for (const [k, items] of Object.entries(spec)) {
      if (items === undefined) continue
      if (!INTENT_LIST_FIELDS.includes(k as IntentListField)) {
        problems.push({ path: `${op}.${k}`, message: `not a list field; use one of ${INTENT_LIST_FIELDS.join(", ")}` })
        continue
      }
      const list = Array.isArray(items) ? items : [items]
      const have = Array.isArray(next[k]) ? [...(next[k] as unknown[])] : []
      if (op === "append") next[k] = [...have, ...list]
      else {
        list.forEach((item, n) => {
          const at = have.findIndex((h) => typeof h === "string" && typeof item === "string" && h.trim() === item.trim())
          if (at < 0) problems.push({ path: `remove.${k}[${n}]`, message: `${JSON.stringify(String(item).slice(0, 60))} is not in ${k}` })
          else have.splice(at, 1)
        })
        next[k] = have
      }
    }
  }

  if (patch.criteria !== undefined) {
    const c = patch.criteria
    if (!isObj(c)) problems.push({ path: "criteria", message: "expected {add?, replace?, remove?}" })
    else {
      let list = (Array.isArray(next["acceptance_criteria"]) ? (next["acceptance_criteria"] as Json[]) : []).map((x) => ({ ...x }))
      const known = new Set(list.map((x) => String(x["id"])))
      const everUsed = [...list.map((x) => ({ id: String(x["id"]) })), ...old.acceptance_criteria.map((x) => ({ id: x.id }))]
      if (c["remove"] !== undefined) {
        const ids = Array.isArray(c["remove"]) ? c["remove"] : [c["remove"]]
        ids.forEach((rid, n) => {
          if (typeof rid !== "string" || !known.has(rid))
            problems.push({ path: `criteria.remove[${n}]`, message: `no criterion ${JSON.stringify(rid)} in ${id}; it has ${[...known].join(", ") || "none"}` })
        })
        list = list.filter((x) => !ids.includes(x["id"]))
      }
      if (c["replace"] !== undefined) {
        const reps = Array.isArray(c["replace"]) ? c["replace"] : [c["replace"]]
        reps.forEach((r, n) => {
          if (!isObj(r) || typeof r["id"] !== "string") {
            problems.push({ path: `criteria.replace[${n}]`, message: 'expected {id: "AC-n", text?, evidence?}' })
            return
          }
          const target = list.find((x) => x["id"] === r["id"])
          if (!target) {
            problems.push({ path: `criteria.replace[${n}].id`, message: `no criterion ${r["id"]} in ${id}; it has ${[...known].join(", ") || "none"}` })
            return
          }
          for (const [k, v] of Object.entries(clean(r))) {
            if (k === "id") continue
            if (k !== "text" && k !== "evidence") problems.push({ path: `criteria.replace[${n}].${k}`, message: "only text and evidence can be replaced" })
            else target[k] = k === "evidence" ? cleanEvidence(v) : v
          }
        })
      }
      if (c["add"] !== undefined) {
        const adds = Array.isArray(c["add"]) ? c["add"] : [c["add"]]
        list = [...list, ...(prepareCriteria(adds, everUsed) as Json[])]
      }
      next["acceptance_criteria"] = list
    }
  }

  if (problems.length) {
    throw new AlloyError(
      "invalid_intent",
      `update of ${file} has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was written:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`,
      {
        file,
        details: problems,
        fix: "fix the patch and call the update again",
      },
    )
  }
  const intent = withMarkerQuestions(validateIntent(next, body, file, id))
  const changed = renderIntentFile(intent) !== renderIntentFile(current.value)
  if (!changed) {
    return { intent, file, source_digest: sourceDigest(current.text), changed: false, warnings: lintIntent(intent, { file }), initialised: [] }
  }
  // the author's text, edited where the values changed (comments kept); Alloy's layout only when that cannot read back exactly
  const w = ctx.store.writeIntent(intent, "replace", updateIntentText(current.text, file, current.value, intent))
  return { intent, file: w.file, source_digest: sourceDigest(w.text), changed: true, warnings: lintIntent(intent, { file: w.file }), initialised: [] }
}

export interface IntentSummary {
  readonly id: string
  readonly file: string
  readonly title?: string
  readonly status?: string
  readonly criteria?: number
  readonly open_questions?: number
  readonly source_digest?: string
  /** briefs whose recipe names this intent */
  readonly briefs: string[]
  readonly error?: { code: string; message: string }
}

/** Every intent record, valid or not (an invalid one is listed with its error). */
export function listIntents(ctx: AlloyContext): IntentSummary[] {
  if (!ctx.store.exists()) return []
  // one pass over the recipes, not one per intent
  const usedBy = new Map<string, string[]>()
  for (const r of readRecipesLoose(ctx))
    for (const i of r.recipe?.intents ?? []) {
      const list = usedBy.get(i)
      if (list) list.push(r.id)
      else usedBy.set(i, [r.id])
    }
  return ctx.store.listIntentIds().map((id) => {
    const file = intentFilePath(id)
    const briefs = usedBy.get(id) ?? []
    try {
      const r = readIntent(ctx, id)
      const i = r.value
      return {
        id,
        file,
        title: i.title,
        status: i.status,
        criteria: i.acceptance_criteria.length,
        open_questions: i.open_questions.length,
        source_digest: sourceDigest(r.text),
        briefs,
      }
    } catch (e) {
      const err = e instanceof AlloyError ? e : new AlloyError("io_error", String(e))
      return { id, file, briefs, error: { code: err.code, message: err.describe() } }
    }
  })
}

export function showIntent(ctx: AlloyContext, idIn: unknown): { intent: Intent; file: string; source_digest: string; text: string; warnings: LintWarning[]; briefs: string[] } {
  const id = assertSlug(idIn, "intent id")
  ctx.store.requireInit()
  const r = readIntent(ctx, id)
  const briefs = readRecipesLoose(ctx)
    .filter((x) => x.recipe?.intents.includes(id))
    .map((x) => x.id)
  return { intent: r.value, file: r.file, source_digest: sourceDigest(r.text), text: r.text, warnings: lintIntent(r.value, { file: r.file }), briefs }
}

/**
 * Write a template intent (`intent new <id>` without `--from`): valid YAML with comments and
 * TODO placeholders, status draft (or as given). Checked like any record before it is written.
 */
export function createIntentTemplate(ctx: AlloyContext, idIn: unknown, opts: { title?: string; goal?: string; status?: string } = {}): IntentWrite {
  const id = assertSlug(idIn, "intent id")
  assertNotOnFlowBranch(ctx, `create intent ${id}`)
  const file = intentFilePath(id)
  const text = intentTemplate(id, opts)
  const intent = parseIntent(text, file, id)
  const initialised = ensureInit(ctx)
  const abs = ctx.store.intentFile(id)
  ctx.store.readBytes(abs) // proves the folder lies inside .alloy/ (no symlink out)
  if (!writeFileOnce(abs, text, 0o644, ctx.store.rel(abs))) {
    throw new AlloyError("already_exists", `intent ${id} already exists (${file})`, { file, fix: "edit it, or choose another id" })
  }
  return { intent, file, source_digest: sourceDigest(text), changed: true, warnings: lintIntent(intent, { file }), initialised }
}
