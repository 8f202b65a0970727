/** Parsers for what Foundry leaves behind, the validator binding, globs and session records. */
import { describe, expect, test } from "vitest"
import { globToRegExp, matchesAny, splitGlobs } from "../../../src/core/glob.js"

describe("globs", () => {
  test.each([
    ["release-notes/*.md", "release-notes/a.md", true],
    ["release-notes/*.md", "release-notes/sub/a.md", false],
    ["release-notes/**/*.md", "release-notes/sub/a.md", true],
    ["release-notes/**/*.md", "release-notes/a.md", true],
    ["**", "a/b/c", true],
    ["docs/{a,b}.md", "docs/b.md", true],
    ["docs/?.md", "docs/ab.md", false],
    ["docs/[ab].md", "docs/a.md", true],
    ["a.b", "axb", false],
  ])("%s ~ %s = %s", (glob, file, ok) => {
    expect(globToRegExp(glob).test(file)).toBe(ok)
  })
  test("gate paths: comma-separated, braces kept together", () => {
    expect(splitGlobs("release-notes/*.md, docs/{a,b}.md")).toEqual(["release-notes/*.md", "docs/{a,b}.md"])
    expect(matchesAny("./docs/a.md", ["docs/{a,b}.md"])).toBe(true)
  })
})
