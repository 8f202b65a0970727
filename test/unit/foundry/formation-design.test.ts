/** The designer's pure parts: the validator command a check binds to, and surgical frontmatter edits. */
import { describe, expect, it } from "vitest"
import { validatorCommandFor } from "../../../src/foundry/formation-design.js"
import { bindCheckCommand } from "../../../src/foundry/laws.js"
import { parseMarkdown, setFrontmatterScalar } from "../../../src/core/frontmatter.js"

describe("validatorCommandFor", () => {
  const cases: Array<[string, string[], string]> = [
    ["node scripts/validators/word-limit.mjs --max 150 release-notes/*.md", ["release-notes/*.md"], "node scripts/validators/word-limit.mjs --max 150 {files}"],
    ["node scripts/check-links.mjs docs/a/*.md docs/b/*.md --strict", ["docs/**/*.md"], "node scripts/check-links.mjs {files} --strict"],
    ["npm run lint", ["src/*.ts"], "npm run lint"],
    // a script path is never taken for the output files
    ["node docs/tool.mjs", ["docs/**"], "node docs/tool.mjs"],
  ]
  for (const [cmd, patterns, want] of cases) {
    it(`${cmd} → ${want}, and the check binds to it`, () => {
      const v = validatorCommandFor(cmd, patterns)
      expect(v).toBe(want)
      expect(bindCheckCommand(cmd, [{ law: "l", id: "v", command: v }])).toEqual(["law:l:v"])
    })
  }
})

describe("setFrontmatterScalar", () => {
  it("replaces a value in place, keeping its comment and every other byte", () => {
    const text = "---\nid: a # the id\nflag: false # said so\nlist:\n  - x\n---\nbody\n"
    const out = setFrontmatterScalar(text, "a.md", "flag", true)
    expect(out).toBe("---\nid: a # the id\nflag: true # said so\nlist:\n  - x\n---\nbody\n")
  })
  it("appends a missing key at the end of the block", () => {
    const out = setFrontmatterScalar("---\nid: a\n---\nbody\n", "a.md", "always-human-appraise", true)
    expect(parseMarkdown(out, "a.md").data).toEqual({ id: "a", "always-human-appraise": true })
    expect(out.endsWith("---\nbody\n")).toBe(true)
  })
})
