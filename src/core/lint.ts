/**
 * Lint: advice about intent records and brief recipes that are valid but weak. Pure; never
 * throws for content; warnings never block a build unless the caller asks for `--strict`.
 *
 * What is checked (codes are stable):
 *
 *   criterion_no_evidence  a criterion says nothing about how it is proven, so no gate checks it
 *   criterion_vague        a criterion has a weasel word ("good", "fast", "user-friendly"...) and
 *                          no number, or has no measurable or checkable term at all
 *   placeholder_text       a field still holds a template placeholder (TODO, TBD)
 *   open_questions_active  an `active` intent still lists open questions
 *   no_criteria            an intent has no acceptance criteria (a warning once it is `active`)
 *   intent_inactive        a brief is built from a `retired`, `superseded` or `satisfied` intent
 *   intent_draft           a brief is built from a `draft` intent (info)
 *   intent_missing         a brief names an intent that was not found (the build will fail)
 *   formation_empty        a brief names no flow and no cycle (info)
 *   formation_unknown      a brief names a flow or cycle missing from foundry/ (added by the service,
 *                          which can read the project)
 *   constraint_clash       two intents of one brief have constraints that obviously clash
 *
 * The vague-criterion and clash checks are deliberately simple heuristics on words, documented
 * here so a reader can predict them:
 *
 * Vague. The text is lower-cased. A criterion is vague when (a) it contains a weasel word from
 * `WEASEL_WORDS` and no number (digits or a number word), or (b) it has none of: a number, a
 * quantifier (every, each, all, no, none, never, only, at most, first...), a checkable verb
 * (`CHECKABLE_STEMS`: states, contains, exits, approves, appears...), or something code-like
 * (`backticks`, a path, a quoted string).
 *
 * Clash. Each constraint is normalised (lower case, contractions expanded, punctuation removed)
 * and split into clauses at `;`, and before ", never / , not / , no / but". Per clause:
 *   - polarity: negative when it has a negative marker (must not, never, no, none, without,
 *     forbidden...), positive when it has a requirement marker (must, shall, always, required...),
 *     otherwise none; a clause that states bounds has no polarity;
 *   - subject: the remaining content words (stop words, markers and presence verbs such as
 *     "appear", "include", "use" removed; plurals folded);
 *   - bounds: "at most N unit", "under N", "N or fewer", "at least N", "more than N", "exactly N",
 *     "between N and M".
 * Two clauses from different intents clash when they have opposite polarity and the smaller
 * subject is contained in the larger one with at most two extra words; or when they bound the
 * same unit, their subjects overlap, and no whole number satisfies both bounds.
 */
import type { Intent } from "./intent.js"
import type { Recipe } from "./recipe.js"

export const LINT_CODES = [
  "criterion_no_evidence",
  "criterion_vague",
  "placeholder_text",
  "open_questions_active",
  "no_criteria",
  "intent_inactive",
  "intent_draft",
  "intent_missing",
  "formation_empty",
  "formation_unknown",
  "formation_unscoped",
  "formation_overlap",
  "constraint_clash",
  "law_unknown",
  "check_file_missing",
  "check_unbound",
  "check_never_run",
  "artefact_unmatched",
  "config_branch",
  "criterion_unstructured",
  "needs_clarification",
  "clarification_open",
] as const
export type LintCode = (typeof LINT_CODES)[number]

/** `warning` counts for `--strict`; `info` never does. */
export type LintSeverity = "warning" | "info"

export interface LintWarning {
  readonly code: LintCode
  readonly severity: LintSeverity
  /** project-relative file the warning is about */
  readonly file?: string
  /** field inside the file, e.g. `acceptance_criteria[1].text` */
  readonly path?: string
  readonly message: string
  readonly fix?: string
}

export const intentFilePath = (id: string) => `.alloy/intents/${id}.md`
export const recipeFilePath = (id: string) => `.alloy/briefs/${id}.md`

const clip = (s: string, n = 80) => {
  const one = s.replace(/\s+/g, " ").trim()
  return one.length > n ? `${one.slice(0, n - 3)}...` : one
}

// ---- vague criteria -----------------------------------------------------------------------

/** Words and phrases that name a quality without saying how to measure it. */
export const WEASEL_WORDS = [
  "good",
  "nice",
  "nicely",
  "better",
  "best",
  "great",
  "appropriate",
  "appropriately",
  "user-friendly",
  "user friendly",
  "friendly",
  "fast",
  "faster",
  "quick",
  "quickly",
  "easy",
  "easily",
  "simple",
  "intuitive",
  "intuitively",
  "clean",
  "robust",
  "reasonable",
  "reasonably",
  "adequate",
  "adequately",
  "sufficient",
  "sufficiently",
  "seamless",
  "seamlessly",
  "efficient",
  "efficiently",
  "elegant",
  "modern",
  "polished",
  "smooth",
  "smoothly",
  "performant",
  "high quality",
  "high-quality",
  "optimal",
  "optimally",
  "properly",
  "as needed",
  "as appropriate",
  "where possible",
  "if possible",
  "etc",
  "and so on",
  "state of the art",
  "state-of-the-art",
  "helpful",
  "engaging",
  "compelling",
] as const

const NUMBER_WORDS = "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty|hundred|thousand|million|single|half|twice|double|triple"
const QUANTIFIERS = "every|each|all|none|no|never|only|at most|at least|exactly|fewer|less than|more than|under|within|before|after|first|last|both|neither|either|nothing|any"
/** Stems of verbs and terms that describe something a person or a program can check. */
export const CHECKABLE_STEMS = [
  "exist",
  "contain",
  "includ",
  "list",
  "name",
  "stat",
  "say",
  "says",
  "said",
  "show",
  "return",
  "exit",
  "pass",
  "fail",
  "match",
  "equal",
  "appear",
  "sav",
  "written",
  "writ",
  "creat",
  "delet",
  "remov",
  "approv",
  "sign",
  "link",
  "mention",
  "use",
  "read",
  "reject",
  "accept",
  "log",
  "emit",
  "respond",
  "render",
  "display",
  "validat",
  "compil",
  "build",
  "run",
  "sort",
  "unique",
  "requir",
  "present",
  "absent",
  "missing",
  "empty",
  "valid",
  "document",
  "test",
  "cover",
  "refus",
  "block",
  "report",
  "print",
  "record",
  "cite",
  "cited",
  "quot",
  "answer",
  "mark",
  "tag",
  "label",
  "redirect",
  "send",
  "sent",
  "store",
  "load",
  "open",
  "clos",
  "error",
  "merg",
  "commit",
  "publish",
  "lead",
  "begin",
  "start",
  "end",
] as const

const WEASEL_RE = new RegExp(`(?<![a-z0-9-])(${WEASEL_WORDS.map((w) => w.replace(/[-\s]/g, "[-\\s]")).join("|")})(?![a-z0-9-])`)
const NUMBER_RE = new RegExp(`\\d|\\b(${NUMBER_WORDS})\\b`)
const QUANTIFIER_RE = new RegExp(`\\b(${QUANTIFIERS})\\b`)
const CHECKABLE_RE = new RegExp(`\\b(${CHECKABLE_STEMS.join("|")})[a-z]*\\b`)
const CODE_RE = /`[^`]+`|"[^"]+"|\u201c[^\u201d]+\u201d|\b[\w.-]+\/[\w.*/-]+|\*\.[a-z0-9]+|\bhttps?:\/\//

/** Text (already NFC) as the word lists read it: lower case, a curly apostrophe as a straight one. */
const asWords = (nfc: string) => nfc.toLowerCase().replace(/[\u2019\u2018]/g, "'")

/**
 * Why a criterion's text is vague, or undefined when it is specific enough. See the module doc.
 */
export function vagueReason(text: string): string | undefined {
  const raw = text.normalize("NFC")
  const t = asWords(raw)
  const weasel = WEASEL_RE.exec(t)?.[1]
  const hasNumber = NUMBER_RE.test(t)
  if (weasel && !hasNumber) {
    return `"${weasel}" says what quality is wanted but not how to tell; give a number, a threshold or an observable fact`
  }
  if (hasNumber || QUANTIFIER_RE.test(t) || CHECKABLE_RE.test(t) || CODE_RE.test(raw)) return undefined
  return "it has no measurable or checkable term (no number, no quantifier such as every/none/at most, no observable verb such as states/contains/exits)"
}

const PLACEHOLDER_RE = /\bTODO\b|\bTBD\b|\bFIXME\b/

// ---- criterion grammar and clarification markers ---------------------------------------------

/**
 * The structured forms a criterion may take: EARS (`WHEN <trigger> THE SYSTEM SHALL <response>`,
 * `IF <unwanted> THEN THE SYSTEM SHALL …`, `WHILE <state> …`, `WHERE <feature> …`, or the
 * ubiquitous `THE SYSTEM SHALL …`, keywords in any case, preconditions combinable) or a
 * Given/When/Then scenario. Anything else is free text: allowed, and noted by lint (`criterion_unstructured`, info).
 */
export type CriterionForm = "ears" | "given-when-then"

// a precondition clause (WHILE / WHERE / WHEN …) before the subject, then `the <subject> shall <response>`
const EARS_RE = [
  /^the\s+\S[\s\S]*?\bshall\s+\S/i,
  /^(?:while|where|when)\b[\s\S]*?\bthe\s+\S[\s\S]*?\bshall\s+\S/i,
  /^(?:(?:while|where|when)\b[\s\S]*?)?if\b[\s\S]+?\bthen\s+the\s+\S[\s\S]*?\bshall\s+\S/i,
]
const GWT_RE = /^given\b[\s\S]+?\bwhen\b[\s\S]+?\bthen\b\s*\S/i

export function criterionForm(text: string): CriterionForm | undefined {
  const t = text.trim()
  if (GWT_RE.test(t)) return "given-when-then"
  return EARS_RE.some((r) => r.test(t)) ? "ears" : undefined
}

const MARKER_RE = /\[NEEDS CLARIFICATION:\s*([^\]]*?)\s*\]/g

/** `[NEEDS CLARIFICATION: …]` markers in a text, as their questions. */
export function clarificationMarkers(text: string | undefined): string[] {
  return text ? [...text.matchAll(MARKER_RE)].map((m) => m[1]!.trim()).filter(Boolean) : []
}

/** Every text field of an intent, by path, for scans that cover them all. */
export function intentTexts(intent: Intent): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ["title", intent.title],
    ["goal", intent.goal],
  ]
  if (intent.context) out.push(["context", intent.context])
  intent.constraints.forEach((t, i) => out.push([`constraints[${i}]`, t]))
  intent.acceptance_criteria.forEach((c, i) => {
    out.push([`acceptance_criteria[${i}].text`, c.text])
    c.evidence.forEach((e, j) => {
      for (const [k, v] of Object.entries(e)) if (k !== "kind" && typeof v === "string") out.push([`acceptance_criteria[${i}].evidence[${j}].${k}`, v])
    })
  })
  intent.non_goals.forEach((t, i) => out.push([`non_goals[${i}]`, t]))
  intent.tradeoffs.forEach((t, i) => out.push([`tradeoffs[${i}]`, t]))
  intent.links.forEach((t, i) => out.push([`links[${i}]`, t]))
  ;(intent.clarifications ?? []).forEach((c, i) => {
    out.push([`clarifications[${i}].question`, c.question])
    if (c.answer) out.push([`clarifications[${i}].answer`, c.answer])
  })
  out.push(["body", intent.body])
  return out
}

/** The questions of every marker in an intent, in order, once each: what `open_questions` must list. */
export function markerQuestions(intent: Intent): string[] {
  return [...new Set(intentTexts(intent).flatMap(([, t]) => clarificationMarkers(t)))]
}

function specWarnings(intent: Intent, file: string): LintWarning[] {
  const out: LintWarning[] = []
  const closed = intent.status === "retired" || intent.status === "superseded"
  if (closed) return out
  // one note per intent, not one per criterion: a build of free-text records stays readable
  const free = intent.acceptance_criteria.map((c, i) => ({ c, i })).filter(({ c }) => !criterionForm(c.text))
  if (free.length) {
    out.push({
      code: "criterion_unstructured",
      // info, never failing --strict: free text stays allowed, and records written before the grammar keep building strictly
      severity: "info",
      file,
      path: `acceptance_criteria[${free[0]!.i}].text`,
      message: `${intent.id}: ${free.map(({ c }) => c.id).join(", ")} ${free.length === 1 ? "is" : "are"} free text (first: "${clip(free[0]!.c.text, 60)}"); a structured criterion says when it applies and what must happen, so a reviewer and a gate can test it`,
      fix: 'write each as EARS ("WHEN <trigger> THE SYSTEM SHALL <response>", "IF <unwanted condition> THEN THE SYSTEM SHALL <response>", "WHILE <state> …", "WHERE <feature> …", or "THE <subject> SHALL …") or as "Given <context>, when <action>, then <outcome>"',
    })
  }
  for (const [p, t] of intentTexts(intent)) {
    for (const q of clarificationMarkers(t)) {
      const listed = intent.open_questions.some((o) => o.trim() === q)
      out.push({
        code: "needs_clarification",
        severity: "warning",
        file,
        path: p,
        message: `${intent.id} ${p} still needs clarification: "${clip(q, 80)}"${listed ? " (listed in open_questions)" : " (not in open_questions yet)"}`,
        fix: `answer it, replace the marker with the answer, and remove the question from open_questions${listed ? "" : "; until then, add it to open_questions"}`,
      })
    }
  }
  ;(intent.clarifications ?? []).forEach((c, i) => {
    if (c.answer) return
    out.push({
      code: "clarification_open",
      severity: "warning",
      file,
      path: `clarifications[${i}]`,
      message: `${intent.id} asked "${clip(c.question, 80)}" and has no answer recorded`,
      fix: "record the answer (`answer:`) and fold it into a constraint or criterion, or remove the question",
    })
  })
  return out
}

// ---- intents ------------------------------------------------------------------------------

/** Warnings about one intent record. */
export function lintIntent(intent: Intent, opts: { file?: string } = {}): LintWarning[] {
  const file = opts.file ?? intentFilePath(intent.id)
  const out: LintWarning[] = []
  const closed = intent.status === "retired" || intent.status === "superseded"
  if (intent.acceptance_criteria.length === 0 && !closed) {
    out.push({
      code: "no_criteria",
      severity: intent.status === "draft" ? "info" : "warning",
      file,
      path: "acceptance_criteria",
      message: `intent ${intent.id} has no acceptance criteria, so nothing can show that it is satisfied`,
      fix: "add criteria, each with evidence: `acceptance_criteria: [{id: AC-1, text: ..., evidence: {kind: check, command: ...}}]`",
    })
  }
  intent.acceptance_criteria.forEach((c, i) => {
    const where = `acceptance_criteria[${i}]`
    if (c.evidence.length === 0) {
      out.push({
        code: "criterion_no_evidence",
        severity: "warning",
        file,
        path: `${where}.evidence`,
        message: `${intent.id}#${c.id} ("${clip(c.text, 60)}") has no evidence, so no gate will check it`,
        fix: "add `evidence:` with kind check (a command), law (appraisers grade it), human (a person signs off) or artefact (a path that must exist)",
      })
    }
    const why = vagueReason(c.text)
    if (why) {
      out.push({
        code: "criterion_vague",
        severity: "warning",
        file,
        path: `${where}.text`,
        message: `${intent.id}#${c.id} is vague ("${clip(c.text, 60)}"): ${why}`,
        fix: 'rewrite it so a reviewer can answer yes or no, e.g. "The page loads in under 2 s on a mid-range phone" instead of "The page is fast"',
      })
    }
  })
  const placeholders: string[] = []
  const scan = (path: string, text: string | undefined) => {
    if (text && PLACEHOLDER_RE.test(text)) placeholders.push(path)
  }
  scan("title", intent.title)
  scan("goal", intent.goal)
  scan("context", intent.context)
  intent.constraints.forEach((t, i) => scan(`constraints[${i}]`, t))
  intent.acceptance_criteria.forEach((c, i) => scan(`acceptance_criteria[${i}].text`, c.text))
  intent.non_goals.forEach((t, i) => scan(`non_goals[${i}]`, t))
  intent.tradeoffs.forEach((t, i) => scan(`tradeoffs[${i}]`, t))
  if (placeholders.length) {
    out.push({
      code: "placeholder_text",
      severity: "warning",
      file,
      path: placeholders[0]!,
      message: `intent ${intent.id} still holds template placeholders (TODO/TBD) in ${placeholders.join(", ")}`,
      fix: `replace them with real text in ${file}`,
    })
  }
  out.push(...specWarnings(intent, file))
  if (intent.status === "active" && intent.open_questions.length > 0) {
    out.push({
      code: "open_questions_active",
      severity: "warning",
      file,
      path: "open_questions",
      message: `intent ${intent.id} is active but still has ${intent.open_questions.length} open question${intent.open_questions.length === 1 ? "" : "s"} (first: "${clip(intent.open_questions[0]!, 60)}")`,
      fix: "answer them (turn each answer into a constraint, tradeoff or criterion) and remove them, or set `status: draft` until they are answered",
    })
  }
  return out
}

// ---- constraint clashes -------------------------------------------------------------------

export type Polarity = "positive" | "negative" | undefined

export interface Bound {
  readonly unit: string
  /** smallest allowed whole number (inclusive) */
  readonly min?: number
  /** largest allowed whole number (inclusive) */
  readonly max?: number
  readonly phrase: string
}

export interface Clause {
  readonly text: string
  readonly polarity: Polarity
  readonly subject: ReadonlySet<string>
  /** stem -> the word as written, for messages */
  readonly words: ReadonlyMap<string, string>
  readonly bounds: readonly Bound[]
}

const CONTRACTIONS: Array<[RegExp, string]> = [
  [/\bcan't\b/g, "cannot"],
  [/\bwon't\b/g, "will not"],
  [/\bshan't\b/g, "shall not"],
  [/\b(must|should|do|does|did|is|are|was|were|need|has|have)n't\b/g, "$1 not"],
]

const STOP = new Set(
  "a an the is are was were be been being of in on at for and or with by as it its this that these those there their they them our we you your from into than then so such e g eg ie i etc per via its who which what when where how if also just".split(
    " ",
  ),
)
const MARKERS = new Set(
  "must shall should may will can cannot do does not never no none without always required require requires mandatory need needs has have to forbidden prohibited disallowed banned allowed permitted avoid ever any anything".split(
    " ",
  ),
)
const PRESENCE = new Set(
  "appear appears present exist exists include includes included including contain contains containing use used uses using mention mentions mentioned show shows shown given give gives written".split(
    " ",
  ),
)

const NEGATIVE_RE =
  /\b(must|shall|should|may|will|can|do|does|is|are|need|needs)\s+not\b|\bcannot\b|\bnever\b|\bno\b|\bnone\b|\bwithout\b|\b(forbidden|prohibited|disallowed|banned)\b|\bnot\s+(allowed|permitted)\b|\bavoid\b/
const POSITIVE_RE = /\b(must|shall|should|always|required|requires?|mandatory|needs? to|has to|have to)\b/

const UPPER = [
  "no more than",
  "not more than",
  "not to exceed",
  "not exceed",
  "at most",
  "up to",
  "maximum of",
  "maximum",
  "max",
  "fewer than",
  "less than",
  "shorter than",
  "under",
  "below",
  "<=",
  "<",
]
const LOWER = [
  "no fewer than",
  "no less than",
  "not less than",
  "at least",
  "minimum of",
  "minimum",
  "min",
  "more than",
  "greater than",
  "longer than",
  "over",
  "above",
  "exceeds",
  "exceed",
  ">=",
  ">",
]
const EXCLUSIVE = new Set(["fewer than", "less than", "shorter than", "under", "below", "<", "more than", "greater than", "longer than", "over", "above", "exceeds", "exceed", ">"])
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\<>=]/g, "\\$&")
const BOUND_RE = new RegExp(
  `(?:^|\\s)(${[...UPPER, ...LOWER]
    .sort((a, b) => b.length - a.length)
    .map(esc)
    .join("|")})\\s+(\\d+)\\s*(%|[a-z]+)?`,
  "g",
)
const OR_RE = /(?:^|\s)(\d+)\s*(%|[a-z]+)?\s+or\s+(fewer|less|more|greater|longer|shorter)\b/g
const EXACT_RE = /(?:^|\s)exactly\s+(\d+)\s*(%|[a-z]+)?/g
const BETWEEN_RE = /(?:^|\s)between\s+(\d+)\s+and\s+(\d+)\s*(%|[a-z]+)?/g

/** Fold plurals and a few unit spellings, so "words" and "word", "percent" and "%" compare equal. */
export function stem(w: string): string {
  if (w === "%" || w === "percent") return "%"
  if (w === "chars") return "character"
  if (w.endsWith("ies") && w.length > 4) return `${w.slice(0, -3)}y`
  if (w.endsWith("s") && !w.endsWith("ss") && w.length > 3) return w.slice(0, -1)
  return w
}

export function normalizeConstraint(text: string): string {
  let t = asWords(text.normalize("NFC"))
  for (const [re, to] of CONTRACTIONS) t = t.replace(re, to)
  return t
    .replace(/<=|>=/g, (m) => ` ${m} `)
    .replace(/[^a-z0-9%'<>=;,\s-]/g, " ")
    .replace(/(?<![a-z])-|-(?![a-z])/g, " ")
    .replace(/'/g, "")
    .replace(/\s+/g, " ")
    .trim()
}

function subjectOf(text: string): Map<string, string> {
  const words = text
    .replace(/[;,]/g, " ")
    .split(/[\s-]+/)
    .filter((w) => w && !/^\d+$/.test(w) && !/^[<>=%]+$/.test(w))
  const out = new Map<string, string>()
  for (const w of words) {
    if (STOP.has(w) || MARKERS.has(w) || PRESENCE.has(w)) continue
    const s = stem(w)
    if (!out.has(s)) out.set(s, w)
  }
  return out
}

/** Split a normalised constraint into clauses and read each one's polarity, subject and bounds. */
export function parseConstraint(text: string): Clause[] {
  const norm = normalizeConstraint(text)
  const pieces = norm
    .split(/;|,\s*(?=(?:and\s+|but\s+)?(?:never|not|no)\b)|\s+but\s+/)
    .map((s) => s.replace(/,/g, " ").replace(/\s+/g, " ").trim())
    .filter(Boolean)
  return pieces.map((clause) => {
    const bounds: Bound[] = []
    let rest = clause
    const take = (re: RegExp, fn: (m: RegExpExecArray) => Bound | undefined) => {
      re.lastIndex = 0
      let m: RegExpExecArray | null
      const found: string[] = []
      while ((m = re.exec(clause)) !== null) {
        const b = fn(m)
        if (b) bounds.push(b)
        found.push(m[0])
      }
      for (const f of found) rest = rest.replace(f, " ")
    }
    take(BETWEEN_RE, (m) => ({ unit: stem(m[3] ?? ""), min: Number(m[1]), max: Number(m[2]), phrase: m[0].trim() }))
    take(EXACT_RE, (m) => ({ unit: stem(m[2] ?? ""), min: Number(m[1]), max: Number(m[1]), phrase: m[0].trim() }))
    take(OR_RE, (m) => {
      const n = Number(m[1])
      const upper = m[3] === "fewer" || m[3] === "less" || m[3] === "shorter"
      return { unit: stem(m[2] ?? ""), ...(upper ? { max: n } : { min: n }), phrase: m[0].trim() }
    })
    take(BOUND_RE, (m) => {
      const op = m[1]!
      const n = Number(m[2])
      const unit = stem(m[3] ?? "")
      const upper = UPPER.includes(op)
      const excl = EXCLUSIVE.has(op) ? 1 : 0
      return upper ? { unit, max: n - excl, phrase: m[0].trim() } : { unit, min: n + excl, phrase: m[0].trim() }
    })
    // units are not part of the subject
    const units = new Set(bounds.map((b) => b.unit))
    const words = subjectOf(rest)
    for (const u of units) words.delete(u)
    const subject = new Set(words.keys())
    // a clause with bounds states a quantity, not a yes/no requirement: it takes no polarity
    const polarity: Polarity = bounds.length ? undefined : NEGATIVE_RE.test(clause) ? "negative" : POSITIVE_RE.test(clause) ? "positive" : undefined
    return { text: clause, polarity, subject, words, bounds }
  })
}

function contained(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a]
  if (small.size === 0 || large.size - small.size > 2) return false
  for (const w of small) if (!large.has(w)) return false
  return true
}

function overlaps(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size === 0 || b.size === 0) return true
  for (const w of a) if (b.has(w)) return true
  return false
}

/**
 * Do two constraints obviously clash? Returns a short reason, or undefined. See the module doc
 * for the rules; it errs on the side of silence.
 */
export function constraintClash(a: string, b: string): string | undefined {
  for (const ca of parseConstraint(a)) {
    for (const cb of parseConstraint(b)) {
      if (ca.polarity && cb.polarity && ca.polarity !== cb.polarity && contained(ca.subject, cb.subject)) {
        const shared = [...ca.subject].filter((w) => cb.subject.has(w)).map((w) => ca.words.get(w) ?? w)
        return `one requires and the other forbids the same thing (${shared.join(" ")})`
      }
      for (const ba of ca.bounds) {
        for (const bb of cb.bounds) {
          if (ba.unit !== bb.unit || !overlaps(ca.subject, cb.subject)) continue
          const lo = Math.max(ba.min ?? -Infinity, bb.min ?? -Infinity)
          const hi = Math.min(ba.max ?? Infinity, bb.max ?? Infinity)
          if (lo > hi) return `no value satisfies both "${ba.phrase}" and "${bb.phrase}"`
        }
      }
    }
  }
  return undefined
}

// ---- briefs -------------------------------------------------------------------------------

/**
 * Warnings about a brief recipe and the intents it is built from: missing or inactive intents,
 * an empty formation, and constraint clashes between intents. Intent-level warnings come from
 * `lintIntent` (call it for each intent as well).
 */
export function lintBrief(recipe: Recipe, intents: readonly Intent[], opts: { file?: string } = {}): LintWarning[] {
  const file = opts.file ?? recipeFilePath(recipe.id)
  const out: LintWarning[] = []
  for (const [p, t] of [["body", recipe.body] as const, ...Object.entries(recipe.stages).map(([k, v]) => [`stages.${k}`, v] as const)]) {
    for (const q of clarificationMarkers(t)) {
      out.push({
        code: "needs_clarification",
        severity: "warning",
        file,
        path: p,
        message: `brief ${recipe.id} ${p} still needs clarification: "${clip(q, 80)}"`,
        fix: "answer it and replace the marker with the answer",
      })
    }
  }
  const byId = new Map(intents.map((i) => [i.id, i]))
  recipe.intents.forEach((id, n) => {
    const i = byId.get(id)
    if (!i) {
      out.push({
        code: "intent_missing",
        severity: "warning",
        file,
        path: `intents[${n}]`,
        message: `brief ${recipe.id} names intent ${id}, which was not found; the build will fail`,
        fix: `create it (\`opencode-alloy intent new ${id}\`) or remove it from ${file}`,
      })
    } else if (i.status === "retired" || i.status === "superseded" || i.status === "satisfied") {
      out.push({
        code: "intent_inactive",
        severity: "warning",
        file,
        path: `intents[${n}]`,
        message: `brief ${recipe.id} is built from intent ${id}, which is ${i.status}${i.superseded_by ? ` (superseded by ${i.superseded_by})` : ""}`,
        fix: i.superseded_by ? `replace it with ${i.superseded_by} in ${file}` : `remove it from ${file}, or set the intent's status back to active`,
      })
    } else if (i.status === "draft") {
      out.push({
        code: "intent_draft",
        severity: "info",
        file,
        path: `intents[${n}]`,
        message: `brief ${recipe.id} is built from intent ${id}, which is still a draft`,
        fix: `set \`status: active\` in ${intentFilePath(id)} once it is agreed`,
      })
    }
  })
  if (!recipe.formation.flow && recipe.formation.cycles.length === 0) {
    out.push({
      code: "formation_empty",
      severity: "info",
      file,
      path: "formation",
      message: `brief ${recipe.id} names no flow and no cycle; it applies wherever it is pinned`,
      fix: "add `formation: {flow: <flow-id>, cycles: [<cycle-id>]}` so readers know what it is for",
    })
  }
  if (recipe.formation.cycles.length > 1 && recipe.formation.scope === undefined) {
    out.push({
      code: "formation_unscoped",
      severity: "warning",
      file,
      path: "formation",
      message: `brief ${recipe.id} lists ${recipe.formation.cycles.length} cycles (${recipe.formation.cycles.join(", ")}) but no \`scope\`: every criterion goes to every cycle's forge and appraisers`,
      fix: `say what applies where, e.g. \`formation: {scope: {${recipe.intents[0] ?? "<intent-id>"}: [${recipe.formation.cycles[0]}]}}\` (an intent or \`<intent>#AC-n\` to its cycles)`,
    })
  }
  const listed = recipe.intents.map((id) => byId.get(id)).filter((i): i is Intent => i !== undefined)
  for (let x = 0; x < listed.length; x++) {
    for (let y = x + 1; y < listed.length; y++) {
      const a = listed[x]!
      const b = listed[y]!
      a.constraints.forEach((ca, ia) => {
        b.constraints.forEach((cb, ib) => {
          const why = constraintClash(ca, cb)
          if (!why) return
          out.push({
            code: "constraint_clash",
            severity: "warning",
            file,
            path: "intents",
            message: `constraints clash in brief ${recipe.id}: ${a.id} constraints[${ia}] "${clip(ca, 70)}" vs ${b.id} constraints[${ib}] "${clip(cb, 70)}": ${why}`,
            fix: `decide which one wins: change one of the two constraints (${intentFilePath(a.id)}, ${intentFilePath(b.id)}), and record the decision under \`tradeoffs\``,
          })
        })
      })
    }
  }
  return out
}

/** Do these warnings fail a `--strict` run? (`info` never does.) */
export function failsStrict(warnings: readonly LintWarning[]): boolean {
  return warnings.some((w) => w.severity === "warning")
}

/** One line per warning, for the CLI. */
export function formatWarning(w: LintWarning): string {
  const where = [w.file, w.path].filter(Boolean).join(" ")
  return `${w.severity === "info" ? "info" : "warning"} [${w.code}] ${where ? `${where}: ` : ""}${w.message}`
}
