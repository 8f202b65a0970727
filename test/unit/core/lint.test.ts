import { describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import path from "node:path"
import { constraintClash, failsStrict, formatWarning, lintBrief, lintIntent, parseConstraint, vagueReason, type LintWarning } from "../../../src/core/lint.js"
import { parseIntent, validateIntent, type Intent } from "../../../src/core/intent.js"
import { parseRecipe, validateRecipe, type Recipe } from "../../../src/core/recipe.js"
import { EXAMPLE_ALLOY_DIR } from "../../../src/demo/example-project.js"

const example = () => parseIntent(readFileSync(path.join(EXAMPLE_ALLOY_DIR, "intents", "release-note-voice.md"), "utf8"), "x.md")
const exampleRecipe = () => parseRecipe(readFileSync(path.join(EXAMPLE_ALLOY_DIR, "briefs", "release-note-voice.md"), "utf8"), "b.md")

function intent(over: Record<string, unknown> = {}): Intent {
  return validateIntent({ id: "i", title: "T", status: "active", goal: "G", ...over }, "", "i.md")
}
function recipe(over: Record<string, unknown> = {}): Recipe {
  return validateRecipe({ id: "b", intents: ["a", "b"], formation: { cycles: ["c"] }, ...over }, "", "b.md")
}
const codes = (ws: LintWarning[]) => ws.map((w) => w.code)

describe("vague criteria", () => {
  it.each([
    "The UI is user-friendly",
    "Pages load fast",
    "Good error messages",
    "The code is clean and robust",
    "Checkout is intuitive for returning shoppers",
    "It works well",
    "The tone feels right",
    "Handles errors appropriately",
    "Performance is better",
  ])("flags %j", (t) => {
    expect(vagueReason(t)).toBeDefined()
  })

  it.each([
    "Pages load in under 200 ms",
    "Fast: p95 latency is 300 ms or less",
    "The note is 150 words or fewer, title included.",
    "The first sentence after the title states what the customer gains.",
    "Any action the customer must take is stated explicitly, or the note says that none is needed.",
    "The product owner approves the tone before the note is published.",
    "`npm test` exits 0",
    "Every page has a title",
    "No internal ticket keys appear in the text",
    "The README links to docs/setup.md",
  ])("accepts %j", (t) => {
    expect(vagueReason(t)).toBeUndefined()
  })

  it("says which weasel word and what to do", () => {
    expect(vagueReason("The page is fast")).toMatch(/"fast".*number/)
    expect(vagueReason("The tone feels right")).toMatch(/no measurable or checkable term/)
  })
})

describe("lintIntent", () => {
  it("the shipped example has no warnings", () => {
    expect(lintIntent(example())).toEqual([])
  })

  it("warns on a criterion without evidence, naming the field and the file", () => {
    const ws = lintIntent(intent({ acceptance_criteria: [{ id: "AC-1", text: "The note has 1 title." }] }))
    expect(codes(ws)).toEqual(["criterion_no_evidence"])
    expect(ws[0]).toMatchObject({ severity: "warning", file: ".alloy/intents/i.md", path: "acceptance_criteria[0].evidence" })
    expect(ws[0]!.message).toContain("i#AC-1")
    expect(ws[0]!.fix).toBeTruthy()
  })

  it("warns on vague criteria", () => {
    const ws = lintIntent(intent({ acceptance_criteria: [{ id: "AC-1", text: "The page is fast", evidence: { kind: "law" } }] }))
    expect(codes(ws)).toEqual(["criterion_vague"])
    expect(ws[0]!.path).toBe("acceptance_criteria[0].text")
  })

  it("warns on open questions only when active", () => {
    const q = { acceptance_criteria: [{ id: "AC-1", text: "The note has 1 title.", evidence: { kind: "law" } }], open_questions: ["Who signs off?"] }
    expect(codes(lintIntent(intent({ ...q, status: "active" })))).toEqual(["open_questions_active"])
    expect(lintIntent(intent({ ...q, status: "draft" }))).toEqual([])
  })

  it("no criteria: a warning when active, info when draft, nothing when retired", () => {
    expect(lintIntent(intent({ status: "active" }))).toMatchObject([{ code: "no_criteria", severity: "warning" }])
    expect(lintIntent(intent({ status: "draft" }))).toMatchObject([{ code: "no_criteria", severity: "info" }])
    expect(lintIntent(intent({ status: "retired" }))).toEqual([])
  })

  it("reports template placeholders", () => {
    const ws = lintIntent(intent({ goal: "TODO: say what", acceptance_criteria: [{ id: "AC-1", text: "The note has 1 title.", evidence: { kind: "law" } }] }))
    expect(codes(ws)).toEqual(["placeholder_text"])
    expect(ws[0]!.path).toBe("goal")
  })
})

describe("constraint clashes", () => {
  const clash: Array<[string, string]> = [
    ["The note must include the ticket key.", "The note must not include the ticket key."],
    ["Always use British spelling.", "Never use British spelling."],
    ["No analytics cookies.", "Analytics cookies are required."],
    ['Availability is given as a date a customer understands (e.g. "by 4 June"), never as a rollout percentage.', "The rollout percentage must be shown."],
    ["The note is at most 150 words, title included.", "Release notes must be at least 200 words long."],
    ["Responses under 200 ms.", "Responses take more than 300 ms."],
    ["The summary is exactly 3 lines.", "The summary is at least 5 lines."],
    ["The title is between 5 and 10 words.", "The title has 12 words or more."],
  ]
  it.each(clash)("%j vs %j clash", (a, b) => {
    expect(constraintClash(a, b)).toBeDefined()
    expect(constraintClash(b, a)).toBeDefined()
  })

  const fine: Array<[string, string]> = [
    ["The note is at most 150 words, title included.", "The note is at least 100 words."],
    ["The note must be no more than 150 words.", "The note must include a title."],
    ["Use tabs.", "Do not use spaces."],
    ["The summary line is at most 80 characters.", "The note body is at least 300 characters."],
    ["Notes must use British spelling.", "Code must not use British spelling in identifiers of the public API."],
    ["The note is at most 150 words.", "The page loads in at most 2 s."],
  ]
  it.each(fine)("%j vs %j do not clash", (a, b) => {
    expect(constraintClash(a, b)).toBeUndefined()
  })

  it("parses polarity, subject and bounds", () => {
    const [c] = parseConstraint("The note mustn't include ticket keys")
    expect(c!.polarity).toBe("negative")
    expect([...c!.subject].sort()).toEqual(["key", "note", "ticket"])
    const [b] = parseConstraint("The note is under 150 words")
    expect(b!.polarity).toBeUndefined()
    expect(b!.bounds).toEqual([{ unit: "word", max: 149, phrase: "under 150 words" }])
  })
})

describe("lintBrief", () => {
  it("the shipped example brief has no warnings", () => {
    expect(lintBrief(exampleRecipe(), [example()])).toEqual([])
  })

  it("warns on constraints that clash between two intents, naming both", () => {
    const a = validateIntent({ id: "a", title: "A", status: "active", goal: "G", constraints: ["The note is at most 150 words."] }, "", "a.md")
    const b = validateIntent({ id: "b", title: "B", status: "active", goal: "G", constraints: ["Keep it friendly.", "The note is at least 300 words."] }, "", "b.md")
    const ws = lintBrief(recipe(), [a, b])
    expect(codes(ws)).toEqual(["constraint_clash"])
    expect(ws[0]!.message).toContain("a constraints[0]")
    expect(ws[0]!.message).toContain("b constraints[1]")
    expect(ws[0]!.file).toBe(".alloy/briefs/b.md")
  })

  it("does not compare an intent with itself", () => {
    const a = validateIntent({ id: "a", title: "A", status: "active", goal: "G", constraints: ["Always X.", "Never X."] }, "", "a.md")
    const b = intent({ id: "b" })
    expect(codes(lintBrief(recipe(), [a, b]))).toEqual([])
  })

  it("reports missing, inactive and draft intents and an empty formation", () => {
    const a = intent({ id: "a", status: "retired" })
    const ws = lintBrief(recipe({ intents: ["a", "b", "c"], formation: {} }), [a, intent({ id: "b", status: "draft" })])
    expect(codes(ws).sort()).toEqual(["formation_empty", "intent_draft", "intent_inactive", "intent_missing"])
    expect(ws.find((w) => w.code === "intent_missing")!.path).toBe("intents[2]")
    expect(ws.find((w) => w.code === "intent_draft")!.severity).toBe("info")
  })

  it("strict fails on warnings, never on info", () => {
    expect(failsStrict([{ code: "intent_draft", severity: "info", message: "m" }])).toBe(false)
    expect(failsStrict([{ code: "criterion_vague", severity: "warning", message: "m" }])).toBe(true)
    expect(formatWarning({ code: "criterion_vague", severity: "warning", file: "f.md", path: "p", message: "m" })).toBe("warning [criterion_vague] f.md p: m")
  })
})
