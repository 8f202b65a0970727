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
  "merge_conflict",
  "ungated",
  "work_branch",
  // the formation designer writes Foundry config only on a config/* branch, and only config Foundry accepts
  "not_config_branch",
  "config_invalid",
  "unsafe_path",
  "unsafe_text",
  "io_error",
  "not_initialised",
  "usage",
  // a team store (OCI registry): docs/oci-store.md
  "auth_failed",
  "quota_exceeded",
  "network_error",
  "registry_error",
  // the bridge: docs/bridge.md
  "idempotency_conflict",
  "unsupported_foundry",
  "bridge_error",
  // a pinned stage under a Foundry protocol Alloy does not know: docs/generations.md
  "unsupported_protocol",
  // the committed evidence ledger: docs/ledger.md
  "no_identity",
  "commit_failed",
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ErrorDetail {
  /** where: a file (relative to the project root), a key path, or a field */
  readonly path?: string
  readonly message: string
}

/**
 * Where a failure happened, as data. Layers add what they know (`withContext`) instead of gluing
 * prefixes onto the message, so every consumer (CLI, tools, hooks, JSON) renders one location the
 * same way and can read the cycle or brief without parsing text.
 */
export interface ErrorContext {
  /** the file the problem is in (project-relative) */
  readonly file?: string
  readonly cycle?: string
  readonly flow?: string
  readonly brief?: string
  /** a key path inside the file, e.g. `acceptance_criteria[1].evidence` */
  readonly field?: string
  readonly stage?: string
  /** the cycle or flow definition the pin was read from (project-relative) */
  readonly source_file?: string
}

const CONTEXT_KEYS = ["file", "cycle", "flow", "brief", "field", "stage", "source_file"] as const

/**
 * How long an error's message, and each detail's path and message, may be. Messages quote what was
 * read (a key, a value, a line), and what was read can be megabytes made to be quoted: a pinned
 * object with a 1 MB key made a 1 MB `verify` line. Past this the text is cut and says by how much.
 */
export const MAX_MESSAGE = 8_000

/**
 * `text` in at most MAX_MESSAGE characters, the cut one saying how many were left out; a text cut
 * once is not cut again (an error given more context is made anew from its message).
 */
export function boundText(text: string): string {
  if (text.length <= MAX_MESSAGE) return text
  // room for "… (<count> more characters)" within the bound
  const keep = MAX_MESSAGE - 40
  return `${text.slice(0, keep)}… (${text.length - keep} more characters)`
}

const boundDetail = (d: ErrorDetail): ErrorDetail =>
  (d.path?.length ?? 0) <= MAX_MESSAGE && d.message.length <= MAX_MESSAGE ? d : { ...d, ...(d.path === undefined ? {} : { path: boundText(d.path) }), message: boundText(d.message) }

export class AlloyError extends Error {
  readonly code: ErrorCode
  readonly fix: string | undefined
  readonly details: readonly ErrorDetail[]
  readonly context: ErrorContext

  constructor(code: ErrorCode, message: string, opts: ErrorContext & { fix?: string | undefined; details?: readonly ErrorDetail[]; cause?: unknown } = {}) {
    super(boundText(message), opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = "AlloyError"
    this.code = code
    this.fix = opts.fix
    this.details = opts.details?.map(boundDetail) ?? []
    const context: Record<string, string> = {}
    for (const k of CONTEXT_KEYS) {
      const v = opts[k]
      if (typeof v === "string" && v !== "") context[k] = v
    }
    this.context = context
  }

  get file(): string | undefined {
    return this.context.file
  }

  /** The same error with more context; what the error already knew stays (the inner layer knew more). */
  withContext(more: ErrorContext): AlloyError {
    const merged: ErrorContext = { ...more, ...this.context }
    const e = new AlloyError(this.code, this.message, { ...merged, fix: this.fix, details: this.details, cause: this.cause })
    return e
  }

  /** The message with its location: `cycle draft (foundry/cycles/draft.md): <message>`. */
  describe(): string {
    const c = this.context
    const owner = c.cycle !== undefined ? `cycle ${c.cycle}` : c.flow !== undefined ? `flow ${c.flow}` : undefined
    if (owner === undefined) return c.source_file ? `${c.source_file}: ${this.message}` : this.message
    return `${owner}${c.source_file ? ` (${c.source_file})` : ""}: ${this.message}`
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      error: this.describe(),
      ...(this.fix ? { fix: this.fix } : {}),
      ...this.context,
      ...(this.details.length ? { details: this.details } : {}),
    }
  }
}

/** The JSON view of any failure: code, located message, fix, context and details. */
export function errorView(e: unknown): { code: ErrorCode; message: string; fix?: string; details?: readonly ErrorDetail[] } & ErrorContext {
  const err = toAlloyError(e)
  return {
    code: err.code,
    message: err.describe(),
    ...(err.fix ? { fix: err.fix } : {}),
    ...err.context,
    ...(err.details.length ? { details: err.details } : {}),
  }
}

export function isAlloyError(e: unknown): e is AlloyError {
  return e instanceof AlloyError
}

/** A reason for an operating-system failure that names no path (Node's messages carry absolute paths). */
export function describeIoError(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined
  switch (err?.code) {
    case "ENOSPC":
      return "the disk is full"
    case "EROFS":
      return "the file system is read-only"
    case "EACCES":
    case "EPERM":
      return "permission denied"
    case "EDQUOT":
      return "the disk quota is exceeded"
    case "ENOENT":
      return "a folder on the way does not exist"
    case "EMFILE":
    case "ENFILE":
      return "too many open files"
    default:
      return err?.code ? `${err.code}${err.syscall ? ` in ${err.syscall}` : ""}` : stripAbsolutePaths(String((err as Error | undefined)?.message ?? e))
  }
}

/**
 * The one conversion from anything thrown to an AlloyError. An AlloyError keeps its code (and
 * gains the context); an operating-system error becomes `io_error` with a message that names no
 * absolute path; anything else becomes `fallback`.
 */
export function toAlloyError(e: unknown, fallback: ErrorCode = "io_error", context: ErrorContext = {}): AlloyError {
  if (e instanceof AlloyError) return Object.keys(context).length ? e.withContext(context) : e
  const errno = e as NodeJS.ErrnoException | undefined
  if (errno && typeof errno === "object" && typeof errno.code === "string" && /^E[A-Z]+$/.test(errno.code)) {
    const what = context.file ? `could not read or write ${context.file}: ` : ""
    return new AlloyError("io_error", `${what}${describeIoError(e)}`, { ...context, cause: e })
  }
  const msg = errno && typeof errno.message === "string" ? errno.message : String(e)
  return new AlloyError(fallback, stripAbsolutePaths(msg), { ...context, cause: e })
}

/** Messages never carry a machine path. */
export function stripAbsolutePaths(msg: string): string {
  return msg.replace(/\/[^\s'"]+/g, "<path>")
}
