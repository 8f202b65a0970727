/**
 * The program's standard output and standard error, written synchronously, in order.
 *
 * Node's `process.stdout` on a pipe makes the descriptor non-blocking and writes what the pipe
 * cannot take at once later, from the event loop: a large `--json` report (about 2 MB from
 * `verify` over 1,000 pins) then kept the process alive after its work was done, long enough for
 * the engine to start and finish a garbage collection whose result nobody reads. Here a write goes
 * straight to the descriptor. Node makes the three standard descriptors blocking when it starts,
 * so a file, a terminal or a pipe takes each write whole, the writer waiting for its reader as any
 * pipe's writer does, and setting up Node's stream (about a millisecond each) is left out.
 *
 * When the descriptor refuses for now (made non-blocking again by another process sharing it, and
 * full: `EAGAIN`) or is closed (`EBADF`: `>&-`, where Node's stream discards what it is given), the
 * rest of that write and every later one go to Node's own stream, which waits for the reader from
 * the event loop as before, so nothing is lost or reordered. A reader that has gone away (`EPIPE`:
 * `opencode-alloy verify --json | head`) ends the program quietly with the exit code it has so far,
 * on either path. Any other failure (a full disk, an I/O error) means the output is incomplete: the
 * command fails at once, said in one line on standard error, exit 1, never 0 with a report cut off.
 */
import { writeSync } from "node:fs"
import { createRequire } from "node:module"
import { describeIoError } from "../core/errors.js"

export type Write = (s: string) => void

/**
 * What a channel writes with: the descriptor, Node's stream for it (made on first need), what to do
 * when the reader has gone, and when a write has failed.
 */
export interface ChannelParts {
  readonly write: (fd: number, bytes: Uint8Array, offset: number, length: number) => number
  readonly stream: () => { write(bytes: Uint8Array): unknown; on(event: "error", fn: (e: NodeJS.ErrnoException) => void): unknown }
  readonly readerGone: () => void
  readonly failed: (e: unknown) => void
}

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code
/** Refusals Node's stream deals with: wait for a non-blocking descriptor, discard into a closed one. */
const HAND_OVER = new Set(["EAGAIN", "EWOULDBLOCK", "EBADF"])

/**
 * Is standard output (1) or standard error (2) a terminal? Asked without setting up Node's stream
 * for it, and Node's terminal module (which loads its network module: about 1.5 ms) is loaded only
 * when a command asks, which a `--json` run never does.
 */
export const isTerminal = (fd: 1 | 2): boolean => (createRequire(import.meta.url)("node:tty") as typeof import("node:tty")).isatty(fd)

/**
 * Text is encoded into one reused buffer this many UTF-16 units at a time, and written from it: a
 * 2 MB report then touches no new memory to be encoded (each new page costs the process about
 * 1.4 µs here: docs/performance.md). A unit is at most 3 bytes of UTF-8 (a surrogate pair, 2
 * units, is 4), so a piece always fits.
 */
const CHUNK = 64 * 1024

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff

/** `chunk`: units encoded at a time (tests give small ones, to put every boundary everywhere). */
export function channel(fd: 1 | 2, parts: ChannelParts, chunk = CHUNK): Write {
  let stream: ReturnType<ChannelParts["stream"]> | undefined
  const handOver = (rest: Uint8Array) => {
    if (!stream) {
      stream = parts.stream()
      stream.on("error", (e) => (codeOf(e) === "EPIPE" ? parts.readerGone() : parts.failed(e)))
    }
    // a copy: the stream writes later, and the bytes may be a view of the reused buffer
    stream.write(Buffer.from(rest))
  }
  const writeBytes = (bytes: Uint8Array) => {
    let off = 0
    if (!stream) {
      try {
        while (off < bytes.length) {
          const n = parts.write(fd, bytes, off, bytes.length - off)
          // a descriptor that takes nothing without saying why is left to the stream, not asked again
          if (!(n > 0)) break
          off += n
        }
      } catch (e) {
        if (codeOf(e) === "EPIPE") return parts.readerGone()
        if (!HAND_OVER.has(codeOf(e) ?? "")) return parts.failed(e)
      }
    }
    if (off < bytes.length) handOver(bytes.subarray(off))
  }
  let scratch: Buffer | undefined
  return (s) => {
    for (let i = 0; i < s.length; ) {
      let end = Math.min(s.length, i + chunk)
      // never between the two halves of a surrogate pair, which would each be written as U+FFFD
      if (end < s.length && isHighSurrogate(s.charCodeAt(end - 1))) end += end - 1 > i ? -1 : 1
      scratch ??= Buffer.allocUnsafe((chunk + 1) * 3)
      writeBytes(scratch.subarray(0, scratch.write(s.slice(i, end), "utf8")))
      i = end
    }
  }
}

/** The reader has gone away: the program ends quietly, never with a stack trace. */
const readerGone = () => process.exit(process.exitCode ?? 0)

/** A write failed: the output is incomplete, so the command fails, said once on standard error (unless that is what failed). */
const failedOn = (fd: 1 | 2) => (e: unknown) => {
  if (fd === 1) {
    try {
      writeSync(2, `opencode-alloy: could not write the output (${describeIoError(e)}); what was printed is incomplete\n`)
    } catch {
      // standard error cannot take it either: the exit code says it
    }
  }
  process.exit(1)
}

/** Standard output: what a command prints. */
export const writeOut: Write = channel(1, { write: writeSync, stream: () => process.stdout, readerGone, failed: failedOn(1) })
/** Standard error: errors, warnings and progress. */
export const writeErr: Write = channel(2, { write: writeSync, stream: () => process.stderr, readerGone, failed: failedOn(2) })
