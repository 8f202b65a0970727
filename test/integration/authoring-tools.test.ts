/**
 * Authoring through the agent tools only (issue #4), via the REAL plugin entry with a fake
 * ToolContext: from nothing to a verified pin, partial updates that validate the whole result,
 * strict and dry-run builds, stable error codes, and the work-branch refusal.
 */
import { afterEach, describe, expect, it } from "vitest"

import { readFileSync } from "node:fs"
import path from "node:path"
import type { z } from "zod"
import { loadPlugin, type LoadedPlugin } from "../helpers/plugin.js"
import { AlloyContext } from "../../src/service/context.js"
import { verifyAllPins } from "../../src/service/verify-pins.js"
import { makeProject, type TestProject } from "../helpers/project.js"
import { snapshotTree } from "../helpers/tree.js"
import { git, gitInitCommitAll } from "../helpers/git.js"

const BRIEF = "release-note-voice"
const CYCLE = "draft-release-note"
const AUTHORING = ["alloy_intent_create", "alloy_intent_update", "alloy_intent_list", "alloy_brief_build", "alloy_brief_pin"]

let project: TestProject | undefined
afterEach(() => {
  project?.cleanup()
  project = undefined
})

type Result = Record<string, unknown> & { ok: boolean; code?: string; error?: string; fix?: string }

const plugin = (dir: string): Promise<LoadedPlugin> => loadPlugin(dir, { hooks: false })

/** A tool's JSON result; a stack trace in the text is a failure of its own. */
async function call(p: LoadedPlugin, name: string, args: Record<string, unknown>, checkArgs = true): Promise<Result> {
  const { text } = await p.tool(name, args, { checkArgs })
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/)
  return JSON.parse(text) as Result
}

const INTENT = {
  id: BRIEF,
  title: "Release notes speak to customers, not engineers",
  status: "active",
  goal: "Every release note tells a shopper, in one glance, what changed for them and what they have to do.",
  context: "Read in the in-app What's new panel, mostly on phones.",
  constraints: ["The note is at most 150 words, title included."],
  acceptance_criteria: [
    { text: "The note is 150 words or fewer, title included.", evidence: { kind: "check", command: "node scripts/validators/word-limit.mjs --max 150 release-notes/*.md" } },
    { text: "The first sentence after the title states what the customer gains.", evidence: { kind: "law", passing: "The first sentence names a gain." } },
    { text: "The product owner approves the tone before the note is published.", evidence: { kind: "human", who: "the product owner" } },
  ],
  non_goals: ["Explaining how the change was implemented."],
  tradeoffs: ["Brevity over completeness."],
  body: "Customers skim these notes.",
}

describe("tools: from nothing to a verified pin", () => {
  it("registers the five authoring tools with described arguments", async () => {
    project = makeProject("alloy-tools-")
    const hooks = await plugin(project.dir)
    for (const t of AUTHORING) {
      const def = hooks.hooks.tool[t]
      expect(def.description.length, t).toBeGreaterThan(80)
      for (const [k, schema] of Object.entries(def.args)) expect((schema as z.ZodType).description, `${t}.${k}`).toBeTruthy()
    }
  })

  it("create -> list -> build (creating the recipe) -> pin -> resolve", async () => {
    project = makeProject("alloy-tools-")
    const dir = project.dir
    const hooks = await plugin(dir)

    const created = await call(hooks, "alloy_intent_create", INTENT)
    expect(created.ok, JSON.stringify(created)).toBe(true)
    expect(created["file"]).toBe(`.alloy/intents/${BRIEF}.md`)
    expect((created["intent"] as { acceptance_criteria: Array<{ id: string; ref: string }> }).acceptance_criteria.map((c) => c.ref)).toEqual([`${BRIEF}#AC-1`, `${BRIEF}#AC-2`, `${BRIEF}#AC-3`])
    expect((created["warnings"] as Array<{ code: string }>).filter((w) => w.code !== "criterion_unstructured")).toEqual([])
    expect(created["initialised"]).toContain(".alloy/.gitignore")

    const listed = await call(hooks, "alloy_intent_list", {})
    expect(listed["intents"]).toMatchObject([{ id: BRIEF, status: "active", criteria: 3, briefs: [] }])

    const built = await call(hooks, "alloy_brief_build", { brief_id: BRIEF, intents: [BRIEF], flow: "release-notes", cycles: [CYCLE], stages: { forge: "Translate engineering terms." } })
    expect(built.ok, JSON.stringify(built)).toBe(true)
    const digest = built["digest"] as string
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(built).toMatchObject({ changed: true, previous: null, recipe: { file: `.alloy/briefs/${BRIEF}.md`, created: true } })

    const again = await call(hooks, "alloy_brief_build", { brief_id: BRIEF })
    expect(again).toMatchObject({ ok: true, digest, changed: false })

    const pinned = await call(hooks, "alloy_brief_pin", { brief_id: BRIEF, cycle: CYCLE })
    expect(pinned).toMatchObject({ ok: true, digest, verified: true, changed: true, target: { kind: "cycle", id: CYCLE, file: `foundry/cycles/${CYCLE}.md` } })
    expect(String(pinned["next"])).toContain("git commit")

    const resolved = await call(hooks, "alloy_brief_resolve", { cycle: CYCLE })
    expect(resolved).toMatchObject({ ok: true, brief_id: BRIEF, digest, verified: true, stale: false })
    const report = verifyAllPins(new AlloyContext(dir))
    expect(report.ok).toBe(true)
    expect(report.pins.map((p) => p.status)).toEqual(["ok"])

    const one = await call(hooks, "alloy_intent_list", { id: BRIEF })
    expect(one).toMatchObject({ ok: true, briefs: [BRIEF], file: `.alloy/intents/${BRIEF}.md` })
  })

  it("pin without a cycle uses the brief's formation; an unclear target is a usage error", async () => {
    project = makeProject("alloy-tools-")
    const dir = project.dir
    const hooks = await plugin(dir)
    await call(hooks, "alloy_intent_create", INTENT)
    await call(hooks, "alloy_brief_build", { brief_id: BRIEF, intents: [BRIEF], cycles: [CYCLE] })
    expect(await call(hooks, "alloy_brief_pin", { brief_id: BRIEF })).toMatchObject({ ok: true, target: { kind: "cycle", id: CYCLE } })
    await call(hooks, "alloy_brief_build", { brief_id: "two", intents: [BRIEF], cycles: [CYCLE, "condense-changelog-entry"] })
    const unclear = await call(hooks, "alloy_brief_pin", { brief_id: "two" })
    expect(unclear).toMatchObject({ ok: false, code: "usage" })
    expect(unclear.error).toContain("draft-release-note, condense-changelog-entry")
  })
})

describe("tools: alloy_intent_update", () => {
  async function setup() {
    project = makeProject("alloy-tools-")
    const hooks = await plugin(project.dir)
    expect((await call(hooks, "alloy_intent_create", { ...INTENT, open_questions: ["Who signs off in June?"] })).ok).toBe(true)
    return { hooks, dir: project.dir, file: path.join(project.dir, ".alloy", "intents", `${BRIEF}.md`) }
  }

  it("applies set, append, remove and criteria add/replace/remove, never reusing an id", async () => {
    const { hooks } = await setup()
    const r = await call(hooks, "alloy_intent_update", {
      id: BRIEF,
      set: { goal: "A new goal for shoppers.", context: null },
      append: { constraints: ["No internal identifiers appear."] },
      remove: { open_questions: ["Who signs off in June?"] },
      criteria: {
        remove: ["AC-3"],
        replace: [{ id: "AC-2", text: "The first sentence states the gain in under 20 words." }],
        add: [{ text: "The note is saved under release-notes/.", evidence: { kind: "artefact", path: "release-notes/*.md" } }],
      },
    })
    expect(r.ok, JSON.stringify(r)).toBe(true)
    const i = r["intent"] as { goal: string; context?: string; constraints: string[]; open_questions: string[]; acceptance_criteria: Array<{ id: string; text: string; evidence: unknown[] }> }
    expect(i.goal).toBe("A new goal for shoppers.")
    expect(i.context).toBeUndefined()
    expect(i.constraints).toEqual(["The note is at most 150 words, title included.", "No internal identifiers appear."])
    expect(i.open_questions).toEqual([])
    expect(i.acceptance_criteria.map((c) => c.id)).toEqual(["AC-1", "AC-2", "AC-4"])
    expect(i.acceptance_criteria[1]!.text).toContain("under 20 words")
    expect(i.acceptance_criteria[1]!.evidence).toEqual([{ kind: "law", passing: "The first sentence names a gain." }]) // kept
    expect(r["changed"]).toBe(true)
    const same = await call(hooks, "alloy_intent_update", { id: BRIEF, set: { goal: "A new goal for shoppers." } })
    expect(same).toMatchObject({ ok: true, changed: false })
  })

  it("validates the whole result and writes nothing on any error, listing every problem", async () => {
    const { hooks, file } = await setup()
    const before = readFileSync(file)
    const r = await call(hooks, "alloy_intent_update", {
      id: BRIEF,
      remove: { constraints: ["not there"] },
      criteria: { remove: ["AC-9"], replace: [{ id: "AC-7", text: "x" }] },
    })
    expect(r).toMatchObject({ ok: false, code: "invalid_intent" })
    const paths = (r["details"] as Array<{ path: string }>).map((d) => d.path)
    expect(paths).toEqual(["remove.constraints[0]", "criteria.remove[0]", "criteria.replace[0].id"])
    expect(r.error).toContain("nothing was written")
    expect(readFileSync(file).equals(before)).toBe(true)

    const invalid = await call(hooks, "alloy_intent_update", { id: BRIEF, set: { status: "active", title: "   " }, criteria: { add: [{ text: "x", evidence: { kind: "check" } }] } })
    expect(invalid).toMatchObject({ ok: false, code: "invalid_intent" })
    const p2 = (invalid["details"] as Array<{ path: string }>).map((d) => d.path)
    expect(p2).toContain("title")
    expect(p2).toContain("acceptance_criteria[3].evidence[0].command")
    expect(readFileSync(file).equals(before)).toBe(true)

    const stale = await call(hooks, "alloy_intent_update", { id: BRIEF, expected_digest: `sha256:${"0".repeat(64)}`, set: { goal: "x y z" } })
    expect(stale).toMatchObject({ ok: false, code: "invalid_intent" })
    expect(stale.error).toContain("changed since it was read")
    expect(readFileSync(file).equals(before)).toBe(true)

    // (OpenCode drops keys the schema does not know; called directly, the service still refuses them)
    const idChange = await call(hooks, "alloy_intent_update", { id: BRIEF, set: { id: "other", colour: "blue" } }, false)
    expect(idChange).toMatchObject({ ok: false, code: "invalid_intent" })
    expect((idChange["details"] as Array<{ path: string }>).map((d) => d.path)).toEqual(["set.id", "set.colour"])
    expect(readFileSync(file).equals(before)).toBe(true)
    const missing = await call(hooks, "alloy_intent_update", { id: "nope", set: { goal: "g" } })
    expect(missing).toMatchObject({ ok: false, code: "intent_not_found" })
    // a slip of an intent's id gets the intent it meant, for an agent as for a person
    const slip = await call(hooks, "alloy_intent_update", { id: "release-note-vocie", set: { goal: "g" } })
    expect(slip).toMatchObject({ ok: false, code: "intent_not_found" })
    expect(String(slip["fix"])).toContain(`did you mean ${BRIEF}?`)
  })

  it("accepts the digest it handed out", async () => {
    const { hooks } = await setup()
    const read = await call(hooks, "alloy_intent_list", { id: BRIEF })
    const r = await call(hooks, "alloy_intent_update", { id: BRIEF, expected_digest: read["source_digest"] as string, set: { status: "draft" } })
    expect(r).toMatchObject({ ok: true, changed: true })
  })
})

describe("tools: builds and errors", () => {
  it("strict fails on warnings with lint_failed and writes nothing; dry_run writes nothing", async () => {
    project = makeProject("alloy-tools-")
    const dir = project.dir
    const hooks = await plugin(dir)
    await call(hooks, "alloy_intent_create", { ...INTENT, acceptance_criteria: [{ text: "The note reads nicely." }] })
    const created = await call(hooks, "alloy_brief_build", { brief_id: BRIEF, intents: [BRIEF], cycles: [CYCLE], dry_run: true })
    expect(created).toMatchObject({ ok: false, code: "usage" })
    const before = snapshotTree(dir)
    const first = await call(hooks, "alloy_brief_build", { brief_id: BRIEF, intents: [BRIEF], cycles: [CYCLE], strict: true })
    expect(first).toMatchObject({ ok: false, code: "lint_failed" })
    // the recipe was saved (an explicit request), but no object and no ref
    const after = snapshotTree(dir)
    expect([...after.keys()].filter((k) => !before.has(k))).toEqual([path.join(".alloy", "briefs", `${BRIEF}.md`)])
    const codes = (first["details"] as Array<{ message: string }>).map((d) => d.message.split("]")[0])
    expect(codes).toEqual(["[criterion_no_evidence", "[criterion_vague"])
    const dry = await call(hooks, "alloy_brief_build", { brief_id: BRIEF, dry_run: true })
    expect(dry).toMatchObject({ ok: true, dry_run: true })
    expect((dry["warnings"] as Array<{ severity: string }>).filter((w) => w.severity === "warning").length).toBe(2)
    expect(snapshotTree(dir)).toEqual(after)
  })

  it("answers bad input with stable codes and a fix", async () => {
    project = makeProject("alloy-tools-")
    const dir = project.dir
    const hooks = await plugin(dir)
    expect(await call(hooks, "alloy_intent_create", { ...INTENT, id: "../x" })).toMatchObject({ ok: false, code: "invalid_id" })
    const dup = await call(hooks, "alloy_intent_create", {
      ...INTENT,
      acceptance_criteria: [
        { id: "AC-1", text: "a 1" },
        { id: "AC-1", text: "b 2" },
      ],
    })
    expect(dup).toMatchObject({ ok: false, code: "invalid_intent" })
    expect(dup.error).toContain("duplicate criterion id AC-1")
    expect(await call(hooks, "alloy_intent_create", INTENT)).toMatchObject({ ok: true })
    const again = await call(hooks, "alloy_intent_create", INTENT)
    expect(again).toMatchObject({ ok: false, code: "already_exists" })
    expect(again.fix).toContain("alloy_intent_update")
    expect(await call(hooks, "alloy_brief_build", { brief_id: "nope" })).toMatchObject({ ok: false, code: "brief_not_found" })
    expect(await call(hooks, "alloy_brief_build", { brief_id: "x", intents: ["missing"] })).toMatchObject({ ok: false, code: "intent_not_found" })
    expect(await call(hooks, "alloy_brief_build", { brief_id: "x", intents: [BRIEF], cycles: ["no-such"] })).toMatchObject({ ok: false, code: "invalid_recipe" })
    expect(await call(hooks, "alloy_brief_pin", { brief_id: BRIEF, cycle: CYCLE })).toMatchObject({ ok: false, code: "brief_not_found" })
    expect(await call(hooks, "alloy_brief_pin", { brief_id: BRIEF, cycle: CYCLE, flow: "release-notes" })).toMatchObject({ ok: false, code: "usage" })
    expect(await call(hooks, "alloy_intent_list", { id: "Not A Slug" })).toMatchObject({ ok: false, code: "invalid_id" })
  })
})

describe("tools: Foundry flow branches", () => {
  it("refuses every write on work/* with work_branch and a message to switch branch; reads still work", async () => {
    project = makeProject("alloy-tools-")
    const dir = project.dir
    const hooks = await plugin(dir)
    await call(hooks, "alloy_intent_create", INTENT)
    await call(hooks, "alloy_brief_build", { brief_id: BRIEF, intents: [BRIEF], cycles: [CYCLE] })
    gitInitCommitAll(dir, "base")
    git(dir, ["checkout", "-q", "-b", "work/release-notes-x"])
    const before = snapshotTree(dir)
    const writes: Array<[string, Record<string, unknown>]> = [
      ["alloy_intent_create", { ...INTENT, id: "another" }],
      ["alloy_intent_update", { id: BRIEF, set: { goal: "changed goal text" } }],
      ["alloy_brief_build", { brief_id: BRIEF }],
      ["alloy_brief_build", { brief_id: "new-brief", intents: [BRIEF] }],
      ["alloy_brief_pin", { brief_id: BRIEF, cycle: CYCLE }],
    ]
    for (const [tool, args] of writes) {
      const r = await call(hooks, tool, args)
      expect(r, tool).toMatchObject({ ok: false, code: "work_branch" })
      expect(r.error).toContain("work/release-notes-x")
      expect(r.fix).toMatch(/switch to the base branch.*config\/\*/)
    }
    expect(snapshotTree(dir)).toEqual(before)
    expect((await call(hooks, "alloy_intent_list", {})).ok).toBe(true)
    expect((await call(hooks, "alloy_brief_build", { brief_id: BRIEF, dry_run: true })).ok).toBe(true)
    expect(snapshotTree(dir)).toEqual(before)
  })
})
