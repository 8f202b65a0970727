/**
 * Alloy's port of Foundry's config rules, proven against Foundry's own validator fixtures: every
 * fixture file is listed in the manifest with what Foundry's tests expect of it, and is accepted or
 * rejected the same way here. A fixture added without a manifest entry fails the suite.
 */
import { existsSync, readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { checkConfigTree, checkDefinition, classifyConfigPath, type ConfigKind } from "../../../src/foundry/config-rules.js"
import { REPO_ROOT, SAMPLE_DIR } from "../../helpers/project.js"
import { skipNote } from "../../helpers/skip.js"
import { snapshotTree } from "../../helpers/tree.js"

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "foundry-upstream")
const SHARED = path.resolve(REPO_ROOT, "..", "shared", "foundry", "upstream-fixtures")

interface Entry {
  file: string
  kind: ConfigKind
  name: string
  all_exist: "accepted" | "rejected"
  none_exist?: "accepted" | "rejected"
  error_matches: string | null
}
const manifest = JSON.parse(readFileSync(path.join(FIXTURES, "manifest.json"), "utf8")) as { fixtures: Entry[] }

/** The files under a folder, as sorted relative paths. */
const filesUnder = (dir: string): string[] =>
  [...snapshotTree(dir)]
    .filter(([, v]) => v.startsWith("file:"))
    .map(([k]) => k)
    .sort()

describe("Foundry's validator fixtures", () => {
  const files = filesUnder(FIXTURES).filter((f) => f.endsWith(".md") && f !== "README.md")

  it("every fixture file has a manifest entry, and every entry a file", () => {
    expect(files.length).toBe(10)
    expect(files).toEqual(manifest.fixtures.map((e) => e.file).sort())
  })

  for (const e of manifest.fixtures) {
    it(`${e.file}: ${e.all_exist}${e.none_exist ? `, ${e.none_exist} when no referenced file exists` : ""}`, () => {
      const text = readFileSync(path.join(FIXTURES, e.file), "utf8")
      const all = checkDefinition({ kind: e.kind, name: e.name, text, exists: () => true })
      expect(all.ok ? "accepted" : "rejected").toBe(e.all_exist)
      if (!all.ok && e.error_matches) expect(all.errors.some((m) => new RegExp(e.error_matches!).test(m))).toBe(true)
      if (e.none_exist) {
        const none = checkDefinition({ kind: e.kind, name: e.name, text, exists: () => false })
        expect(none.ok ? "accepted" : "rejected").toBe(e.none_exist)
        if (!none.ok) expect(none.errors.join("\n")).toMatch(/does not exist/)
      }
    })
  }

  describe.skipIf(!existsSync(SHARED))(
    `the repository's copy is the upstream copy, byte for byte${skipNote(existsSync(SHARED) ? undefined : "no shared upstream fixtures beside the repository")}`,
    () => {
      it("same files, same bytes", () => {
        const shared = filesUnder(SHARED).filter((f) => f.endsWith(".md"))
        for (const f of shared) expect(readFileSync(path.join(FIXTURES, f)).equals(readFileSync(path.join(SHARED, f))), f).toBe(true)
      })
    },
  )
})

describe("the rules Foundry's tests state beside the fixtures", () => {
  const all = () => true
  it("an id that is not the file's name is refused", () => {
    const r = checkDefinition({ kind: "cycle", name: "draft", text: "---\nid: other\nname: Other\noutput-type: foo\n---\n\nProse.\n", exists: all })
    expect(r.ok).toBe(false)
    expect(JSON.stringify(r)).toMatch(/must match/)
    const f = checkDefinition({ kind: "flow", name: "creative", text: "---\nid: other\nname: Other\nstarting-cycles:\n  - one\n---\n\n## Cycles\n\n- one\n", exists: all })
    expect(JSON.stringify(f)).toMatch(/must match/)
  })
  it("a target cycle that does not exist is refused; an artefact type that does is fine", () => {
    const r = checkDefinition({ kind: "cycle", name: "draft", text: "---\nid: draft\nname: Draft\noutput-type: foo\ntargets:\n  - missing-cycle\n---\n", exists: (p) => p.includes("artefacts/") })
    expect(r.ok).toBe(false)
    expect(JSON.stringify(r)).toMatch(/missing-cycle/)
  })
  it("inputs with an unknown type are refused", () => {
    const r = checkDefinition({ kind: "cycle", name: "draft", text: "---\nid: draft\nname: Draft\noutput-type: foo\ninputs:\n  type: invalid-type\n  artefacts:\n    - bar\n---\n", exists: all })
    expect(JSON.stringify(r)).toMatch(/any-of, all-of/)
  })
  it("a flow without a ## Cycles section is refused", () => {
    const r = checkDefinition({ kind: "flow", name: "creative", text: "---\nid: creative\nname: Creative\nstarting-cycles:\n  - one\n---\n\n# Creative\n", exists: all })
    expect(JSON.stringify(r)).toMatch(/## Cycles/)
  })
  it("a laws file with a duplicate id, or no law at all, is refused", () => {
    expect(checkDefinition({ kind: "law", name: "x", text: "## a\n\nPassing: p\nFailing: f\n\n## a\n\nPassing: p\nFailing: f\n", exists: all }).ok).toBe(false)
    expect(checkDefinition({ kind: "law", name: "x", text: "no laws here\n", exists: all }).ok).toBe(false)
  })
  it("unknown keys (an alloy pin) are never refused", () => {
    const r = checkDefinition({
      kind: "cycle",
      name: "draft",
      text: `---\nid: draft\nname: Draft\noutput-type: foo\nalloy: { brief_id: x, digest: "sha256:${"0".repeat(64)}" }\n---\n`,
      exists: all,
    })
    expect(r).toEqual({ ok: true })
  })
  it("classifies config paths the way Foundry files them", () => {
    expect(classifyConfigPath("foundry/artefacts/release-note/laws.md")).toEqual({ kind: "law", name: "release-note" })
    expect(classifyConfigPath("foundry/artefacts/release-note/example.md")).toBeUndefined()
    expect(classifyConfigPath("foundry/VERSION")).toBeUndefined()
  })
})

describe("the sample project's config", () => {
  it("passes every rule", () => {
    const root = path.join(SAMPLE_DIR, "foundry")
    const files = new Map(filesUnder(root).map((f) => [`foundry/${f}`, readFileSync(path.join(root, f), "utf8")]))
    expect(files.size).toBeGreaterThan(8)
    expect(checkConfigTree(files)).toEqual([])
  })
})
