import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { channel, type ChannelParts } from "../../../src/cli/stdio.js"

const errno = (code: string) => Object.assign(new Error(code), { code })

/**
 * A descriptor that takes `takes[i]` bytes on its i-th write (undefined: all of it; a string: that
 * error), and a stream that keeps what it is handed.
 */
function fake(takes: Array<number | string | undefined>) {
  const written: Buffer[] = []
  const streamed: Buffer[] = []
  let calls = 0
  let streams = 0
  let onError: ((e: NodeJS.ErrnoException) => void) | undefined
  let gone = 0
  const failures: string[] = []
  const parts: ChannelParts = {
    write: (_fd, bytes, offset, length) => {
      const t = takes[calls++]
      if (typeof t === "string") throw errno(t)
      const n = t === undefined ? length : Math.min(t, length)
      written.push(Buffer.from(bytes.subarray(offset, offset + n)))
      return n
    },
    stream: () => {
      streams++
      return {
        // kept as handed over, not copied: a stream writes later, so the channel must not reuse what it handed over
        write: (b: Uint8Array) => streamed.push(b as Buffer),
        on: (_event: "error", fn: (e: NodeJS.ErrnoException) => void) => (onError = fn),
      }
    },
    readerGone: () => void gone++,
    failed: (e) => void failures.push(String((e as NodeJS.ErrnoException).code)),
  }
  return {
    parts,
    written,
    streamed,
    get calls() {
      return calls
    },
    get streams() {
      return streams
    },
    failures,
    get gone() {
      return gone
    },
    fail: (code: string) => onError!(errno(code)),
  }
}

describe("cli/stdio: the program's output channel", () => {
  it("writes whole to the descriptor, in order, and never sets up the stream", () => {
    const f = fake([])
    const out = channel(1, f.parts)
    out("one\n")
    out("two\n")
    expect(Buffer.concat(f.written).toString()).toBe("one\ntwo\n")
    expect(f.streams).toBe(0)
  })

  it("writes on after a short write, until the descriptor has taken everything", () => {
    const f = fake([3, 1, undefined])
    channel(1, f.parts)("abcdefgh")
    expect(Buffer.concat(f.written).toString()).toBe("abcdefgh")
    expect(f.calls).toBe(3)
    expect(f.streams).toBe(0)
  })

  it("hands the rest and every later write to the stream once the descriptor refuses (EAGAIN), asking it no more", () => {
    const f = fake([4, "EAGAIN"])
    const out = channel(1, f.parts)
    out("first line\n")
    out("second\n")
    expect(Buffer.concat(f.written).toString()).toBe("firs")
    expect(Buffer.concat(f.streamed).toString()).toBe("t line\nsecond\n")
    expect(f.calls).toBe(2)
    expect(f.streams).toBe(1)
  })

  it("hands over on a descriptor that takes nothing without an error, and on a closed one (EBADF)", () => {
    const none = fake([0])
    channel(1, none.parts)("x")
    expect(Buffer.concat(none.streamed).toString()).toBe("x")
    const closed = fake(["EBADF"])
    channel(2, closed.parts)("y")
    expect(Buffer.concat(closed.streamed).toString()).toBe("y")
  })

  it("fails the command on any other error (a full disk, an I/O error), from the descriptor or from the stream, and hands nothing over", () => {
    const full = fake([3, "ENOSPC"])
    channel(1, full.parts)("more than three bytes")
    expect(full.failures).toEqual(["ENOSPC"])
    expect(full.streams).toBe(0)
    const later = fake(["EAGAIN"])
    channel(1, later.parts)("handed over")
    later.fail("EIO")
    expect(later.failures).toEqual(["EIO"])
    expect(later.gone).toBe(0)
  })

  it("cuts a character's bytes only where the descriptor did: the stream gets exactly the bytes left", () => {
    const f = fake([5, "EAGAIN"])
    channel(1, f.parts)("é→ü✓")
    expect(Buffer.concat([...f.written, ...f.streamed]).toString("utf8")).toBe("é→ü✓")
    expect(Buffer.concat(f.written)).toHaveLength(5)
  })

  it("ends quietly when the reader has gone (EPIPE), from the descriptor or from the stream", () => {
    const f = fake(["EPIPE"])
    channel(1, f.parts)("lost")
    expect(f.gone).toBe(1)
    expect(f.streams).toBe(0)
    const g = fake(["EAGAIN"])
    channel(1, g.parts)("later")
    g.fail("EPIPE")
    expect(g.gone).toBe(1)
    expect(g.failures).toEqual([])
  })

  it("writes a text longer than its buffer in pieces, never between the halves of a surrogate pair", () => {
    const text = `${"a".repeat(65_535)}😀${"é→".repeat(40_000)}😀`
    const f = fake([])
    channel(1, f.parts)(text)
    expect(Buffer.concat(f.written).equals(Buffer.from(text, "utf8"))).toBe(true)
    expect(f.written.length).toBeGreaterThan(1)
  })

  it("loses, reorders and alters nothing, wherever the descriptor refuses and wherever a piece ends (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary", maxLength: 40 }), { maxLength: 12 }),
        fc.array(fc.oneof(fc.nat(30), fc.constant("EAGAIN")), { maxLength: 20 }),
        fc.integer({ min: 1, max: 9 }),
        (lines, takes, chunk) => {
          const f = fake(takes)
          const out = channel(1, f.parts, chunk)
          for (const l of lines) out(l)
          expect(Buffer.concat([...f.written, ...f.streamed]).equals(Buffer.concat(lines.map((l) => Buffer.from(l, "utf8"))))).toBe(true)
          // once handed over, the descriptor is never written to again
          if (f.streams) expect(f.calls).toBeLessThanOrEqual(takes.length)
        },
      ),
    )
  })
})
