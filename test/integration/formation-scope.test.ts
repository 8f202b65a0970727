// Formation composition (alloy.formation/v1) on a multi-cycle project: each cycle's forge and
// appraisers receive only the criteria scoped to it, through the real hooks; evidence may count
// only from the cycles a criterion applies to; a criterion with no gate cannot be built; old
// recipes keep their bundle bytes.
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { appliesTo, gatesFor, packFor } from "../../src/core/formation.js"
import { lintBrief } from "../../src/core/lint.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { resolveTarget } from "../../src/service/resolve.js"
import { AlloyContext } from "../../src/service/context.js"
import { stageTexts } from "../../src/ui/pages.js"
import { CONDENSE_CYCLE_ID, CYCLE_ID, changelogIntent, makePinnedProject, TWO_CYCLE_SCOPE, twoCycleRecipe, type PinnedProject } from "../helpers/project.js"
import { runCli } from "../helpers/cli.js"
import { loadPlugin, type Json } from "../helpers/plugin.js"
import { appraiseDispatch, compact, forgeFor } from "../helpers/recordings.js"

const DRAFT = CYCLE_ID
const CONDENSE = CONDENSE_CYCLE_ID
const CHANGELOG_INTENT = changelogIntent("node scripts/validators/changelog-link.mjs")
const recipe = twoCycleRecipe
const SCOPED = TWO_CYCLE_SCOPE

let p: PinnedProject
beforeEach(async () => {
  p = await makePinnedProject()
  writeFileSync(path.join(p.dir, ".alloy", "intents", "changelog-line.md"), CHANGELOG_INTENT)
})
afterEach(() => p.cleanup())

function buildAndPin(text: string): string {
  writeFileSync(path.join(p.dir, ".alloy", "briefs", "release-note-voice.md"), text)
  const b = buildBrief(p.ctx, p.briefId)
  pinBrief(p.ctx, { cycle: DRAFT, brief_id: p.briefId })
  pinBrief(p.ctx, { cycle: CONDENSE, brief_id: p.briefId })
  return b.digest
}

describe("formation scope: each cycle gets only what applies to it", () => {
  it("the bundle carries an alloy.formation/v1 composition with edges, criteria, gates and packs per cycle", () => {
    buildAndPin(recipe(SCOPED))
    const bundle = resolveTarget(new AlloyContext(p.dir), { cycle: DRAFT }).bundle
    expect(bundle.composition?.$type).toBe("alloy.formation/v1")
    const [draft, condense] = bundle.composition!.cycles
    expect(draft).toMatchObject({ id: DRAFT, targets: [CONDENSE] })
    expect(draft!.criteria).toEqual(["release-note-voice#AC-1", "release-note-voice#AC-2", "release-note-voice#AC-3", "release-note-voice#AC-4", "release-note-voice#AC-5"])
    expect(condense).toMatchObject({ id: CONDENSE, targets: [], criteria: ["changelog-line#AC-1", "changelog-line#AC-2"] })
    expect(appliesTo(bundle, "changelog-line#AC-1", CONDENSE)).toBe(true)
    expect(appliesTo(bundle, "changelog-line#AC-1", DRAFT)).toBe(false)
    expect(appliesTo(bundle, "release-note-voice#AC-2", CONDENSE)).toBe(false)
    expect(appliesTo(bundle, "release-note-voice#AC-2", "some-other-cycle")).toBe(false)
    expect(gatesFor(bundle, CONDENSE).map((g) => g.criterion)).toEqual(["changelog-line#AC-1", "changelog-line#AC-2"])
    expect(packFor(bundle, CONDENSE, "quench").text).toContain("changelog-link.mjs")
    expect(packFor(bundle, CONDENSE, "quench").text).not.toContain("word-limit")
  })

  it("through the real hooks: the changelog forge never sees the release-note criteria, and vice versa", async () => {
    buildAndPin(recipe(SCOPED))
    const d = await loadPlugin(p.dir)
    const draftOut = JSON.parse(await d.after("foundry_orchestrate", compact(forgeFor({ cycle: DRAFT })))) as Json
    expect(draftOut.prompt).toContain("release-note-voice#AC-1")
    expect(draftOut.prompt).not.toContain("changelog-line#AC-")
    expect(draftOut.prompt).not.toContain("The changelog entry is a single line")

    const condenseOut = JSON.parse(await d.after("foundry_orchestrate", compact(forgeFor({ cycle: CONDENSE, stage: `forge:${CONDENSE}` })))) as Json
    expect(condenseOut.prompt).toContain("changelog-line#AC-1")
    expect(condenseOut.prompt).toContain("The changelog entry is a single line of at most 120 characters.")
    expect(condenseOut.prompt).not.toContain("release-note-voice#AC-")
    expect(condenseOut.prompt).not.toContain("The note is at most 150 words")
  })

  it("the UI's bundle page shows each cycle's own stage texts, the same words the hooks give that cycle", async () => {
    const digest = buildAndPin(recipe(SCOPED))
    const r = resolveTarget(new AlloyContext(p.dir), { brief_id: p.briefId, digest })
    const texts = stageTexts(r.bundle, { brief_id: p.briefId, digest, stale: false })
    const forgeOf = (cycle: string) => texts.find((t) => t.stage === `forge:${cycle}`)
    expect(forgeOf(DRAFT)?.cycle).toBe(DRAFT)
    expect(forgeOf(DRAFT)?.text).toContain("release-note-voice#AC-1")
    expect(forgeOf(DRAFT)?.text).not.toContain("changelog-line#AC-")
    expect(forgeOf(CONDENSE)?.text).toContain("changelog-line#AC-1")
    expect(forgeOf(CONDENSE)?.text).not.toContain("release-note-voice#AC-")
    // byte for byte what the dispatch hook appends for that cycle
    const d = await loadPlugin(p.dir)
    const condenseOut = JSON.parse(await d.after("foundry_orchestrate", compact(forgeFor({ cycle: CONDENSE, stage: `forge:${CONDENSE}` })))) as Json
    expect(condenseOut.prompt as string).toContain(forgeOf(CONDENSE)!.text)
    expect(new Set(texts.map((t) => t.cycle))).toEqual(new Set([DRAFT, CONDENSE]))
  })

  it("through the real hooks: each cycle's appraisers grade only that cycle's law gates", async () => {
    buildAndPin(recipe(SCOPED))
    const d = await loadPlugin(p.dir)
    const forDraft = JSON.parse(await d.after("foundry_orchestrate", compact({ ...appraiseDispatch(), cycle: DRAFT }))) as Json
    expect(forDraft.alloy.laws).toEqual(["alloy--release-note-voice--ac-2", "alloy--release-note-voice--ac-3"])
    const forCondense = JSON.parse(await d.after("foundry_orchestrate", compact({ ...appraiseDispatch(), cycle: CONDENSE, stage: `appraise:${CONDENSE}` }))) as Json
    expect(forCondense.alloy.laws).toEqual(["alloy--changelog-line--ac-1"])
    for (const t of forCondense.tasks as Array<{ prompt: string }>) {
      expect(t.prompt).toContain("## alloy--changelog-line--ac-1")
      expect(t.prompt).not.toContain("alloy--release-note-voice--")
    }
  })

  it("criterion scope overrides its intent's scope", () => {
    buildAndPin(recipe(`${SCOPED}    release-note-voice#AC-5: [${DRAFT}, ${CONDENSE}]\n`))
    const bundle = resolveTarget(new AlloyContext(p.dir), { cycle: DRAFT }).bundle
    expect(appliesTo(bundle, "release-note-voice#AC-5", CONDENSE)).toBe(true)
    expect(appliesTo(bundle, "release-note-voice#AC-4", CONDENSE)).toBe(false)
    expect(packFor(bundle, CONDENSE, "forge").text).toContain("release-note-voice#AC-5")
    expect(packFor(bundle, CONDENSE, "forge").text).not.toContain("release-note-voice#AC-4")
  })
})

describe("coverage: a criterion with no gate in the formation cannot be built", () => {
  it("a criterion without evidence fails the build with `ungated`; allow_ungated builds and shows it in the bundle", () => {
    const file = path.join(p.dir, ".alloy", "intents", "changelog-line.md")
    writeFileSync(file, readFileSync(file, "utf8").replace("    evidence:\n      kind: law\n", ""))
    writeFileSync(path.join(p.dir, ".alloy", "briefs", "release-note-voice.md"), recipe(SCOPED))
    expect(() => buildBrief(p.ctx, p.briefId)).toThrow(expect.objectContaining({ code: "ungated", message: expect.stringContaining("changelog-line#AC-1") }))
    writeFileSync(path.join(p.dir, ".alloy", "briefs", "release-note-voice.md"), recipe(SCOPED, "  allow_ungated: true\n"))
    const b = buildBrief(p.ctx, p.briefId)
    expect(b.output.bundle.composition).toMatchObject({ allow_ungated: true, ungated: ["changelog-line#AC-1"] })
  })

  it("`brief build --allow-ungated` builds once without touching the recipe, and the bundle shows it", async () => {
    const file = path.join(p.dir, ".alloy", "intents", "changelog-line.md")
    writeFileSync(file, readFileSync(file, "utf8").replace("    evidence:\n      kind: law\n", ""))
    const recipeFile = path.join(p.dir, ".alloy", "briefs", "release-note-voice.md")
    writeFileSync(recipeFile, recipe(SCOPED))
    const refused = await runCli(p.dir, "brief", "build", p.briefId, "--json")
    expect(refused.code).toBe(1)
    expect(refused.json()).toMatchObject({ ok: false, code: "ungated" })
    const r = await runCli(p.dir, "brief", "build", p.briefId, "--allow-ungated", "--json")
    expect(r.code, r.out).toBe(0)
    expect(r.json<{ builds: unknown[] }>().builds[0]).toMatchObject({ allow_ungated: true, ungated: ["changelog-line#AC-1"] })
    const bundle = JSON.parse(readFileSync(path.join(p.dir, ".alloy", "objects", "sha256", `${r.json<{ builds: Array<{ digest: string }> }>().builds[0]!.digest.slice(7)}.json`), "utf8"))
    expect(bundle.composition).toMatchObject({ allow_ungated: true, ungated: ["changelog-line#AC-1"] })
    expect(readFileSync(recipeFile, "utf8")).toBe(recipe(SCOPED))
    // the flag is for one build: the next build without it is refused again
    expect((await runCli(p.dir, "brief", "build", p.briefId)).code).toBe(1)
    expect((await runCli(p.dir, "brief", "build", p.briefId, "--allow-ungated")).out).toContain("ungated: changelog-line#AC-1")
  })

  it("scope naming a cycle outside the formation, or an intent not in the brief, is an invalid recipe", () => {
    writeFileSync(path.join(p.dir, ".alloy", "briefs", "release-note-voice.md"), recipe(`  scope:\n    release-note-voice: [nowhere]\n    other-intent: [${DRAFT}]\n`))
    expect(() => buildBrief(p.ctx, p.briefId)).toThrow(expect.objectContaining({ code: "invalid_recipe" }))
  })
})

describe("old recipes", () => {
  it("a recipe without scope has no composition; every criterion applies to every cycle; a multi-cycle formation gets a lint warning", () => {
    const before = buildBrief(p.ctx, p.briefId)
    expect(before.digest).toBe(p.digest) // unchanged digest for the example recipe
    expect(before.output.bundle.composition).toBeUndefined()
    expect(appliesTo(before.output.bundle, "release-note-voice#AC-1", CONDENSE)).toBe(true)
    expect(packFor(before.output.bundle, CONDENSE, "forge").text).toBe(before.output.bundle.packs["forge"]!.text)
    writeFileSync(path.join(p.dir, ".alloy", "briefs", "release-note-voice.md"), recipe(""))
    const r = p.ctx.store.readRecipe(p.briefId).value
    expect(lintBrief(r, []).map((w) => w.code)).toContain("formation_unscoped")
    expect(lintBrief({ ...r, formation: { ...r.formation, scope: { "release-note-voice": [DRAFT] } } }, []).map((w) => w.code)).not.toContain("formation_unscoped")
  })
})

describe("edges are sources too: a change of a cycle's targets is drift", () => {
  it("status and verify --strict see a composed brief's edges change when nothing else does; a rebuild clears it", async () => {
    buildAndPin(recipe(SCOPED))
    expect((await runCli(p.dir, "verify", "--strict")).code).toBe(0)
    const cycle = path.join(p.dir, "foundry", "cycles", `${DRAFT}.md`)
    writeFileSync(cycle, readFileSync(cycle, "utf8").replace(`targets:\n  - ${CONDENSE}\n`, ""))
    const v = await runCli(p.dir, "verify", "--strict", "--json")
    expect(v.code).toBe(1)
    const drift = v.json<{ findings: Array<{ code: string; message: string }> }>().findings.find((f) => f.code === "source_drift")
    expect(drift?.message).toContain(`edges of cycle ${DRAFT} (targets ${CONDENSE} → none)`)
    const st = await runCli(p.dir, "status", "--json")
    expect(JSON.stringify(st.json())).toContain(`edges of cycle ${DRAFT}`)
    buildAndPin(recipe(SCOPED))
    expect((await runCli(p.dir, "verify", "--strict")).code).toBe(0)
  })
})
