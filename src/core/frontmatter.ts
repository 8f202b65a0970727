/**
 * Markdown files with YAML frontmatter, the way Foundry reads them: the text between the
 * first `---` line and the next `---` line is YAML, the rest is the body. Parsing is bounded
 * (size, aliases) and never throws anything but an AlloyError.
 */
import type { Schema } from "js-yaml"
import type { Document, Pair, Scalar, YAMLMap } from "yaml"
import { jsYaml, yamlLib } from "./yaml-lib.js"
import { AlloyError } from "./errors.js"

/** Largest definition file Alloy will read (1 MiB): larger is refused, never parsed. */
export const MAX_SOURCE_BYTES = 1024 * 1024

export interface FrontmatterSplit {
  /** offset of the first YAML character (after the opening `---` line) */
  readonly yamlStart: number
  /** offset of the closing `---` line */
  readonly yamlEnd: number
  /** offset of the first body character (after the closing line) */
  readonly bodyStart: number
  readonly yaml: string
  readonly body: string
}

const OPEN_RE = /^\uFEFF?---[ \t]*\r?\n/
const CLOSE_RE = /^---[ \t]*(\r?\n|$)/m

export function splitFrontmatter(text: string): FrontmatterSplit | undefined {
  const open = OPEN_RE.exec(text)
  if (!open) return undefined
  const yamlStart = open[0].length
  // an empty frontmatter block: the closing line follows at once
  const rest = text.slice(yamlStart)
  const close = CLOSE_RE.exec(rest)
  if (!close) return undefined
  const yamlEnd = yamlStart + close.index
  const bodyStart = yamlEnd + close[0].length
  return { yamlStart, yamlEnd, bodyStart, yaml: text.slice(yamlStart, yamlEnd), body: text.slice(bodyStart) }
}

export interface ParsedMarkdown {
  readonly data: Record<string, unknown>
  readonly body: string
  readonly split: FrontmatterSplit | undefined
}

/** One strict decoder for every file: without `stream`, each `decode` call stands alone. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** Decode file bytes as strict UTF-8 text; binary junk is refused with a clear message. */
export function decodeText(bytes: Uint8Array, file: string): string {
  if (bytes.byteLength > MAX_SOURCE_BYTES) {
    throw new AlloyError("malformed", `${file}: ${bytes.byteLength} bytes is larger than the ${MAX_SOURCE_BYTES}-byte limit for a definition file; split it (for an intent: into smaller intents)`, {
      file,
    })
  }
  if (bytes.includes(0)) throw new AlloyError("malformed", `${file}: holds NUL bytes; expected a UTF-8 Markdown text file`, { file })
  try {
    return strictUtf8.decode(bytes)
  } catch {
    throw new AlloyError("malformed", `${file}: is not valid UTF-8 text`, { file })
  }
}

export function parseYaml(yaml: string, file: string): { data: unknown; doc: Document.Parsed } {
  let doc: Document.Parsed
  try {
    doc = yamlLib().parseDocument(yaml, { uniqueKeys: true, prettyErrors: true, strict: true })
  } catch (e) {
    throw new AlloyError("malformed", `${file}: frontmatter YAML could not be parsed (${(e as Error).message ?? e})`, { file })
  }
  const err = doc.errors[0]
  if (err) {
    const where = err.linePos?.[0] ? ` at line ${err.linePos[0].line + 1}` : ""
    throw new AlloyError("malformed", `${file}: frontmatter is not valid YAML${where}: ${err.message.split("\n")[0]}`, { file })
  }
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount: 64 })
  } catch (e) {
    const msg = e instanceof RangeError ? "it is nested too deeply" : (e as Error).message
    throw new AlloyError("malformed", `${file}: frontmatter YAML could not be read: ${msg}`, { file })
  }
  return { data, doc }
}

/**
 * The YAML 1.2 core schema exactly as the round-trip parser above resolves plain scalars (the same
 * patterns and the same conversions), for the fast reader below: a plain scalar means the same
 * value whichever of the two reads it.
 */
const CORE_NULL = /^(?:~|[Nn]ull|NULL)?$/
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/
const CORE_INT = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/
const CORE_FLOAT_SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$|^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/
/** The first characters (ASCII codes) of every core null, bool, int and float spelling above: `~ n N t T f F + - . 0-9`. */
const MAY_BE_TYPED: readonly boolean[] = Array.from({ length: 128 }, (_, c) => "~nNtTfF+-.0123456789".includes(String.fromCharCode(c)))
/** A plain scalar's value under the core schema (the same patterns and conversions as below). */
function plainValue(s: string): unknown {
  // text that starts with a character no null, bool, int or float spelling starts with is text
  if (s.length > 0 && MAY_BE_TYPED[s.charCodeAt(0)] !== true) return s
  if (CORE_NULL.test(s)) return null
  if (CORE_BOOL.test(s)) return s[0] === "t" || s[0] === "T"
  if (CORE_INT.test(s)) return s.startsWith("0o") ? parseInt(s.slice(2), 8) : s.startsWith("0x") ? parseInt(s.slice(2), 16) : parseInt(s, 10)
  if (CORE_FLOAT_SPECIAL.test(s)) return s.slice(-3).toLowerCase() === "nan" ? Number.NaN : s[0] === "-" ? -Infinity : Infinity
  if (CORE_FLOAT.test(s)) return parseFloat(s)
  return s
}

/** js-yaml's schema for the YAML 1.2 core schema, made when js-yaml is first needed. */
let coreSchema: Schema | undefined
function coreSchema12(): Schema {
  if (coreSchema) return coreSchema
  const { FAILSAFE_SCHEMA, Type } = jsYaml()
  coreSchema = FAILSAFE_SCHEMA.extend({
    implicit: [
      new Type("tag:yaml.org,2002:null", { kind: "scalar", resolve: (s: string | null) => s === null || CORE_NULL.test(s), construct: () => null }),
      new Type("tag:yaml.org,2002:bool", { kind: "scalar", resolve: (s: string | null) => s !== null && CORE_BOOL.test(s), construct: (s: string) => s[0] === "t" || s[0] === "T" }),
      new Type("tag:yaml.org,2002:int", {
        kind: "scalar",
        resolve: (s: string | null) => s !== null && CORE_INT.test(s),
        construct: (s: string) => (s.startsWith("0o") ? parseInt(s.slice(2), 8) : s.startsWith("0x") ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
      }),
      new Type("tag:yaml.org,2002:float", {
        kind: "scalar",
        resolve: (s: string | null) => s !== null && (CORE_FLOAT_SPECIAL.test(s) || CORE_FLOAT.test(s)),
        construct: (s: string) => (CORE_FLOAT_SPECIAL.test(s) ? (s.slice(-3).toLowerCase() === "nan" ? Number.NaN : s[0] === "-" ? -Infinity : Infinity) : parseFloat(s)),
      }),
    ],
  })
  return coreSchema
}

/**
 * The one-line forms the fast reader takes: blank and comment lines, `key: value`, `- value` and
 * `- key: value`, where a value is a plain scalar on one line, a quoted scalar on one line, or a
 * one-line flow list or mapping of simple items (the pin convention's `alloy: { brief_id: …, digest: "…" }`). Foundry's definitions and Alloy's pins are written this way.
 * Anything else — block scalars, multi-line or nested flow collections, anchors, aliases, tags, tabs, complex
 * keys, document markers — is left to the round-trip parser, where the two could differ.
 */
const KEY = "[A-Za-z0-9_][A-Za-z0-9_./-]*"
const PLAIN = String.raw`(?:[^\s\-?:,\[\]{}#&*!|>'"%@\x60]|-(?=[^\s]))(?:[^:#\s]|:(?=[^\s])|[ ]+(?=[^\s#]))*`
const QUOTED = String.raw`"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'`
const ITEM = `(?:[A-Za-z0-9_./+][A-Za-z0-9_./+-]*|${QUOTED})`
const FLOW_LIST = String.raw`\[[ ]*(?:${ITEM}(?:[ ]*,[ ]*${ITEM})*)?[ ]*\]`
const FLOW_MAP = String.raw`\{[ ]*(?:${KEY}:[ ]+${ITEM}(?:[ ]*,[ ]*${KEY}:[ ]+${ITEM})*)?[ ]*\}`
const VALUE = `(?:${PLAIN}|${QUOTED}|${FLOW_LIST}|${FLOW_MAP})`
const END = String.raw`(?:[ ]+#.*)?[ ]*\r?$`
const PLAIN_LINE = new RegExp(String.raw`^(?:[ ]*(?:#.*)?\r?$|[ ]*(?:-[ ]+)?(?:${KEY}:(?:[ ]+${VALUE})?|-[ ]+${VALUE})${END})`)

/**
 * The lines of a frontmatter written only in the one-line forms (PLAIN_LINE), as the line reader
 * takes them: blank and comment lines left out, each other line as its indent (spaces) and its text
 * without the indent, the line end and trailing spaces; undefined when a line is of another form.
 * One pass, two arrays: a scan reads a thousand small definition files, each once, mostly before
 * the engine has compiled this code, so what it allocates and calls per line is what it costs.
 */
function plainLines(yaml: string): { indents: number[]; texts: string[] } | undefined {
  const indents: number[] = []
  const texts: string[] = []
  const n = yaml.length
  let start = 0
  while (start <= n) {
    let end = yaml.indexOf("\n", start)
    if (end === -1) end = n
    if (!PLAIN_LINE.test(yaml.slice(start, end))) return undefined
    let i = start
    while (i < end && yaml.charCodeAt(i) === 0x20) i++
    let e = end
    if (e > i && yaml.charCodeAt(e - 1) === 0x0d) e--
    // a blank line, or a comment line
    if (i < e && yaml.charCodeAt(i) !== 0x23) {
      while (e > i && yaml.charCodeAt(e - 1) === 0x20) e--
      indents.push(i - start)
      texts.push(yaml.slice(i, e))
    }
    start = end + 1
  }
  return { indents, texts }
}

/** Keys the two parsers spell differently (a null key, a collection as a key): the round-trip parser decides. */
function hasAmbiguousKey(value: unknown, depth = 0): boolean {
  if (depth > 64) return true
  if (Array.isArray(value)) return value.some((v) => hasAmbiguousKey(v, depth + 1))
  if (value === null || typeof value !== "object") return false
  for (const k of Object.keys(value)) {
    if (k === "null" || k === "" || k.includes("[object") || k.includes(",")) return true
    if (hasAmbiguousKey((value as Record<string, unknown>)[k], depth + 1)) return true
  }
  return false
}

/** Answer of the line reader for text it leaves to js-yaml. */
const CANNOT: unique symbol = Symbol("cannot")

const LINE_KEY = new RegExp(`^(${KEY}):(?:[ ]+(.*))?$`)
const FLOW_ITEM = new RegExp(`^(?:${ITEM})`)
const FLOW_KEY = new RegExp(`^(${KEY}):[ ]+`)

/** A one-line scalar's text without its trailing comment and spaces (the line already matched PLAIN_LINE). */
function stripComment(v: string): string {
  const hash = v.indexOf(" #")
  return (hash === -1 ? v : v.slice(0, hash)).replace(/[ ]+$/, "")
}

/** A quoted scalar: single quotes with '' for a quote; double quotes only without escapes (the rest is left to js-yaml). */
function quoted(q: string): string | typeof CANNOT {
  if (q[0] === "'") return q.slice(1, -1).replace(/''/g, "'")
  return q.includes("\\") ? CANNOT : q.slice(1, -1)
}

/** A key exactly as js-yaml keeps it: only keys that stay text (no null, bool or number spelling). */
function lineKey(k: string): string | typeof CANNOT {
  return typeof plainValue(k) === "string" && k !== "null" ? k : CANNOT
}

/** One flow item (a plain word or a quoted scalar) at the start of `t`: its value and length. */
function flowItem(t: string): { value: unknown; length: number } | typeof CANNOT {
  const m = FLOW_ITEM.exec(t)
  if (!m) return CANNOT
  const text = m[0]
  const value = text[0] === "'" || text[0] === '"' ? quoted(text) : plainValue(text)
  return value === CANNOT ? CANNOT : { value, length: text.length }
}

/** A one-line flow list or mapping of simple items, `[a, 'b']` or `{ k: v }`. */
function flowValue(v: string): unknown {
  const close = v[0] === "[" ? "]" : "}"
  if (!v.endsWith(close)) return CANNOT
  let t = v.slice(1, -1).trim()
  const list: unknown[] = []
  const map: Record<string, unknown> = {}
  while (t.length > 0) {
    if (close === "}") {
      const k = FLOW_KEY.exec(t)
      if (!k) return CANNOT
      const key = lineKey(k[1]!)
      if (key === CANNOT || Object.hasOwn(map, key)) return CANNOT
      t = t.slice(k[0].length)
      const item = flowItem(t)
      if (item === CANNOT) return CANNOT
      map[key] = item.value
      t = t.slice(item.length)
    } else {
      const item = flowItem(t)
      if (item === CANNOT) return CANNOT
      list.push(item.value)
      t = t.slice(item.length)
    }
    t = t.trimStart()
    if (t.length === 0) break
    if (t[0] !== ",") return CANNOT
    t = t.slice(1).trimStart()
    if (t.length === 0) return CANNOT // a trailing comma: js-yaml decides
  }
  return close === "]" ? list : map
}

/** The value written after `key: ` or `- ` on one line. */
function lineValue(raw: string): unknown {
  const v = raw[0] === "'" || raw[0] === '"' || raw[0] === "[" || raw[0] === "{" ? raw.replace(/(?:[ ]+#.*)?[ ]*$/, "") : stripComment(raw)
  if (v[0] === "'" || v[0] === '"') {
    // the whole value must be one quoted scalar
    const m = FLOW_ITEM.exec(v)
    return m && m[0].length === v.length ? quoted(v) : CANNOT
  }
  if (v[0] === "[" || v[0] === "{") return flowValue(v)
  return plainValue(v)
}

/** How deep the line reader nests before it leaves the text to js-yaml. */
const MAX_LINE_DEPTH = 64

/**
 * The line reader: frontmatter of the one-line forms (plainLines) read without js-yaml, which
 * spends most of a verify scan's time on Foundry's small definition files. It reads block mappings
 * and sequences by indentation and one-line values, and answers CANNOT for anything it does not
 * read exactly as js-yaml does (an unusual indent, a duplicate key, a key spelled like a number, an
 * escape in a double-quoted scalar, a top level that is not a mapping, nesting deeper than
 * MAX_LINE_DEPTH...): js-yaml then decides. Its keys are never ambiguous (hasAmbiguousKey): KEY
 * holds no comma, bracket or empty key, and lineKey refuses every null spelling.
 */
function readLineYaml(lines: { indents: number[]; texts: string[] }): unknown {
  const { indents, texts } = lines
  const count = texts.length
  if (count === 0 || indents[0] !== 0 || texts[0]!.startsWith("- ")) return CANNOT
  let i = 0
  let depth = 0

  const node = (indent: number): unknown => (texts[i]!.startsWith("- ") ? sequence(indent) : mapping(indent))
  /** each collection one level deeper: too deep is left to js-yaml, and the stack stays short */
  const nested = (read: (indent: number) => unknown, indent: number): unknown => {
    if (++depth > MAX_LINE_DEPTH) return CANNOT
    const v = read(indent)
    depth--
    return v
  }

  function sequence(indent: number): unknown {
    const out: unknown[] = []
    while (i < count && indents[i] === indent && texts[i]!.startsWith("- ")) {
      const text = texts[i]!
      const rest = text.slice(2).trimStart()
      if (rest.startsWith("- ") || rest === "-") return CANNOT
      if (LINE_KEY.test(rest)) {
        // `- key: value`: a mapping whose keys line up with this first one
        indents[i] = indents[i]! + (text.length - rest.length)
        texts[i] = rest
        const m = nested(mapping, indents[i]!)
        if (m === CANNOT) return CANNOT
        out.push(m)
      } else {
        const v = lineValue(rest)
        if (v === CANNOT) return CANNOT
        out.push(v)
        i++
      }
    }
    if (i < count && indents[i]! >= indent) return CANNOT
    return out
  }

  function mapping(indent: number): unknown {
    const out: Record<string, unknown> = {}
    while (i < count && indents[i] === indent) {
      const text = texts[i]!
      const m = LINE_KEY.exec(text)
      if (!m || text.startsWith("- ")) return CANNOT
      const key = lineKey(m[1]!)
      if (key === CANNOT || Object.hasOwn(out, key) || key === "__proto__") return CANNOT
      i++
      let value: unknown
      if (m[2] !== undefined && m[2] !== "" && m[2][0] !== "#") value = lineValue(m[2])
      else if (i < count && indents[i]! > indent) value = nested(node, indents[i]!)
      else if (i < count && indents[i] === indent && texts[i]!.startsWith("- ")) value = nested(sequence, indent)
      else value = null
      if (value === CANNOT) return CANNOT
      out[key] = value
    }
    if (i < count && indents[i]! > indent) return CANNOT
    return out
  }

  const data = mapping(0)
  return i === count ? data : CANNOT
}

/**
 * The data of a frontmatter block, read once: plain YAML (nearly every Foundry definition, intent
 * and recipe) goes through the line reader, or else js-yaml with the core schema above, several
 * times faster than building a round-trip document; anything else — and anything js-yaml refuses —
 * goes through `parseYaml`, which decides it and words the error exactly as before.
 */
export function parseYamlData(yaml: string, file: string): unknown {
  const lines = plainLines(yaml)
  if (lines) {
    const read = readLineYaml(lines)
    if (read !== CANNOT) return read
    let data: unknown
    try {
      data = jsYaml().load(yaml, { schema: coreSchema12(), filename: file })
    } catch {
      data = undefined // refused (or too deep): the round-trip parser words it
    }
    if (data !== undefined && !hasAmbiguousKey(data)) return data
    if (data === undefined && yaml.trim() === "") return null
  }
  return parseYaml(yaml, file).data
}

/**
 * Parse a Markdown file with frontmatter. `requireFrontmatter` makes a file without it an error.
 */
export function parseMarkdown(text: string, file: string, requireFrontmatter = true): ParsedMarkdown {
  const split = splitFrontmatter(text)
  if (!split) {
    if (requireFrontmatter) {
      throw new AlloyError("malformed", `${file}: has no YAML frontmatter (a first line "---", the YAML, then a closing "---" line)`, { file })
    }
    return { data: {}, body: text, split: undefined }
  }
  let parsed: unknown
  try {
    parsed = parseYamlData(split.yaml, file)
  } catch (e) {
    if (e instanceof RangeError) throw new AlloyError("malformed", `${file}: frontmatter is nested too deeply`, { file })
    throw e
  }
  const data = parsed ?? {}
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new AlloyError("malformed", `${file}: frontmatter must be a YAML mapping of keys to values`, { file })
  }
  return { data: data as Record<string, unknown>, body: split.body, split }
}

/** Render a value as a YAML scalar in the given style (keeps a user's quoting choice). */
function scalarText(value: string, style: Scalar.Type | undefined): string {
  if (style === "QUOTE_DOUBLE") return JSON.stringify(value)
  if (style === "QUOTE_SINGLE") return `'${value.replace(/'/g, "''")}'`
  return value
}

/**
 * Set `key: { k: v, ... }` (string values) in a file's frontmatter, changing nothing else:
 * existing scalars are replaced in place (comments and quoting kept), missing keys are
 * inserted in the block's own style, and a missing block is appended before the closing
 * `---`. Returns the new file text. Works on the original text, never on a re-serialisation.
 */
export function setFrontmatterBlock(text: string, file: string, key: string, values: Record<string, string>): string {
  const split = splitFrontmatter(text)
  if (!split) throw new AlloyError("malformed", `${file}: has no YAML frontmatter to add \`${key}\` to`, { file })
  const { doc } = parseYaml(split.yaml, file)
  const { isMap, isScalar } = yamlLib()
  const root = doc.contents
  const empty = root === null || (isScalar(root) && (root.value === null || root.value === ""))
  if (!empty && !isMap(root)) throw new AlloyError("malformed", `${file}: frontmatter must be a YAML mapping`, { file })
  const nl = split.yaml.includes("\r\n") || text.slice(0, split.yamlStart).includes("\r\n") ? "\r\n" : "\n"
  const pair = empty ? undefined : ((root as YAMLMap).items.find((p: Pair) => isScalar(p.key) && p.key.value === key) as Pair | undefined)
  const edits: Array<{ start: number; end: number; text: string }> = []

  const freshBlock = (indent: string) =>
    Object.entries(values)
      .map(([k, v]) => `${indent}${k}: ${JSON.stringify(v)}`)
      .join(nl)

  if (!pair) {
    const at = split.yaml.length
    const prefix = at === 0 || split.yaml.endsWith("\n") ? "" : nl
    edits.push({ start: at, end: at, text: `${prefix}${key}:${nl}${freshBlock("  ")}${nl}` })
  } else if (isMap(pair.value) && pair.value.range) {
    const map = pair.value as YAMLMap
    const missing: string[] = []
    for (const [k, v] of Object.entries(values)) {
      const item = map.items.find((p: Pair) => isScalar(p.key) && p.key.value === k) as Pair | undefined
      if (item && isScalar(item.value) && item.value.range) {
        const [s, e] = item.value.range
        edits.push({ start: s, end: e, text: scalarText(v, (item.value as Scalar).type) })
      } else if (item?.value && (item.value as { range?: [number, number, number] }).range) {
        const [s, e] = (item.value as { range: [number, number, number] }).range
        edits.push({ start: s, end: e, text: JSON.stringify(v) })
      } else {
        missing.push(k)
      }
    }
    if (missing.length) {
      const [ms, me] = map.range!
      if (map.flow) {
        // `{ a: 1 }` -> `{ a: 1, b: "x" }`: insert before the closing brace
        const close = split.yaml.lastIndexOf("}", me)
        const inner = split.yaml.slice(ms + 1, close).trim()
        const add = missing.map((k) => `${k}: ${JSON.stringify(values[k])}`).join(", ")
        edits.push({ start: close, end: close, text: `${inner ? ", " : " "}${add} ` })
      } else {
        const firstItem = map.items[0]
        const lineStart = split.yaml.lastIndexOf("\n", (firstItem?.key as { range?: number[] } | undefined)?.range?.[0] ?? ms) + 1
        const indent = /^[ \t]*/.exec(split.yaml.slice(lineStart))![0] || "  "
        const insertAt = me
        const needNl = insertAt > 0 && split.yaml[insertAt - 1] !== "\n" ? nl : ""
        edits.push({ start: insertAt, end: insertAt, text: `${needNl}${missing.map((k) => `${indent}${k}: ${JSON.stringify(values[k])}`).join(nl)}${nl}` })
      }
    }
  } else {
    // present but not a mapping (or empty): replace the value with a fresh block
    const valueRange = (pair.value as { range?: [number, number, number] } | null)?.range
    const keyEnd = (pair.key as { range?: [number, number, number] }).range![1]
    const colon = split.yaml.indexOf(":", keyEnd)
    const start = colon + 1
    const end = valueRange ? valueRange[1] : start
    edits.push({ start, end, text: `${nl}${freshBlock("  ")}` })
  }

  let yaml = split.yaml
  for (const e of edits.sort((a, b) => b.start - a.start)) yaml = yaml.slice(0, e.start) + e.text + yaml.slice(e.end)
  return text.slice(0, split.yamlStart) + yaml + text.slice(split.yamlEnd)
}

/**
 * Set one top-level scalar key (`key: value`) in a file's frontmatter, changing nothing else: an
 * existing scalar value is replaced in place (its comment kept), a missing key is appended at the
 * end of the block. Returns the new file text.
 */
export function setFrontmatterScalar(text: string, file: string, key: string, value: string | number | boolean): string {
  const split = splitFrontmatter(text)
  if (!split) throw new AlloyError("malformed", `${file}: has no YAML frontmatter to add \`${key}\` to`, { file })
  const { doc } = parseYaml(split.yaml, file)
  const root = doc.contents
  if (root !== null && !yamlLib().isMap(root)) throw new AlloyError("malformed", `${file}: frontmatter must be a YAML mapping`, { file })
  const rendered = typeof value === "string" ? JSON.stringify(value) : String(value)
  const pair = root ? ((root as YAMLMap).items.find((p: Pair) => yamlLib().isScalar(p.key) && (p.key as Scalar).value === key) as Pair | undefined) : undefined
  let yaml = split.yaml
  if (pair && yamlLib().isScalar(pair.value) && (pair.value as Scalar).range) {
    const [s, e] = (pair.value as Scalar).range!
    yaml = yaml.slice(0, s) + rendered + yaml.slice(e)
  } else if (pair) {
    throw new AlloyError("malformed", `${file}: \`${key}\` is not a single value; set it to ${rendered} by hand`, { file })
  } else {
    const nl = split.yaml.includes("\r\n") ? "\r\n" : "\n"
    yaml = `${yaml}${yaml.length === 0 || yaml.endsWith("\n") ? "" : nl}${key}: ${rendered}${nl}`
  }
  return text.slice(0, split.yamlStart) + yaml + text.slice(split.yamlEnd)
}
