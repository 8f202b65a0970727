/**
 * Bounded reads of regular files: open once (by default without following a final symlink),
 * check type and size on the open descriptor, read exactly that many bytes. The outcome says
 * what was found, so each caller can turn it into its own error or default.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs"
import type { z } from "zod"
import { AlloyError, describeIoError } from "../core/errors.js"
import { safeParseJson } from "../core/schema-errors.js"

export type BoundedRead =
  | { readonly kind: "ok"; readonly bytes: Buffer }
  | { readonly kind: "absent" }
  | { readonly kind: "symlink" }
  | { readonly kind: "not_file" }
  | { readonly kind: "too_large"; readonly size: number }

/** Read `file` if it is a regular file of at most `limit` bytes. Other I/O errors are thrown as they are. */
export function readRegularFile(file: string, limit: number, opts: { followSymlink?: boolean } = {}): BoundedRead {
  let fd: number
  try {
    // O_NONBLOCK: a FIFO (or device) in place of a file must not hang the reader; it is then not a regular file
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (opts.followSymlink ? 0 : constants.O_NOFOLLOW))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "absent" }
    if (code === "ELOOP") return { kind: "symlink" }
    throw e
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) return { kind: "not_file" }
    if (st.size > limit) return { kind: "too_large", size: st.size }
    const buf = Buffer.allocUnsafe(st.size)
    let off = 0
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off)
      if (n === 0) break
      off += n
    }
    return { kind: "ok", bytes: off === st.size ? buf : buf.subarray(0, off) }
  } finally {
    closeSync(fd)
  }
}

/**
 * `readRegularFile` with Alloy's one meaning for each outcome, so every reader answers the same
 * condition with the same code: absent → undefined; a symlink (not followed) → `unsafe_path`; not
 * a regular file or over the limit → `malformed`; any other operating-system error → `io_error`.
 * `rel` is the project-relative name used in messages (never an absolute path).
 */
export function readFileBounded(file: string, limit: number, rel: string, opts: { followSymlink?: boolean; what?: string } = {}): Buffer | undefined {
  let r: BoundedRead
  try {
    r = readRegularFile(file, limit, opts)
  } catch (e) {
    throw new AlloyError("io_error", `could not read ${rel}: ${describeIoError(e)}`, { file: rel, cause: e })
  }
  switch (r.kind) {
    case "ok":
      return r.bytes
    case "absent":
      return undefined
    case "symlink":
      throw new AlloyError("unsafe_path", `${rel} is a symlink; Alloy does not follow it here`, { file: rel, fix: `replace ${rel} with the file itself` })
    case "too_large":
      throw new AlloyError("malformed", `${rel} is ${r.size} bytes, over the ${limit}-byte limit${opts.what ? ` for ${opts.what}` : ""}`, { file: rel })
    case "not_file":
      throw new AlloyError("malformed", `${rel} is not a regular file`, { file: rel, fix: `replace ${rel} with a regular file` })
  }
}

export type CheckedJsonRead<T> = { readonly kind: "ok"; readonly data: T } | { readonly kind: "absent" } | { readonly kind: "invalid" }

/**
 * A JSON file Alloy reads back (a run record, a ledger file, a pulled file): read as
 * `readRegularFile` reads it (the same limit and symlink rule; other I/O errors are thrown as they
 * are) and checked against `schema` with `safeParseJson`. `invalid`: a symlink not followed, not a
 * regular file, over the limit, not JSON, or not the schema.
 */
export function readCheckedJson<S extends z.ZodType>(file: string, limit: number, schema: S, opts: { followSymlink?: boolean } = {}): CheckedJsonRead<z.output<S>> {
  const r = readRegularFile(file, limit, opts)
  if (r.kind === "absent") return r
  const parsed = r.kind === "ok" ? safeParseJson(schema, r.bytes.toString("utf8")) : undefined
  return parsed?.success ? { kind: "ok", data: parsed.data } : { kind: "invalid" }
}
