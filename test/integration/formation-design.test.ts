// The formation designer on temp copies of the sample project (with git): the proposal is a diff
// and writes nothing; --write writes only on a config/* branch, refuses flow branches and any other
// branch with a code and a fix naming the branch to create; what it writes passes Alloy's port of
// Foundry's config rules, carries the pin, and builds to exactly the digest it pinned.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { computeBuild, buildBrief } from "../../src/service/build.js"
import { designBriefFormation, readConfigTree, writeFormationDesign } from "../../src/service/formation-design.js"
import { checkConfigTree } from "../../src/foundry/config-rules.js"
import { bindCheckCommand, readValidators } from "../../src/foundry/laws.js"
import type { AlloyError } from "../../src/core/errors.js"
import { runCli } from "../helpers/cli.js"
import { git, gitInitCommitAll } from "../helpers/git.js"
import { BRIEF_ID, CYCLE_ID, makeProject, writeExampleSources, type TestProject } from "../helpers/project.js"

let p: TestProject | undefined
afterEach(() => p?.cleanup())

/** The sample project with the example brief built, all committed on main. */
function sample(): TestProject {
  p = makeProject("alloy-design-")
  writeExampleSources(p.dir)
  buildBrief(p.ctx, BRIEF_ID)
  gitInitCommitAll(p.dir)
  return p
}

const snapshot = (dir: string) => git(dir, ["status", "--porcelain", "--untracked-files=all"])
const read = (dir: string, rel: string) => readFileSync(path.join(dir, rel), "utf8")

describe("formation design on the sample project", () => {
  it("previews a diff and writes nothing: the pin and human-appraise in the cycle, a law for the unnamed law gate", async () => {
    const { dir } = sample()
    const r = await runCli(dir, "formation", "design", BRIEF_ID)
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain(`+++ b/foundry/cycles/${CYCLE_ID}.md`)
    expect(r.out).toMatch(/^\+\s*always-human-appraise: true/m)
    expect(r.out).toMatch(/^\+## alloy--release-note-voice--ac-3$/m)
    expect(r.out).toContain("Preview only")
    expect(snapshot(dir)).toBe("")
    const j = (await runCli(dir, "formation", "design", BRIEF_ID, "--json")).json<{ ok: boolean; problems: unknown[]; built: boolean; files: Array<{ path: string; action: string }> }>()
    expect(j).toMatchObject({ ok: true, problems: [], built: true })
    // AC-1's check is already the word-limit validator's command, and customer-benefit-first exists: nothing proposed for them
    expect(read(dir, "foundry/artefacts/release-note/laws.md")).not.toContain("--check")
    expect(j.files.find((f) => f.path === "foundry/artefacts/release-note/laws.md")?.action).toBe("modify")
  })

  it("refuses --write on the base branch, with the config branch to create; nothing changes", async () => {
    const { dir } = sample()
    const r = await runCli(dir, "formation", "design", BRIEF_ID, "--write", "--json")
    expect(r.code).toBe(2)
    const e = r.json<{ code: string; fix: string }>()
    expect(e.code).toBe("not_config_branch")
    expect(e.fix).toContain(`git switch -c config/${BRIEF_ID}-formation`)
    expect(snapshot(dir)).toBe("")
  })

  for (const branch of ["work/release-notes-faster-refunds", "dry-run/notes/release-notes-try"]) {
    it(`refuses --write on flow branch ${branch.split("/")[0]}/*; nothing changes`, async () => {
      const { dir } = sample()
      git(dir, ["switch", "-q", "-c", branch])
      const r = await runCli(dir, "formation", "design", BRIEF_ID, "--write", "--json")
      expect(r.code).toBe(2)
      const e = r.json<{ code: string; error: string; fix: string }>()
      expect(e.code).toBe("work_branch")
      expect(e.error).toContain(branch)
      expect(e.fix).toContain(`config/${BRIEF_ID}-formation`)
      expect(snapshot(dir)).toBe("")
    })
  }

  it("writes on a config/* branch: only foundry/** changes, Foundry's rules accept the tree, the pin reads back and verifies; a second design changes nothing", async () => {
    const { dir, ctx } = sample()
    git(dir, ["switch", "-q", "-c", `config/${BRIEF_ID}-formation`])
    const r = await runCli(dir, "formation", "design", BRIEF_ID, "--write")
    expect(r.code, r.err).toBe(0)
    const changed = snapshot(dir)
      .split("\n")
      .filter(Boolean)
      .map((l) => l.slice(3))
    expect(changed.sort()).toEqual(["foundry/artefacts/release-note/laws.md", `foundry/cycles/${CYCLE_ID}.md`])
    expect(checkConfigTree(readConfigTree(ctx))).toEqual([])
    const pin = ctx.project.ownPin(CYCLE_ID)
    expect(pin?.digest).toBe(ctx.store.readRef(BRIEF_ID))
    // every other key of the cycle is as it was (the pin and the flag only)
    expect(read(dir, `foundry/cycles/${CYCLE_ID}.md`)).toContain("models:\n  default: anthropic/claude-sonnet-4")
    const again = designBriefFormation(ctx, BRIEF_ID)
    expect(again.files.filter((f) => f.action !== "unchanged")).toEqual([])
    expect((await runCli(dir, "verify", "--json")).json<{ ok: boolean }>().ok).toBe(true)
  })

  it("a mistyped law id is a note with a did-you-mean, never a second law; a brief without a formation is a usage error", async () => {
    const { dir, ctx } = sample()
    const f = path.join(dir, ".alloy/intents/release-note-voice.md")
    writeFileSync(f, readFileSync(f, "utf8").replace("law: customer-benefit-first", "law: customer-benefit-frist"))
    const d = designBriefFormation(ctx, BRIEF_ID)
    expect(d.notes.join("\n")).toContain("did you mean customer-benefit-first?")
    expect(d.files.some((x) => x.after.includes("## customer-benefit-frist"))).toBe(false)
    writeFileSync(path.join(dir, ".alloy/briefs/loose.md"), "---\nid: loose\nintents:\n  - release-note-voice\n---\n")
    const r = await runCli(dir, "formation", "design", "loose", "--json")
    expect(r.code).toBe(2)
    expect(r.json()).toMatchObject({ ok: false, code: "usage" })
  })

  it("never overwrites a file that changed after the design was made", () => {
    const { dir, ctx } = sample()
    git(dir, ["switch", "-q", "-c", `config/${BRIEF_ID}-formation`])
    const design = designBriefFormation(ctx, BRIEF_ID)
    const f = path.join(dir, "foundry/artefacts/release-note/laws.md")
    writeFileSync(f, `${readFileSync(f, "utf8")}\n<!-- edited meanwhile -->\n`)
    const before = snapshot(dir)
    expect(() => writeFormationDesign(ctx, design)).toThrow(expect.objectContaining({ code: "already_exists" }) as unknown as AlloyError)
    expect(snapshot(dir)).toBe(before)
    expect(read(dir, `foundry/cycles/${CYCLE_ID}.md`)).not.toContain("always-human-appraise: true")
  })
})

describe("formation design for a new multi-cycle formation", () => {
  const INTENT = `---
id: api-docs
title: Endpoint pages and a changelog
status: active
goal: Every public endpoint has a page, and every change has a changelog line.
acceptance_criteria:
  - id: AC-1
    text: WHEN an endpoint is public THE SYSTEM SHALL have a page for it under docs/endpoints/.
    evidence:
      kind: artefact
      path: docs/endpoints/*.md
  - id: AC-2
    text: Each endpoint page shows one request example and one response example.
    evidence:
      kind: law
  - id: AC-3
    text: Endpoint pages have no broken links.
    evidence:
      kind: check
      command: node scripts/check-links.mjs docs/endpoints/*.md
  - id: AC-4
    text: A maintainer signs off the changelog wording.
    evidence:
      kind: human
      who: a maintainer
  - id: AC-5
    text: The changelog line is saved under docs/changelog/.
    evidence:
      kind: artefact
      path: docs/changelog/*.md
---
`
  const RECIPE = `---
id: api-docs
intents:
  - api-docs
formation:
  flow: api-docs
  cycles:
    - endpoint-pages
    - changelog
  scope:
    api-docs: [endpoint-pages]
    api-docs#AC-4: [changelog]
    api-docs#AC-5: [changelog]
---
`
  function multi(): TestProject {
    p = makeProject("alloy-design-multi-")
    writeExampleSources(p.dir)
    writeFileSync(path.join(p.dir, ".alloy/intents/api-docs.md"), INTENT)
    writeFileSync(path.join(p.dir, ".alloy/briefs/api-docs.md"), RECIPE)
    mkdirSync(path.join(p.dir, "scripts"), { recursive: true })
    writeFileSync(path.join(p.dir, "scripts/check-links.mjs"), "process.exit(0)\n")
    gitInitCommitAll(p.dir)
    return p
  }

  it("creates cycles with edges and pins, a flow, artefact types, a law and a bound validator; Foundry's rules accept them; the build gives the pinned digest", async () => {
    const { dir, ctx } = multi()
    git(dir, ["switch", "-q", "-c", "config/api-docs-formation"])
    const design = designBriefFormation(ctx, "api-docs")
    expect(design.problems).toEqual([])
    expect(design.files.map((f) => `${f.action} ${f.path}`)).toEqual([
      "create foundry/artefacts/changelog/definition.md",
      "create foundry/artefacts/endpoint-pages/definition.md",
      "create foundry/artefacts/endpoint-pages/laws.md",
      "create foundry/cycles/changelog.md",
      "create foundry/cycles/endpoint-pages.md",
      "create foundry/flows/api-docs.md",
    ])
    writeFormationDesign(ctx, design)
    expect(checkConfigTree(readConfigTree(ctx))).toEqual([])
    const pages = ctx.project.readCycle("endpoint-pages").data
    expect(pages).toMatchObject({ "output-type": "endpoint-pages", targets: ["changelog"], "always-human-appraise": false, alloy: { brief_id: "api-docs" } })
    expect(ctx.project.readCycle("changelog").data).toMatchObject({ inputs: { type: "any-of", artefacts: ["endpoint-pages"] }, "always-human-appraise": true })
    expect(ctx.project.readFlow("api-docs").data["starting-cycles"]).toEqual(["endpoint-pages"])
    expect(read(dir, "foundry/artefacts/endpoint-pages/definition.md")).toContain('  - "docs/endpoints/*.md"')
    // the law gate has its law, the check gate a validator its command binds to
    const laws = read(dir, "foundry/artefacts/endpoint-pages/laws.md")
    expect(laws).toContain("## alloy--api-docs--ac-2")
    expect(bindCheckCommand("node scripts/check-links.mjs docs/endpoints/*.md", readValidators(ctx.project))).toEqual(["law:alloy--api-docs--ac-3--check:check"])
    // the pinned digest is what `brief build` gives with the designed edges
    expect(computeBuild(ctx, "api-docs").digest).toBe(design.pin.digest)
    expect(existsSync(path.join(dir, ".alloy/refs"))).toBe(true)
  })
})

describe("alloy_formation_design (the tool the alloy-formation skill drives)", () => {
  it("previews, and refuses to write off a config branch with the same code and fix", async () => {
    const { dir } = sample()
    const { loadPlugin } = await import("../helpers/plugin.js")
    const plugin = await loadPlugin(dir)
    const preview = await plugin.tool("alloy_formation_design", { brief_id: BRIEF_ID })
    expect(preview.json).toMatchObject({ ok: true, built: true, problems: [] })
    expect(String(preview.json["diff"])).toContain(`+++ b/foundry/cycles/${CYCLE_ID}.md`)
    const refused = await plugin.tool("alloy_formation_design", { brief_id: BRIEF_ID, write: true })
    expect(refused.json).toMatchObject({ ok: false, code: "not_config_branch" })
    expect(String(refused.json["fix"])).toContain(`config/${BRIEF_ID}-formation`)
    expect(snapshot(dir)).toBe("")
  })
})
