// Spec quality: the criterion grammar (EARS, Given/When/Then; free text noted), clarification
// markers that become open questions and fail --strict until resolved, the capped clarify loop
// recorded in the intent, old intents building to the same digest, and alloy_intent_update
// keeping the author's YAML comments.
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { criterionForm } from "../../src/core/lint.js"
import { buildBrief } from "../../src/service/build.js"
import { runCli } from "../helpers/cli.js"
import { loadPlugin } from "../helpers/plugin.js"
import { BRIEF_ID, makeProject, REPO_ROOT, writeExampleSources, type TestProject } from "../helpers/project.js"

let p: TestProject | undefined
afterEach(() => p?.cleanup())

function project(): TestProject {
  p = makeProject("alloy-spec-")
  writeExampleSources(p.dir)
  return p
}

describe("criterion grammar", () => {
  const ears = [
    "WHEN a shopper opens the panel THE SYSTEM SHALL show the newest note first.",
    "When a refund is issued, the system shall email the shopper within 5 minutes.",
    "IF the word count is over 150 THEN THE SYSTEM SHALL reject the note.",
    "WHILE the note is a draft THE SYSTEM SHALL hide it from customers.",
    "WHERE the shop sells abroad THE SYSTEM SHALL show prices in the local currency.",
    "WHILE offline, IF a save fails THEN THE app SHALL keep the draft locally.",
    "THE note SHALL be 150 words or fewer, title included.",
  ]
  const gwt = ["Given a published note, when a shopper opens the panel, then the note's title is shown first."]
  const free = ["The note is 150 words or fewer.", "Refunds are fast.", "When possible we try to be short.", "If it fails, tell someone."]
  for (const t of ears) it(`EARS: ${t}`, () => expect(criterionForm(t)).toBe("ears"))
  for (const t of gwt) it(`Given/When/Then: ${t}`, () => expect(criterionForm(t)).toBe("given-when-then"))
  for (const t of free) it(`free text: ${t}`, () => expect(criterionForm(t)).toBeUndefined())

  it("lint notes free-text criteria (info, never failing --strict) and says nothing of structured ones", async () => {
    const { dir } = project()
    const j = (await runCli(dir, "intent", "lint", BRIEF_ID, "--json")).json<{ entries: Array<{ warnings: Array<{ code: string; severity: string; path: string; message: string }> }> }>()
    const un = j.entries.flatMap((e) => e.warnings).filter((w) => w.code === "criterion_unstructured")
    expect(un).toMatchObject([{ severity: "info", path: "acceptance_criteria[0].text" }])
    expect(un[0]!.message).toContain("release-note-voice: AC-1, AC-2, AC-3, AC-4, AC-5 are free text")
    expect((await runCli(dir, "brief", "build", BRIEF_ID, "--strict")).code).toBe(0)
    const f = path.join(dir, ".alloy/intents/release-note-voice.md")
    writeFileSync(f, readFileSync(f, "utf8").replace("text: The note is 150 words or fewer, title included.", "text: THE note SHALL be 150 words or fewer, title included."))
    const again = (await runCli(dir, "intent", "lint", BRIEF_ID, "--json")).json<{ entries: Array<{ warnings: Array<{ code: string; path: string; message: string }> }> }>()
    expect(again.entries.flatMap((e) => e.warnings).filter((w) => w.code === "criterion_unstructured")).toMatchObject([
      { path: "acceptance_criteria[1].text", message: expect.stringContaining("AC-2, AC-3, AC-4, AC-5 are free text") },
    ])
  })
})

describe("[NEEDS CLARIFICATION: …] markers", () => {
  it("map to open_questions, warn, and fail --strict until resolved", async () => {
    const { dir } = project()
    const plugin = await loadPlugin(dir)
    const upd = await plugin.tool("alloy_intent_update", {
      id: BRIEF_ID,
      set: { goal: "Every release note tells a shopper what changed for them. [NEEDS CLARIFICATION: does this cover the mobile app's notes too?]" },
    })
    expect(upd.json["ok"], upd.text).toBe(true)
    expect((upd.json["intent"] as { open_questions: string[] }).open_questions).toEqual(["does this cover the mobile app's notes too?"])
    const codes = (upd.json["warnings"] as Array<{ code: string; severity: string }>).filter((w) => w.severity === "warning").map((w) => w.code)
    expect(codes).toContain("needs_clarification")
    expect(codes).toContain("open_questions_active")
    const strict = await runCli(dir, "brief", "build", BRIEF_ID, "--strict", "--json")
    expect(strict.code).toBe(1)
    expect(strict.out).toContain("needs_clarification")
    // answered: the marker goes, the question goes, and the strict build passes
    const fixed = await plugin.tool("alloy_intent_update", {
      id: BRIEF_ID,
      set: { goal: "Every release note tells a shopper, on the web and in the mobile app, what changed for them." },
      remove: { open_questions: ["does this cover the mobile app's notes too?"] },
    })
    expect(fixed.json["ok"], fixed.text).toBe(true)
    expect((await runCli(dir, "brief", "build", BRIEF_ID, "--strict")).code).toBe(0)
  })
})

describe("[NEEDS CLARIFICATION: …] in a brief recipe's notes", () => {
  it("warns and fails a strict build", async () => {
    const { dir } = project()
    const f = path.join(dir, ".alloy/briefs/release-note-voice.md")
    writeFileSync(
      f,
      readFileSync(f, "utf8").replace(
        "appraise: Read the note as a returning customer on a phone would.",
        'appraise: "Read the note as a returning customer would. [NEEDS CLARIFICATION: on a phone or a desktop?]"',
      ),
    )
    const r = await runCli(dir, "brief", "build", BRIEF_ID, "--strict", "--json")
    expect(r.code).toBe(1)
    expect(r.json<{ details: Array<{ path: string; message: string }> }>().details).toContainEqual({
      path: ".alloy/briefs/release-note-voice.md stages.appraise",
      message: expect.stringContaining("[needs_clarification]"),
    })
  })
})

describe("the clarify loop, recorded in the intent", () => {
  const q = (n: number, answer?: string) => ({ question: `Question ${n}?`, priority: n, ...(answer ? { answer } : {}) })

  it("records at most five prioritised questions with answers; an unanswered one warns", async () => {
    const { dir } = project()
    const plugin = await loadPlugin(dir)
    const six = await plugin.tool("alloy_intent_update", { id: BRIEF_ID, set: { clarifications: [1, 2, 3, 4, 5, 6].map((n) => q(n, "yes")) } })
    expect(six.json).toMatchObject({ ok: false, code: "invalid_intent" })
    expect(String(six.json["error"])).toContain("at most 5 clarifications")
    const five = await plugin.tool("alloy_intent_update", { id: BRIEF_ID, set: { clarifications: [q(1, "Only the web panel."), q(2, "The product owner."), q(3)] } })
    expect(five.json["ok"], five.text).toBe(true)
    expect((five.json["warnings"] as Array<{ code: string; path: string }>).filter((w) => w.code === "clarification_open").map((w) => w.path)).toEqual(["clarifications[2]"])
    expect(readFileSync(path.join(dir, ".alloy/intents/release-note-voice.md"), "utf8")).toContain("answer: The product owner.")
  })

  it("an intent without the new fields builds to the same digest as before they existed", () => {
    const { ctx } = project()
    expect(buildBrief(ctx, BRIEF_ID).digest).toBe("sha256:1468f5e0ee275730db051de3c63ad49403d156fbde9d60a10b35964cd95e7c60")
  })
})

describe("alloy_intent_update keeps the author's YAML comments", () => {
  const COMMENTED = `---
# Owned by the docs team; ask in #release-notes before changing the goal.
id: release-note-voice
title: Release notes speak to customers, not engineers
status: draft # becomes active once the product owner agrees
goal: Every release note tells a shopper, in one glance, what changed for them.
constraints:
  # hard limit from the in-app panel
  - The note is at most 150 words, title included.
  - "No internal identifiers appear: ticket keys, service names or flag names." # legal asked for this
acceptance_criteria:
  - id: AC-1
    # the validator counts the title too
    text: THE note SHALL be 150 words or fewer, title included.
    evidence:
      kind: check
      command: node scripts/validators/word-limit.mjs --max 150 release-notes/*.md
  - id: AC-2
    text: The first sentence states what the customer gains.
    evidence:
      kind: law # graded by the appraisers
open_questions:
  - Who signs off the tone? # ask the PO
---

Customers skim these notes between other tasks.
`

  it("changes only the values patched; every comment and the body stay", async () => {
    const { dir } = project()
    const file = path.join(dir, ".alloy/intents/release-note-voice.md")
    writeFileSync(file, COMMENTED)
    const plugin = await loadPlugin(dir)
    const r = await plugin.tool("alloy_intent_update", {
      id: BRIEF_ID,
      set: { status: "active" },
      append: { constraints: ["Availability is given as a date a customer understands."] },
      remove: { open_questions: ["Who signs off the tone?"] },
      criteria: { replace: [{ id: "AC-2", text: "WHEN a shopper reads the note THE SYSTEM SHALL state what they gain in the first sentence." }] },
    })
    expect(r.json["ok"], r.text).toBe(true)
    const out = readFileSync(file, "utf8")
    for (const c of [
      "# Owned by the docs team; ask in #release-notes before changing the goal.",
      "# becomes active once the product owner agrees",
      "# hard limit from the in-app panel",
      "# legal asked for this",
      "# the validator counts the title too",
      "# graded by the appraisers",
    ]) {
      expect(out).toContain(c)
    }
    expect(out).toContain("status: active # becomes active once the product owner agrees")
    expect(out).toContain("  - Availability is given as a date a customer understands.")
    expect(out).toContain("text: WHEN a shopper reads the note THE SYSTEM SHALL state what they gain in the first sentence.")
    expect(out).not.toContain("Who signs off the tone?")
    expect(out.endsWith("---\n\nCustomers skim these notes between other tasks.\n")).toBe(true)
    // the rest of the text is the author's, line for line
    expect(out.split("\n").slice(0, 4)).toEqual(COMMENTED.split("\n").slice(0, 4))
    const listed = await plugin.tool("alloy_intent_list", { id: BRIEF_ID })
    expect(listed.json["ok"]).toBe(true)
  })
})

describe("updateIntentText (property): any change of values is an in-place edit that reads back exactly", () => {
  it("for random scalar, list and criterion changes, the edit keeps every comment and parses to the new record", async () => {
    const fc = (await import("fast-check")).default
    const { parseIntent, updateIntentText, validateIntent } = await import("../../src/core/intent.js")
    const BASE = `---
# top comment
id: a
title: A title # title comment
status: draft
goal: A goal.
constraints:
  - First. # c1
  - Second.
acceptance_criteria:
  - id: AC-1 # criterion comment
    text: THE note SHALL be short.
    evidence:
      kind: law
open_questions:
  - Who? # q comment
---

Body.
`
    const prev = parseIntent(BASE, "a.md", "a")
    const word = fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,20}[a-z]\.$/)
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          status: fc.constantFrom("draft", "active"),
          goal: fc.option(word, { nil: undefined }),
          constraints: fc.array(fc.constantFrom("First.", "Second.", "Third.", "Fourth."), { maxLength: 4 }).map((l) => [...new Set(l)]),
          text: fc.option(word, { nil: undefined }),
          open: fc.boolean(),
        }),
        async (c) => {
          const { body, ...fm } = prev
          const next = validateIntent(
            {
              ...fm,
              status: c.status,
              goal: c.goal ?? prev.goal,
              constraints: c.constraints,
              acceptance_criteria: [{ ...prev.acceptance_criteria[0]!, text: c.text ?? prev.acceptance_criteria[0]!.text }],
              open_questions: c.open ? prev.open_questions : [],
            },
            body,
            "a.md",
            "a",
          )
          const out = updateIntentText(BASE, "a.md", prev, next)
          expect(out).toBeDefined()
          expect(parseIntent(out!, "a.md", "a")).toEqual(next)
          for (const k of ["# top comment", "# title comment", "# criterion comment"]) expect(out).toContain(k)
          if (c.constraints.includes("First.")) expect(out).toContain("# c1")
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe("the skills say what Alloy does", () => {
  const skill = (name: string, file = "SKILL.md") => readFileSync(path.join(REPO_ROOT, "skills", name, file), "utf8")
  it("the wizard asks for edge cases, error states and non-functional targets, writes EARS or Given/When/Then, clarifies at most five times, and never suggests a check it cannot prove", () => {
    const t = skill("alloy-wizard")
    for (const s of [
      "edge cases",
      "error states",
      "non-functional targets",
      "Offer important constraints as criteria",
      "WHEN <trigger> THE SYSTEM SHALL <response>",
      "IF <unwanted condition> THEN",
      "Given <context>, when <action>, then <outcome>",
      "[NEEDS CLARIFICATION: <the question>]",
      "at most five",
      "clarifications",
    ]) {
      expect(t, s).toContain(s)
    }
    for (const f of ["SKILL.md", "intent-format.md"]) expect(skill("alloy-wizard", f)).not.toMatch(/command: "?npm test/)
  })
  it("the formation skill previews first and writes only on a config/* branch", () => {
    const t = skill("alloy-formation")
    for (const s of ['alloy_formation_design({ brief_id: "api-docs" })', "write: true", "config/*", "not_config_branch", "work_branch", "explicit yes"]) expect(t, s).toContain(s)
    expect(t.indexOf("write: true")).toBeGreaterThan(t.indexOf("explicit yes"))
  })
})
