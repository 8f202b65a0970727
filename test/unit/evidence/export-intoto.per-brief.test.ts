// A brief's statement is judged from only its own evidence: an intent carried by two briefs is
// satisfied in one brief's statement by runs under that brief's bundles, never by the other's.
import { describe, expect, test } from "vitest"
import { buildBundle } from "../../../src/core/build.js"
import type { Bundle } from "../../../src/core/bundle.js"
import { parseIntent } from "../../../src/core/intent.js"
import { parseRecipe } from "../../../src/core/recipe.js"
import { buildEvidenceModel } from "../../../src/evidence/model.js"
import { exportIntoto } from "../../../src/evidence/export-intoto.js"
import { INTENT_TEXT, RECIPE_TEXT, exampleBundle, record } from "../../helpers/evidence.js"

const X = exampleBundle()
const otherRecipe = RECIPE_TEXT.replace("id: release-note-voice", "id: other-brief")
const Y = buildBundle({
  recipe: { value: parseRecipe(otherRecipe, "briefs/other-brief.md"), text: otherRecipe },
  intents: [{ value: parseIntent(INTENT_TEXT, "intents/release-note-voice.md"), text: INTENT_TEXT }],
})

function model(records: ReturnType<typeof record>[]) {
  return buildEvidenceModel({
    project: "acme",
    now: "2026-05-28T00:00:00.000Z",
    records,
    bundles: new Map<string, Bundle>([
      [X.digest, X.bundle],
      [Y.digest, Y.bundle],
    ]),
    current: new Map([
      ["release-note-voice", X.digest],
      ["other-brief", Y.digest],
    ]),
    validators: [],
  })
}

/** A finished dry run under brief `briefId` whose diff has the release note (AC-5, an artefact gate). */
const finishUnder = (briefId: string, digest: string, at: string) =>
  ({
    ...record({ stage: "finish", at, session: `draft-release-note@${at}`, artefacts: [{ path: "release-notes/2026-05.md", state: "new", sha256: "c".repeat(64) }] }),
    pin: { brief_id: briefId, digest },
  }) as ReturnType<typeof record>

const ac5 = (st: ReturnType<typeof exportIntoto>[number]) =>
  (st.predicate["verdicts"] as Array<{ criteria: Array<{ ref: string; verdict: string; evidence: unknown[] }> }>)[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-5")!

describe("a brief's verdicts come from its own evidence only", () => {
  test("evidence under brief Y's bundle satisfies the criterion in Y's statement and in the project view, not in X's statement", () => {
    const m = model([finishUnder("other-brief", Y.digest, "2026-05-27T10:00:00.000Z")])
    // the project view (status, report) judges an intent from every brief that carries it
    expect(m.intents.find((i) => i.id === "release-note-voice")!.criteria.find((c) => c.ref === "release-note-voice#AC-5")!.verdict).toBe("satisfied")
    const statements = exportIntoto(m, () => undefined)
    const x = statements.find((s) => (s.predicate["brief"] as { id: string }).id === "release-note-voice")!
    const y = statements.find((s) => (s.predicate["brief"] as { id: string }).id === "other-brief")!
    expect(ac5(y).verdict).toBe("satisfied")
    expect(ac5(y).evidence).toHaveLength(1)
    expect(ac5(x)).toMatchObject({ verdict: "unproven", evidence: [] })
    expect(m.verdictsFor("release-note-voice").counts.satisfied).toBe(0)
  })

  test("X's own run then satisfies it in X's statement", () => {
    const m = model([finishUnder("other-brief", Y.digest, "2026-05-27T10:00:00.000Z"), finishUnder("release-note-voice", X.digest, "2026-05-27T11:00:00.000Z")])
    const x = exportIntoto(m, () => undefined).find((s) => (s.predicate["brief"] as { id: string }).id === "release-note-voice")!
    expect(ac5(x).verdict).toBe("satisfied")
  })

  test("the per-brief verdicts are not part of the model's JSON", () => {
    const m = model([])
    expect(Object.keys(JSON.parse(JSON.stringify(m)))).not.toContain("verdictsFor")
  })
})
