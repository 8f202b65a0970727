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
  readonly color: boolean
}

/**
 * Make control and escape characters visible for a terminal: ESC becomes `\x1b`, a C1 control
 * `\x9b`, a bidirectional override `\u202e`, and so on, so no text from an intent, a Foundry file
 * or a run record can clear the screen, write the clipboard (OSC 52) or reorder a line. Line
 * breaks and tabs stay. Text output only: `--json` output is exact JSON and never passes here.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_TERMINAL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g

export function visible(s: string): string {
  return s.replace(/\r\n/g, "\n").replace(UNSAFE_TERMINAL_RE, (c) => {
    const cp = c.codePointAt(0)!
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`
  })
}

/** The same Io, with every text line made terminal-safe (`visible`); JSON mode is left exact. */
export function terminalSafe(io: Io): Io {
  if (io.json) return io
  return { ...io, out: (s) => io.out(visible(s)), err: (s) => io.err(visible(s)) }
}

const USAGE_CODES = new Set(["usage", "not_initialised", "invalid_id", "invalid_stage", "work_branch", "cycle_not_found"])

export function exitCodeFor(err: AlloyError): number {
  return USAGE_CODES.has(err.code) ? EXIT_USAGE : EXIT_FAIL
}

export function reportError(io: Io, e: unknown, command: string): number {
  const err = e instanceof AlloyError ? e : toAlloyError(e)
  if (io.json) io.out(JSON.stringify({ ok: false, command, ...err.toJSON() }, null, 2))
  else {
    io.err(`opencode-alloy${command ? ` ${command}` : ""}: ${err.message}`)
    if (err.fix) io.err(`  fix: ${err.fix}`)
  }
  return exitCodeFor(err)
}

export function usageError(message: string, fix?: string): AlloyError {
  return new AlloyError("usage", message, fix ? { fix } : {})
}
