import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { splitCommand } from "../../../src/core/check-command.js"

const words = (c: string) => splitCommand(c).map((w) => w.text)

describe("splitCommand: a check's words without a shell", () => {
  it("keeps shell syntax as ordinary characters of its word", () => {
    expect(words("echo a;b $(rm -rf x) `id` && | > out")).toEqual(["echo", "a;b", "$(rm", "-rf", "x)", "`id`", "&&", "|", ">", "out"])
  })

  it("reads single quotes, double quotes and backslashes as people write them", () => {
    expect(words(`node -e "process.exit(0)" 'a b' c\\ d "x \\"y\\" \\\\"`)).toEqual(["node", "-e", "process.exit(0)", "a b", "c d", 'x "y" \\'])
    expect(words(`''`)).toEqual([""])
  })

  it("marks unquoted glob words only", () => {
    expect(splitCommand(`node check.mjs release-notes/*.md "docs/*.md" a?b`).map((w) => w.glob)).toEqual([false, false, true, false, true])
  })

  it("refuses an unterminated quote and an empty command", () => {
    expect(() => splitCommand(`node -e "x`)).toThrow(/unterminated double quote/)
    expect(() => splitCommand("   ")).toThrow(/empty/)
  })

  it("any list of words, single-quoted, splits back to itself", () => {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 6 }), (ws) => {
        expect(words(ws.map(quote).join(" "))).toEqual(ws)
      }),
    )
  })
})
