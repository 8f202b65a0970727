/** CLI plumbing: output streams, JSON mode, and turning errors into exit codes (never a stack trace). */
import { AlloyError, toAlloyError } from "../core/errors.js"

export const EXIT_OK = 0
/** a pin (or the content a command checks) failed */
export const EXIT_FAIL = 1
/** usage or configuration error */
export const EXIT_USAGE = 2

export interface Io {
  out(s: string): void
  err(s: string): void
  readonly cwd: string
  readonly json: boolean
  /** colours on stdout: only on a terminal, never with NO_COLOR */
  readonly color: boolean
}

/**
 * Colours only when asked for, only on a terminal (`terminal`: is standard output one), and never
 * when NO_COLOR has a value (any but the empty one: a `NO_COLOR=` left empty by a script does not
 * count, as other tools read it).
 */
export function wantsColor(terminal: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return terminal && !env["NO_COLOR"] && env["TERM"] !== "dumb"
}

const SGR = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const

/** Exactly the colour codes `paint` writes (kept by `visible` on a colour terminal). */
const PAINT_RE = /(\u001b\[(?:0|1|2|31|32|33)m)/

/** Wrap text in one ANSI colour when the output takes colours; the text unchanged otherwise. */
export function paint(io: Pick<Io, "color">, colour: keyof typeof SGR, text: string): string {
  return io.color ? `\u001b[${SGR[colour]}m${text}\u001b[0m` : text
}

/**
 * Make control and escape characters visible for a terminal: ESC becomes `\x1b`, a C1 control
 * `\x9b`, a bidirectional override `\u202e`, and so on, so no text from an intent, a Foundry file
 * or a run record can clear the screen, write the clipboard (OSC 52) or reorder a line. Line
 * breaks and tabs stay. Text output only: `--json` output is exact JSON and never passes here.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_TERMINAL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g

export function visible(s: string, opts: { colours?: boolean } = {}): string {
  const esc = (t: string) =>
    t.replace(/\r\n/g, "\n").replace(UNSAFE_TERMINAL_RE, (c) => {
      const cp = c.codePointAt(0)!
      return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`
    })
  if (!opts.colours) return esc(s)
  // on a colour terminal the exact colour codes `paint` writes stay; everything else is escaped
  return s
    .split(PAINT_RE)
    .map((part, i) => (i % 2 === 1 ? part : esc(part)))
    .join("")
}

/** The same Io, with every text line made terminal-safe (`visible`); JSON mode is left exact. */
export function terminalSafe(io: Io): Io {
  if (io.json) return io
  const colours = io.color
  return { ...io, out: (s) => io.out(visible(s, { colours })), err: (s) => io.err(visible(s, { colours })) }
}

/** Usage or configuration errors (exit 2): a wrong command line, or a name (brief, intent, cycle) that is not there. */
const USAGE_CODES = new Set(["usage", "not_initialised", "invalid_id", "invalid_stage", "work_branch", "not_config_branch", "cycle_not_found", "brief_not_found", "intent_not_found"])

export function exitCodeFor(err: AlloyError): number {
  return USAGE_CODES.has(err.code) ? EXIT_USAGE : EXIT_FAIL
}

/** A usage error (exit 2) with a specific code, for a name on the command line that does not exist. */
export function unknownNameError(code: "brief_not_found" | "intent_not_found", message: string, fix: string): AlloyError {
  return new AlloyError(code, message, { fix })
}

export function reportError(io: Io, e: unknown, command: string): number {
  const err = toAlloyError(e)
  if (io.json) io.out(JSON.stringify({ ok: false, ...(command ? { command } : {}), ...err.toJSON() }, null, 2))
  else {
    io.err(`opencode-alloy${command ? ` ${command}` : ""}: ${err.describe()}`)
    if (err.fix) io.err(`  fix: ${err.fix}`)
  }
  return exitCodeFor(err)
}

export function usageError(message: string, fix?: string): AlloyError {
  return new AlloyError("usage", message, fix ? { fix } : {})
}

/**
 * Print a JSON object whose arrays may hold hundreds of thousands of entries (every run record of a
 * project) without building the whole text first: the top-level keys one by one, each array one entry
 * to a line. The text parses to exactly what `JSON.stringify(value)` would give (functions and
 * `undefined` dropped the same way); only the layout differs. Memory: one entry at a time.
 */
export function outJsonStreamed(io: Pick<Io, "out">, value: Record<string, unknown>): void {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== "function" && typeof v !== "symbol")
  io.out("{")
  entries.forEach(([k, v], n) => {
    const tail = n === entries.length - 1 ? "" : ","
    if (!Array.isArray(v) || v.length === 0) {
      io.out(`  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replace(/\n/g, "\n  ")}${tail}`)
      return
    }
    io.out(`  ${JSON.stringify(k)}: [`)
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as unknown
      // inside an array, JSON.stringify writes null for what it cannot represent
      const text = x === undefined || typeof x === "function" || typeof x === "symbol" ? "null" : JSON.stringify(x)
      io.out(`    ${text}${i === v.length - 1 ? "" : ","}`)
    }
    io.out(`  ]${tail}`)
  })
  io.out("}")
}
