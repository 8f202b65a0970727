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

const USAGE_CODES = new Set(["usage", "not_initialised", "invalid_id", "invalid_stage", "work_branch", "cycle_not_found"])

export function exitCodeFor(err: AlloyError): number {
  return USAGE_CODES.has(err.code) ? EXIT_USAGE : EXIT_FAIL
}

export function reportError(io: Io, e: unknown, command: string): number {
  const err = toAlloyError(e)
  if (io.json) io.out(JSON.stringify({ ok: false, command, ...err.toJSON() }, null, 2))
  else {
    io.err(`opencode-alloy${command ? ` ${command}` : ""}: ${err.describe()}`)
    if (err.fix) io.err(`  fix: ${err.fix}`)
  }
  return exitCodeFor(err)
}

export function usageError(message: string, fix?: string): AlloyError {
  return new AlloyError("usage", message, fix ? { fix } : {})
}
