/**
 * Atomic file writes: write a temp file in the same directory, fsync, then rename (replace)
 * or link (create-once). A crash at any point leaves either the old file or the new one,
 * never half of one; stray temp files are named `.<name>.<pid>.<rand>.tmp` and ignored.
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync, constants } from "node:fs"
import { randomBytes } from "node:crypto"
import path from "node:path"
import { AlloyError } from "../core/errors.js"

export const TEMP_SUFFIX = ".tmp"

export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}${TEMP_SUFFIX}`)
}

function writeTemp(file: string, data: Uint8Array | string, mode: number): string {
  const tmp = tempPathFor(file)
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
  try {
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data
    let off = 0
    while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    safeUnlink(tmp)
    throw e
  }
  closeSync(fd)
  return tmp
}

function safeUnlink(p: string): void {
  try {
    unlinkSync(p)
  } catch {
    /* already gone */
  }
}

function ioError(e: unknown, file: string, what: string): AlloyError {
  const err = e as NodeJS.ErrnoException
  const reason =
    err.code === "ENOSPC"
      ? "the disk is full"
      : err.code === "EROFS"
        ? "the file system is read-only"
        : err.code === "EACCES" || err.code === "EPERM"
          ? "permission denied"
          : err.code === "EDQUOT"
            ? "the disk quota is exceeded"
            : (err.message ?? String(e))
  return new AlloyError("io_error", `could not ${what} ${file}: ${reason}; nothing was changed`, { file, cause: e })
}

/** Replace `file` atomically with `data`. */
export function writeFileAtomic(file: string, data: Uint8Array | string, mode = 0o644): void {
  let tmp: string | undefined
  try {
    tmp = writeTemp(file, data, mode)
    renameSync(tmp, file)
  } catch (e) {
    if (tmp) safeUnlink(tmp)
    throw e instanceof AlloyError ? e : ioError(e, file, "write")
  }
}

/**
 * Create `file` with `data` only if it does not exist yet (atomically, via link).
 * Returns false when a file was already there (left untouched).
 */
export function writeFileOnce(file: string, data: Uint8Array | string, mode = 0o444): boolean {
  let tmp: string | undefined
  try {
    tmp = writeTemp(file, data, mode)
    try {
      linkSync(tmp, file)
      return true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
      throw e
    }
  } catch (e) {
    throw e instanceof AlloyError ? e : ioError(e, file, "write")
  } finally {
    if (tmp) safeUnlink(tmp)
  }
}
