import { describe, expect, it, vi } from "vitest"
import { readFileSync } from "node:fs"
import path from "node:path"
import { intentTemplate, INTENT_FIELDS, IntentSchema, nextCriterionId, parseIntent, readIntentSource, renderIntentFile, validateIntent } from "../../../src/core/intent.js"
import { parseRecipe, RecipeSchema, renderRecipeFile, validateRecipe } from "../../../src/core/recipe.js"
import { buildBundle } from "../../../src/core/build.js"
import { AlloyError } from "../../../src/core/errors.js"
import { lintIntent } from "../../../src/core/lint.js"
import { EXAMPLE_ALLOY_DIR } from "../../../src/demo/example-project.js"

const EXAMPLE = readFileSync(path.join(EXAMPLE_ALLOY_DIR, "intents", "release-note-voice.md"), "utf8")
const RECIPE = readFileSync(path.join(EXAMPLE_ALLOY_DIR, "briefs", "release-note-voice.md"), "utf8")

function errorOf(fn: () => unknown): AlloyError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(AlloyError)
    return e as AlloyError
  }
  throw new Error("expected an error")
}

describe("intent records", () => {
  it("parses the example with every field", () => {
    const i = parseIntent(EXAMPLE, ".alloy/intents/release-note-voice.md", "release-note-voice")
    expect(i.id).toBe("release-note-voice")
    expect(i.status).toBe("active")
    expect(i.acceptance_criteria.map((c) => c.id)).toEqual(["AC-1", "AC-2", "AC-3", "AC-4", "AC-5"])
    expect(i.acceptance_criteria[0]!.evidence).toEqual([{ kind: "check", command: "node scripts/validators/word-limit.mjs --max 150 release-notes/*.md" }])
    expect(i.body).toMatch(/^Customers skim/)
  })

  it("reports every problem at once, each with its field and what is expected", () => {
    const text = `---
id: x
title: 5
status: finished
goal: [a]
constraints: "one"
acceptance_criteria:
  - id: AC-1
    text: ok
    evidence: { kind: check }
  - id: AC-1
    text: dup
    evidence: { kind: bogus }
colour: blue
---
`
    const e = errorOf(() => parseIntent(text, ".alloy/intents/x.md", "x"))
    expect(e.code).toBe("invalid_intent")
    expect(e.file).toBe(".alloy/intents/x.md")
    expect(e.message).toMatch(/^\.alloy\/intents\/x\.md: intent record has 8 problems/)
    const byPath = Object.fromEntries(e.details.map((d) => [d.path, d.message]))
    expect(byPath["title"]).toMatch(/expected title as text; found number 5/)
    expect(byPath["status"]).toMatch(/expected one of: draft, active, satisfied, retired, superseded; found "finished"/)
    expect(byPath["goal"]).toMatch(/found a list/)
    expect(byPath["constraints"]).toMatch(/expected a list of constraints/)
    expect(byPath["acceptance_criteria[0].evidence[0].command"]).toMatch(/it is missing/)
    expect(byPath["acceptance_criteria[1].evidence[0].kind"]).toMatch(/check .* law .* human .* artefact.*found "bogus"/)
    expect(byPath["acceptance_criteria[1].id"]).toMatch(/duplicate criterion id AC-1/)
    expect(byPath["(top level)"]).toMatch(/unknown field "colour"/)
    expect(byPath["(top level)"]).not.toContain("did you mean")
    expect(e.fix).toContain("intent lint")
  })

  it("names the field a misspelt one meant: another spelling of it, or a slip", () => {
    const e = errorOf(() => parseIntent("---\nid: x\ntitle: t\nstatus: draft\ngoal: g\nacceptence_criteria: []\nConstraints: []\n---\n", ".alloy/intents/x.md", "x"))
    const top = e.details.find((d) => d.path === "(top level)")!.message
    expect(top).toContain('"acceptence_criteria" (did you mean "acceptance_criteria"?)')
    expect(top).toContain('"Constraints" (did you mean "constraints"?)')
  })

  it("reports an id that does not match the file name together with other problems", () => {
    const e = errorOf(() => parseIntent("---\nid: other\ntitle: t\nstatus: nope\ngoal: g\n---\n", ".alloy/intents/x.md", "x"))
    expect(e.details.map((d) => d.path).sort()).toEqual(["id", "status"])
    expect(e.details.find((d) => d.path === "id")!.message).toContain("x.md")
  })

  it("suggests the right name for a misspelt field", () => {
    const e = errorOf(() => validateIntent({ id: "x", title: "t", status: "draft", goal: "g", nongoals: [] }, "", "x.md"))
    expect(e.message).toContain('did you mean "non_goals"')
  })

  it("explains unquoted text with ': '", () => {
    const e = errorOf(() => parseIntent("---\nid: x\ntitle: t\nstatus: draft\ngoal: Brevity: short wins\n---\n", "x.md"))
    expect(e.code).toBe("invalid_intent")
    expect(e.message).toContain('goal: "Brevity: short wins"')
  })

  it("accepts evidence as one mapping or a list, and reads both as a list", () => {
    const one = validateIntent({ id: "x", title: "t", status: "draft", goal: "g", acceptance_criteria: [{ id: "AC-1", text: "t", evidence: { kind: "law" } }] }, "", "x.md")
    const many = validateIntent(
      { id: "x", title: "t", status: "draft", goal: "g", acceptance_criteria: [{ id: "AC-1", text: "t", evidence: [{ kind: "law" }, { kind: "human", who: "QA" }] }] },
      "",
      "x.md",
    )
    expect(one.acceptance_criteria[0]!.evidence).toEqual([{ kind: "law" }])
    expect(many.acceptance_criteria[0]!.evidence).toHaveLength(2)
  })

  it("needs superseded_by for a superseded intent", () => {
    const e = errorOf(() => validateIntent({ id: "x", title: "t", status: "superseded", goal: "g" }, "", "x.md"))
    expect(e.details[0]!.path).toBe("superseded_by")
  })

  it("renders a record that reads back the same, with fields in schema order", () => {
    const i = parseIntent(EXAMPLE, "x.md")
    const text = renderIntentFile(i)
    expect(parseIntent(text, "y.md")).toEqual(i)
    const keys = [...text.split("---")[1]!.matchAll(/^([a-z_]+):/gm)].map((m) => m[1])
    expect(keys).toEqual(INTENT_FIELDS.filter((k) => keys.includes(k)))
    // one evidence entry stays a mapping (no one-item lists)
    expect(text).toContain("    evidence:\n      kind: check")
  })

  it("hands out criterion ids after the highest one, never reusing a removed id", () => {
    expect(nextCriterionId([])).toBe("AC-1")
    expect(nextCriterionId([{ id: "AC-1" }, { id: "AC-4" }])).toBe("AC-5")
  })

  it("writes a template that is a valid draft, with placeholders lint reports", () => {
    const t = intentTemplate("checkout-copy", { title: 'Copy with "quotes": and colons' })
    const i = parseIntent(t, "t.md", "checkout-copy")
    expect(i.status).toBe("draft")
    expect(i.title).toBe('Copy with "quotes": and colons')
    expect(lintIntent(i).map((w) => w.code)).toContain("placeholder_text")
    expect(t).toContain("# How we will know it is done")
    // a status value cannot inject YAML
    const e = errorOf(() => parseIntent(intentTemplate("x", { status: "draft\nfoo: 1" }), "t.md"))
    expect(e.details.map((d) => d.path)).toEqual(["status"])
  })

  it("readIntentSource splits without validating", () => {
    expect(readIntentSource("---\nid: 5\n---\nbody", "f.md")).toEqual({ data: { id: 5 }, body: "body" })
    expect(errorOf(() => readIntentSource("no frontmatter", "f.md")).code).toBe("invalid_intent")
  })

  it("a record made of faults is refused in a message a person can read, and one of half a million values unparsed", () => {
    // every problem at once, but a message lists 20 and counts the rest; details keep 200
    const many = errorOf(() => validateIntent({ id: "x", title: "t", status: "active", goal: "g", constraints: Array<number>(300).fill(1) }, "", "x.md"))
    expect(many.message.split("\n")).toHaveLength(1 + 20 + 1)
    expect(many.message).toMatch(/has 301 problems:\n {2}- constraints\[0\]: [\s\S]*\n {2}… and 281 more$/)
    expect(many.details).toHaveLength(201)
    expect(many.details[200]).toEqual({ path: "(more)", message: "101 more problems not listed" })
    // a 1 MiB file of half a million bad values cost zod 4 s, 766 MB and a 27 MB message
    const zod = vi.spyOn(IntentSchema, "safeParse")
    const recipe = vi.spyOn(RecipeSchema, "safeParse")
    try {
      const huge = errorOf(() => validateIntent({ id: "x", constraints: Array<number>(500_000).fill(1) }, "", "x.md"))
      expect(huge.code).toBe("invalid_intent")
      expect(huge.message).toBe(
        "x.md: intent record has 1 problem:\n  - (top level): holds more than 100,000 values, far more than any valid one; split the intent into smaller intents (one brief can carry several)",
      )
      expect(zod).not.toHaveBeenCalled()
      const r = errorOf(() => validateRecipe({ id: "b", intents: Array<string>(100_001).fill("a") }, "", "b.md"))
      expect(r.code).toBe("invalid_recipe")
      expect(r.details).toEqual([{ path: "(top level)", message: expect.stringMatching(/^holds more than 100,000 values/) }])
      expect(recipe).not.toHaveBeenCalled()
    } finally {
      zod.mockRestore()
      recipe.mockRestore()
    }
  })

  it("IntentSchema stays the single source of truth for the fields", () => {
    expect(Object.keys(IntentSchema.shape).sort()).toEqual([...INTENT_FIELDS].sort())
  })
})

describe("brief recipes", () => {
  it("parses and renders the example", () => {
    const r = parseRecipe(RECIPE, "b.md", "release-note-voice")
    expect(r.formation).toEqual({ flow: "release-notes", cycles: ["draft-release-note"] })
    expect(parseRecipe(renderRecipeFile(r), "b.md")).toEqual(r)
  })

  it("names bad stage keys, unknown fields and duplicate intents", () => {
    const e = errorOf(() => validateRecipe({ id: "b", intents: ["a", "a"], stages: { forge: "x", review: "y" } }, "", "b.md"))
    expect(e.code).toBe("invalid_recipe")
    expect(e.details.find((d) => d.path === "stages.review")!.message).toMatch(/"review" is not a stage/)
    const f = errorOf(() => validateRecipe({ id: "b", intents: ["a"], cycle: ["c"] }, "", "b.md"))
    expect(f.message).toContain('unknown field "cycle"')
    const g = errorOf(() => validateRecipe({ id: "b", intents: ["a", "a"] }, "", "b.md"))
    expect(g.details[0]).toEqual({ path: "intents[1]", message: "intent a is listed twice" })
  })
})

describe("packs are written for their reader", () => {
  const intent = parseIntent(EXAMPLE, "i.md")
  const recipe = parseRecipe(RECIPE, "b.md")
  const { bundle } = buildBundle({ recipe: { value: recipe, text: RECIPE }, intents: [{ value: intent, text: EXAMPLE }] })

  it("forge: goal, constraints, non-goals, tradeoffs and the criteria it must meet", () => {
    const t = bundle.packs["forge"]!.text
    for (const s of [
      "**Goal**",
      intent.goal,
      intent.constraints[0]!,
      "**Non-goals (do not do these)**",
      intent.non_goals[0]!,
      "**Tradeoffs (decided already)**",
      "**Acceptance criteria you must meet**",
      "release-note-voice#AC-5",
    ]) {
      expect(t).toContain(s)
    }
    expect(t).toContain(recipe.stages["forge"]!)
    expect(t).not.toMatch(/\n\n\n/)
  })

  it("appraise: the criteria as gradable laws in Foundry's law format", () => {
    const t = bundle.packs["appraise"]!.text
    expect(t).toContain("## alloy--release-note-voice--ac-2\n")
    expect(t).toMatch(/\nPassing: The first sentence after the title names a concrete gain/)
    expect(t).toMatch(/\nFailing: /)
    expect(t).toContain("## alloy--release-note-voice--ac-3")
  })

  it("human-appraise: the sign-off checklist", () => {
    const t = bundle.packs["human-appraise"]!.text
    expect(t).toContain("- [ ] **release-note-voice#AC-4** The product owner approves the tone")
    expect(t).toContain("sign-off by the product owner")
  })

  it("is deterministic and independent of line endings and a BOM", () => {
    const crlf = (s: string) => "\uFEFF" + s.replace(/\n/g, "\r\n")
    const again = buildBundle({
      recipe: { value: parseRecipe(crlf(RECIPE), "b.md"), text: crlf(RECIPE) },
      intents: [{ value: parseIntent(crlf(EXAMPLE), "i.md"), text: crlf(EXAMPLE) }],
    })
    const first = buildBundle({ recipe: { value: recipe, text: RECIPE }, intents: [{ value: intent, text: EXAMPLE }] })
    expect(again.digest).toBe(first.digest)
    expect(again.bytes.equals(first.bytes)).toBe(true)
  })

  it("a changed intent gives a new digest", () => {
    const changed = EXAMPLE.replace("150 words", "120 words")
    const a = buildBundle({ recipe: { value: recipe, text: RECIPE }, intents: [{ value: intent, text: EXAMPLE }] })
    const b = buildBundle({ recipe: { value: recipe, text: RECIPE }, intents: [{ value: parseIntent(changed, "i.md"), text: changed }] })
    expect(b.digest).not.toBe(a.digest)
  })
})
