/**
 * Errors are part of Alloy's interface: every failure carries a stable `code`,
 * a message a person can act on, and (where there is one) the command that fixes it.
 */

export const ERROR_CODES = [
  "invalid_id",
  "invalid_digest",
  "invalid_stage",
  "brief_not_found",
  "intent_not_found",
  "cycle_not_found",
  "object_missing",
  "digest_mismatch",
  "brief_id_mismatch",
  "not_pinned",
  "ambiguous_pin",
  "malformed",
  "invalid_intent",
  "invalid_recipe",
  "already_exists",
  "lint_failed",
  "work_branch",
  "unsafe_path",
  "io_error",
  "not_initialised",
  "usage",
  "unsupported_protocol",
  "incompatible",
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ErrorDetail {
  /** where: a file (relative to the project root), a key path, or a field */
  readonly path?: string
  readonly message: string
}

export class AlloyError extends Error {
  readonly code: ErrorCode
  readonly fix: string | undefined
  readonly file: string | undefined
  readonly details: readonly ErrorDetail[]

  constructor(
    code: ErrorCode,
    message: string,
    opts: { fix?: string; file?: string; details?: readonly ErrorDetail[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = "AlloyError"
    this.code = code
    this.fix = opts.fix
    this.file = opts.file
    this.details = opts.details ?? []
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      error: this.message,
      ...(this.fix ? { fix: this.fix } : {}),
      ...(this.file ? { file: this.file } : {}),
      ...(this.details.length ? { details: this.details } : {}),
    }
  }
}

export function isAlloyError(e: unknown): e is AlloyError {
  return e instanceof AlloyError
}

/** Turn anything thrown into an AlloyError without losing an existing code. */
export function toAlloyError(e: unknown, fallback: ErrorCode = "io_error"): AlloyError {
  if (e instanceof AlloyError) return e
  const err = e as NodeJS.ErrnoException | undefined
  const msg = err && typeof err.message === "string" ? err.message : String(e)
  return new AlloyError(fallback, msg, { cause: e })
}
