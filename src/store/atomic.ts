/**
 * Atomic file writes: write a temp file in the same directory, fsync, then rename (replace)
 * or link (create-once). A crash at any point leaves either the old file or the new one,
 * never half of one; stray temp files are named `.<name>.<pid>.<rand>.tmp` and ignored.
 */
import { closeSync, existsSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync, constants } from "node:fs"
import { randomBytes } from "node:crypto"
import path from "node:path"
import { AlloyError, describeIoError } from "../core/errors.js"

export const TEMP_SUFFIX = ".tmp"

export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}${TEMP_SUFFIX}`)
}

/**
 * What a file is written from: bytes, text, or text in pieces (a large page written as it is
 * rendered, never held whole).
 */
export type FileData = Uint8Array | string | Iterable<string>

/** Text pieces are gathered into writes of about this many characters. */
const WRITE_CHUNK = 1 << 20

function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0
  while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off)
}

function writeTemp(file: string, data: FileData, mode: number): string {
  const tmp = tempPathFor(file)
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
  try {
    if (typeof data === "string") writeAll(fd, Buffer.from(data, "utf8"))
    else if (data instanceof Uint8Array) writeAll(fd, data)
    else {
      let pending = ""
      for (const piece of data) {
        pending += piece
        if (pending.length >= WRITE_CHUNK) {
          writeAll(fd, Buffer.from(pending, "utf8"))
          pending = ""
        }
      }
      writeAll(fd, Buffer.from(pending, "utf8"))
    }
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

function ioError(e: unknown, shown: string, what: string): AlloyError {
  return new AlloyError("io_error", `could not ${what} ${shown}: ${describeIoError(e)}; nothing was changed`, { file: shown, cause: e })
}

/** Replace `file` atomically with `data`. `shown` is how messages name the file (a project-relative path). */
export function writeFileAtomic(file: string, data: FileData, mode = 0o644, shown = path.basename(file)): void {
  let tmp: string | undefined
  try {
    tmp = writeTemp(file, data, mode)
    renameSync(tmp, file)
  } catch (e) {
    if (tmp) safeUnlink(tmp)
    throw e instanceof AlloyError ? e : ioError(e, shown, "write")
  }
}

/**
 * Create `file` with `data` only if it does not exist yet (atomically, via link).
 * Returns false when a file was already there (left untouched).
 */
export function writeFileOnce(file: string, data: Uint8Array | string, mode = 0o444, shown = path.basename(file)): boolean {
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
    throw e instanceof AlloyError ? e : ioError(e, shown, "write")
  } finally {
    if (tmp) safeUnlink(tmp)
  }
}

/** Temp files of killed writers older than this are swept (10 minutes). */
export const STALE_TEMP_MS = 10 * 60 * 1000

/**
 * Remove `.<name>.<pid>.<rand>.tmp` files left in `dir` by writers that were killed between
 * writing their temp file and renaming or linking it. Only files older than `olderThanMs`
 * (a live writer's temp file is seconds old); `forFile` limits it to that file's temp files.
 * Best effort; returns how many were removed.
 */
export function sweepStaleTemps(dir: string, now = Date.now(), opts: { olderThanMs?: number; forFile?: string } = {}): number {
  const olderThan = opts.olderThanMs ?? STALE_TEMP_MS
  const prefix = opts.forFile ? `.${opts.forFile}.` : "."
  let removed = 0
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith(TEMP_SUFFIX)) continue
    try {
      const f = path.join(dir, n)
      if (now - lstatSync(f).mtimeMs > olderThan) {
        unlinkSync(f)
        removed++
      }
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed
}

/** Stray temp files in `dir` (for reports: a crash left them, and Foundry's finish refuses untracked foundry/** files). */
export function strayTemps(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => n.startsWith(".") && n.endsWith(TEMP_SUFFIX))
      .sort()
  } catch {
    return []
  }
}

/** The permission bits of an existing file (kept when it is replaced), else `fallback`. */
export function fileMode(file: string, fallback = 0o644): number {
  try {
    return statSync(file).mode & 0o7777
  } catch {
    return fallback
  }
}

/**
 * `mkdir -p` that fails with the real reason: a recursive mkdir on a read-only file system can
 * report ENOENT; creating the missing levels one at a time surfaces EROFS / ENOSPC / EACCES.
 */
export function makeDirs(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true })
  } catch (first) {
    const missing: string[] = []
    for (let d = dir; !existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.unshift(d)
    for (const d of missing) mkdirSync(d) // throws the error that explains the failure
    throw first
  }
}
