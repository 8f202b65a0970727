/** Parsers for what Foundry leaves behind, the validator binding, globs and session records. */
import { readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, test } from "vitest"
import { bindCheckCommand, parseLawValidators } from "../../../src/foundry/laws.js"
import { SAMPLE_DIR } from "../../helpers/project.js"

const sample = (f: string) => readFileSync(path.join(SAMPLE_DIR, f), "utf8")

describe("validators and check gates", () => {
  const laws = sample("foundry/artefacts/release-note/laws.md")
  const validators = parseLawValidators(laws)

  test("the sample's word-limit validator", () => {
    expect(validators).toEqual([{ law: "word-limit", id: "count-words", command: "node scripts/validators/word-limit.mjs --max 150 {files}" }])
    expect(parseLawValidators(sample("foundry/laws/house-style.md"))).toEqual([])
  })

  test("a check gate binds only to the same command, {files} standing for the file arguments", () => {
    expect(bindCheckCommand("node scripts/validators/word-limit.mjs --max 150 release-notes/*.md", validators)).toEqual(["law:word-limit:count-words"])
    expect(bindCheckCommand("node scripts/validators/word-limit.mjs --max 150 a.md b.md", validators)).toEqual(["law:word-limit:count-words"])
    expect(bindCheckCommand("node scripts/validators/word-limit.mjs --max 140 release-notes/*.md", validators)).toBeUndefined()
    expect(bindCheckCommand("node scripts/validators/word-limit.mjs --max 150", validators)).toBeUndefined()
    expect(bindCheckCommand("npm test", validators)).toBeUndefined()
    // every part of an && chain must bind
    expect(bindCheckCommand("node scripts/validators/word-limit.mjs --max 150 a.md && npm test", validators)).toBeUndefined()
    expect(bindCheckCommand("x {files}", [{ law: "l", id: "v", command: "x --in={files}" }])).toBeUndefined()
    expect(bindCheckCommand("x --in=a.md", [{ law: "l", id: "v", command: "x --in={files}" }])).toEqual(["law:l:v"])
  })
})
