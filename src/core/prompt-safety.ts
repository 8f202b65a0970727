/**
 * Prompt safety: authored text (intent fields, recipe notes, evidence fields, law texts) is
 * untrusted input to Foundry's prompt protocol. Every authored string that reaches a prompt goes
 * through one of four forms here, so no content can produce a line Foundry or its agents parse
 * (docs/prompt-safety.md):
 *
 *   inline(s)   single-line fields: control characters removed, every run of white space
 *               (line breaks included) becomes one space. Always written after Alloy's own text
 *               on the same line, so it can never start a line.
 *   listItem(s) inline(s) after a list marker: a leading task box (`[x]`), quote or heading is escaped.
 *   code(s)     inline(s) as a Markdown code span whose fence is longer than any backtick run
 *               inside, so the content cannot close it.
 *   quote(s)    multi-line text: control characters removed, every line prefixed with `> `
 *               (a quote marker no content can close, because the prefix is on every line), and a
 *               line whose first character would start a heading, a checklist item, a setext
 *               underline, a quote of its own or an escape gets a `\` before it (plain text).
 *
 * `jsonData(v)` hands a value to an agent as data: one line of JSON, `<` and invisible characters
 * escaped (the bridge's goal and a person's appraisal answers).
 *
 * For Markdown that people read (`brief diff --format markdown`, a pull-request comment):
 * `mdText(s)` (inline text with Markdown's and HTML's punctuation escaped) and `fenced(s)` (a code
 * block no content can close).
 *
 * `unsafeTextProblem` is the authoring-time check (`unsafe_text`): it refuses control and escape
 * characters and lines that forge Foundry's control lines or sections, wherever they are.
 */

import { AlloyError } from "./errors.js"

/**
 * Characters that never belong in authored text: C0 controls except tab and line feed (carriage
 * returns are normalised away before), DEL, C1 controls (including the 8-bit CSI and OSC),
 * Unicode line/paragraph separators, bidirectional overrides and isolates, zero-width characters
 * and the byte-order mark in the middle of text.
 */
// eslint-disable-next-line no-control-regex
export const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g
const HAS_CONTROL_RE = new RegExp(CONTROL_RE.source)

/** Line breaks Alloy's renderer treats as line breaks (before anything else is removed). */
const BREAKS_RE = /\r\n?|[\u2028\u2029\u0085\u000b\u000c]/g

/** Remove control characters; line breaks of every kind become `\n`, tabs stay. */
export function stripControls(s: string): string {
  return s.replace(BREAKS_RE, "\n").replace(CONTROL_RE, "")
}

/** A single-line field: no control characters, no line breaks, white space collapsed, trimmed. */
export function inline(s: string): string {
  return stripControls(s).replace(/\s+/g, " ").trim()
}

/** A Markdown list marker (`-`, `*`, `+`, `1.`, `1)`): one spelling for every pattern below that looks for checklist items. */
const LIST_MARKER = String.raw`(?:[-*+]|\d{1,9}[.)])`

/** A task box at the start of a list item's text, behind any further list or quote markers. */
const LEADING_BOX_RE = new RegExp(String.raw`^((?:${LIST_MARKER}[ \t]+|>[ \t]*)*)(\[[^\]]?\])`)

/**
 * A list item's text after Alloy's own marker (`- `): inline(s), and when that text itself begins
 * with a task box (`[ ]`, `[x]`, `[]`), maybe behind more list markers (`- [x]`, `1. [ ]`), the
 * box's `[` is escaped, so the item can never read as a checklist box (a pre-ticked one, say); a
 * leading `>` or `#` (a quote or a heading inside the item) is escaped too.
 */
export function listItem(s: string): string {
  const t = inline(s)
  // a quote or a heading inside the item would hold or be structure of its own: shown as text
  return /^[#>]/.test(t) ? `\\${t}` : t.replace(LEADING_BOX_RE, "$1\\$2")
}

/**
 * Markdown that people read (a pull-request comment): inline(s), never at the start of a line,
 * with the characters that Markdown or HTML acts on inside a line escaped by a backslash (`\`,
 * backticks, `*`, `_`, `~`, brackets, `<`, `>`, `&`), so a link, an image, emphasis, a code span,
 * a tag or an entity shows as the characters it is written with.
 */
export function mdText(s: string): string {
  return inline(s).replace(/[\\`*_[\]<>&~]/g, "\\$&")
}

/**
 * A fenced code block that no content can close: the fence is longer than any backtick run in the
 * text (and at least three), so a line of backticks inside, indented or not, stays content.
 */
export function fenced(text: string, info = ""): string {
  const t = stripControls(text)
  const fence = "`".repeat(Math.max(3, longestBacktickRun(t) + 1))
  return `${fence}${info}\n${t}\n${fence}`
}

/**
 * A value a person or another agent wrote, handed to an agent as data: its JSON text, on one line,
 * with `<` escaped (so no text can close a tag-delimited block such as `</goal>`) and every
 * character `CONTROL_RE` names that JSON leaves as it is (C1 controls, line and paragraph
 * separators, bidirectional and zero-width characters, a BOM) escaped too, so nothing in it is
 * invisible or breaks the line. Decoding it gives back exactly the value.
 */
export function jsonData(value: unknown): string {
  return JSON.stringify(value).replace(JSON_DATA_ESCAPE_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
}
/** `<` and every control character (JSON.stringify has written the C0 ones as escapes already). */
const JSON_DATA_ESCAPE_RE = new RegExp(`<|${CONTROL_RE.source}`, "g")

/** The longest run of backticks in `text` (0 when there is none): a fence must be longer to hold it. */
function longestBacktickRun(text: string): number {
  let longest = 0
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length)
  return longest
}

/** A Markdown code span that no content can close (fence longer than any backtick run inside). */
export function code(s: string): string {
  const t = inline(s)
  const fence = "`".repeat(longestBacktickRun(t) + 1)
  const pad = t.startsWith("`") || t.endsWith("`") || t === "" ? " " : ""
  return `${fence}${pad}${t}${pad}${fence}`
}

/** The quote marker every line of quoted authored text starts with. */
export const QUOTE_PREFIX = "> "

/**
 * Does this line (as authored) need a `\` before its first non-blank character? Headings
 * (`#`), setext underlines (`===`, `---`), checklist items (`- [ ]`, `1. [x]`, also behind more
 * list markers: `- - [x]`), a quote of its own (`>`, which could hold any of these), and a leading
 * backslash itself (so the escape can be undone exactly).
 */
const NEEDS_ESCAPE_RE = new RegExp(String.raw`^[ \t]*(?:[#>\\]|=+[ \t]*$|-+[ \t]*$|(?:${LIST_MARKER}[ \t]+)+\[[^\]\n]?\])`)

/** Multi-line authored text as a quote: every line starts with `> ` (or is `>` when empty). */
export function quote(s: string): string {
  const text = stripControls(s).replace(/^\n+|\s+$/g, "")
  if (!text) return ""
  return text
    .split("\n")
    .map((line) => {
      const l = NEEDS_ESCAPE_RE.test(line) ? line.replace(/^([ \t]*)/, "$1\\") : line
      return l === "" ? ">" : `${QUOTE_PREFIX}${l}`
    })
    .join("\n")
}

/** The exact inverse of `quote` (for parsers and tests): the authored text as `quote` saw it. */
export function unquote(block: string): string {
  return block
    .split("\n")
    .map((line) => {
      const l = line === ">" ? "" : line.startsWith(QUOTE_PREFIX) ? line.slice(QUOTE_PREFIX.length) : line
      return l.replace(/^([ \t]*)\\/, "$1")
    })
    .join("\n")
}

/** What `quote` keeps of a text: `unquote(quote(s)) === quotedContent(s)`. */
export function quotedContent(s: string): string {
  return stripControls(s).replace(/^\n+|\s+$/g, "")
}

// ---- the authoring-time check ------------------------------------------------------------

/** Foundry's own control lines in forge/assay prompts (its agents and Alloy read them by line start). */
const CONTROL_LINE_RE = /^[\s>*_`]*(?:Stage|Cycle|Token|Working directory|File patterns)\s*(?:\(forge only\)\s*)?:/i
/** Foundry's stage-protocol rules ("Your FIRST tool call MUST be foundry_stage_begin…"). */
const PROTOCOL_RULE_RE = /\bYour\s+(?:FIRST|LAST)\s+tool\s+call\s+MUST\b|\b(?:do\s+not|don't|never|must\s+not)\s+(?:call|invoke|use|run|skip)\s+`?foundry_stage_(?:begin|end)\b/i
/** Sections Foundry's prompts are made of, and Alloy's own block heading. */
const SECTION_HEADING_RE = /^[ \t>]*#{1,6}[ \t]*(?:Output|Laws?|Artefact|Flow memory|Extractors|Alloy\b.*|Foundry\b.*|Cycle|Definition|Persona)[ \t]*#*[ \t]*$/i
/** A heading that names a law (`## word-limit`): inside `## Laws` it would start a new law. */
const LAW_HEADING_RE = /^[ \t>]*#{1,6}[ \t]*[a-z0-9]+(?:-[a-z0-9]+)*[ \t]*$/
/** A checklist item (`- [ ]`, `- [x]`): in a sign-off checklist it would be an extra, maybe pre-ticked, box. */
const CHECKLIST_RE = new RegExp(String.raw`^[ \t>]*(?:${LIST_MARKER}[ \t]+)+\[[ xX]?\]`)

export interface UnsafeText {
  /** what is wrong, for the message */
  readonly problem: string
}

const CHAR_NAMES = new Map<number, string>([
  [0x1b, "escape"],
  [0x07, "bell"],
  [0x08, "backspace"],
  [0x00, "NUL"],
  [0x9b, "CSI"],
  [0x9d, "OSC"],
  [0x7f, "delete"],
  [0x2028, "line separator"],
  [0x2029, "paragraph separator"],
  [0x202e, "right-to-left override"],
])

function describeChar(c: string): string {
  const cp = c.codePointAt(0)!
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`
  const name = CHAR_NAMES.get(cp)
  return `${hex}${name ? ` (${name})` : ""}`
}

/**
 * Would this authored text forge Foundry's control lines or sections, or carry control/escape
 * characters? `undefined` when it is safe. Looks at every line of the text.
 */
export function unsafeTextProblem(s: string): UnsafeText | undefined {
  const ctl = HAS_CONTROL_RE.exec(s.replace(/\r\n?/g, "\n"))
  if (ctl) return { problem: `contains the control character ${describeChar(ctl[0])}` }
  const lines = s.replace(/\r\n?/g, "\n").split("\n")
  for (const [i, line] of lines.entries()) {
    const next = lines[i + 1]
    // a setext heading: the line under it is all `=` or `-`
    if (next !== undefined && /^ {0,3}(?:=+|-+)[ \t]*$/.test(next) && (SECTION_HEADING_RE.test(`## ${line.trim()}`) || LAW_HEADING_RE.test(`## ${line.trim()}`))) {
      return { problem: `has a heading that reads like a section of Foundry's prompts (${clipLine(line)} underlined)` }
    }
    if (CONTROL_LINE_RE.test(line)) return { problem: `has a line that reads like one of Foundry's control lines (${clipLine(line)})` }
    if (SECTION_HEADING_RE.test(line)) return { problem: `has a heading that reads like a section of Foundry's prompts (${clipLine(line)})` }
    if (LAW_HEADING_RE.test(line)) return { problem: `has a heading that reads like a Foundry law heading (${clipLine(line)})` }
    if (CHECKLIST_RE.test(line)) return { problem: `has a checklist item (${clipLine(line)}), which would add a box to the sign-off checklist` }
  }
  if (PROTOCOL_RULE_RE.test(s)) return { problem: "gives instructions about Foundry's stage tools (foundry_stage_begin / foundry_stage_end)" }
  return undefined
}

function clipLine(line: string): string {
  const t = line.trim()
  return JSON.stringify(t.length > 60 ? `${t.slice(0, 57)}...` : t)
}

export const UNSAFE_TEXT_FIX =
  "rephrase the text: no control or escape characters, no lines starting with Stage:/Cycle:/Token:, no headings such as `## Output`, `## Laws` or `## <law-id>`, no checklist items (`- [ ]`), and no instructions about Foundry's stage tools"

/** Every string inside a JSON-like value, with its field path (`acceptance_criteria[0].evidence[0].who`). */
export function* authoredStrings(value: unknown, path = ""): Generator<{ path: string; text: string }> {
  if (typeof value === "string") {
    yield { path: path || "(top level)", text: value }
    return
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* authoredStrings(value[i], `${path}[${i}]`)
    return
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      yield* authoredStrings(v, path ? `${path}.${k}` : k)
      // keys are authored too (metadata, stage keys)
      if (HAS_CONTROL_RE.test(k)) yield { path: path ? `${path}.${k}` : k, text: k }
    }
  }
}

/** Every unsafe string in a value, as `{path, message}` details. */
export function unsafeTextIssues(value: unknown, prefix = ""): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = []
  for (const { path, text } of authoredStrings(value, prefix)) {
    const p = unsafeTextProblem(text)
    if (p) out.push({ path, message: p.problem })
  }
  return out
}

/**
 * Refuse authored text that is unsafe (`unsafe_text`): every unsafe field at once, each with its
 * field path; `skip` names top-level keys that never reach a prompt (e.g. `metadata`).
 */
export function assertSafeText(what: string, file: string, fields: Record<string, unknown>, body: string | undefined, skip: readonly string[] = []): void {
  const kept = Object.fromEntries(Object.entries(fields).filter(([k]) => !skip.includes(k)))
  const issues = unsafeTextIssues(kept)
  if (body !== undefined) for (const i of unsafeTextIssues(body, "(body)")) issues.push(i)
  if (!issues.length) return
  const list = issues.map((d) => `  - ${d.path}: ${d.message}`).join("\n")
  throw new AlloyError("unsafe_text", `${file}: ${what} has text that could steer Foundry's agents (${issues.length} field${issues.length === 1 ? "" : "s"}):\n${list}`, {
    file,
    details: issues,
    fix: UNSAFE_TEXT_FIX,
  })
}
