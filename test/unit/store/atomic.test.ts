/**
 * Atomic writes from text in pieces (the HTML report is written as it is rendered): the file holds
 * exactly the pieces joined, a character split across the 1 MiB write boundary included, and a
 * writer that fails halfway leaves neither the file nor a temp file behind.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { writeFileAtomic } from "../../../src/store/atomic.js"
import { scratch } from "../../helpers/project.js"

const s = scratch()

describe("writeFileAtomic from pieces", () => {
  it("writes the pieces joined, across the write boundary and with characters of every width", () => {
    const dir = s.project().dir
    const file = path.join(dir, "page.html")
    // pieces that straddle 1 MiB: an ASCII run, then 2-, 3- and 4-byte characters at the seams
    const pieces = ["<p>", "a".repeat((1 << 20) - 2), "é—", "😀".repeat(3), "b".repeat(1 << 20), "</p>\n", ""]
    writeFileAtomic(file, pieces)
    expect(readFileSync(file, "utf8")).toBe(pieces.join(""))
    expect(readFileSync(file).byteLength).toBe(Buffer.byteLength(pieces.join(""), "utf8"))
  })

  it("a generator that throws halfway: the old file stays whole and no temp file is left", () => {
    const dir = s.project().dir
    const file = path.join(dir, "page.html")
    writeFileSync(file, "the old page")
    function* failing() {
      yield "x".repeat(3 << 20)
      throw new Error("rendering failed")
    }
    expect(() => writeFileAtomic(file, failing())).toThrow()
    expect(readFileSync(file, "utf8")).toBe("the old page")
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([])
    const fresh = path.join(dir, "new.html")
    expect(() => writeFileAtomic(fresh, failing())).toThrow()
    expect(existsSync(fresh)).toBe(false)
  })
})
