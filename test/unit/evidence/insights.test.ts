/** The learning loop (pure): one case per finding kind, one "too thin" case per kind, and properties. */
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { deriveObservations } from "../../../src/evidence/observations.js"
import { judgeAll } from "../../../src/evidence/satisfaction.js"
import { intentSpecs } from "../../../src/evidence/model.js"
import { computeInsights, MIN_VERSIONS, type ConfigChange, type InsightInput, type PinFact, type UsageFact } from "../../../src/evidence/insights.js"
import { parseIntent } from "../../../src/core/intent.js"
import { parseRecipe } from "../../../src/core/recipe.js"
import { buildBundle } from "../../../src/core/build.js"
import type { Bundle } from "../../../src/core/bundle.js"
import type { RunRecord } from "../../../src/core/run-record.js"
import { exampleBundle, fbItem, twoBuilds, feedback, INTENT_TEXT, RECIPE_TEXT, record } from "../../helpers/evidence.js"

const { cur, old, bundles, current } = twoBuilds()
const BRIEF = "release-note-voice"
const AC1 = "law:alloy--release-note-voice--ac-1"
const AC2 = "law:alloy--release-note-voice--ac-2"
const authored = [parseIntent(INTENT_TEXT, "intents/release-note-voice.md")]
const V = (n: number) => n.toString(16).padStart(64, "0")
const T = (m: number) => `2026-05-27T10:${String(m).padStart(2, "0")}:00.000Z`

function pinFact(over: Partial<PinFact> = {}): PinFact {
  return { kind: "cycle", id: "draft-release-note", brief_id: BRIEF, digest: cur.digest, state: "current", cycles: ["draft-release-note"], ...over }
}

function input(records: RunRecord[], over: Partial<InsightInput> = {}): InsightInput {
  const observations = deriveObservations({ records, bundles, current, validators: [] })
  const { intents } = judgeAll(intentSpecs(bundles, current), observations)
  return {
    intents,
    observations,
    records,
    briefs: [{ id: BRIEF, digest: cur.digest, needs_build: false, intents: [BRIEF] }],
    pins: [pinFact()],
    authored,
    linted: new Set(),
    fileHash: () => undefined,
    ...over,
  }
}

const codes = (i: InsightInput) => computeInsights(i).findings.map((f) => f.code)

describe("drift", () => {
  test("a pin behind its brief's ref names both digests and the fix", () => {
    const ins = computeInsights(input([], { pins: [pinFact({ digest: old.digest, state: "behind" })] }))
    const f = ins.findings.find((x) => x.code === "pin_behind")!
    expect(f.subject).toBe("cycle draft-release-note")
    expect(f.evidence.map((e) => e.digest)).toEqual([old.digest, cur.digest])
    expect(f.fix).toMatch(/opencode-alloy pin draft-release-note release-note-voice/)
  })

  test("sources edited since the build", () => {
    expect(codes(input([], { briefs: [{ id: BRIEF, digest: cur.digest, needs_build: true, intents: [BRIEF] }] }))).toContain("sources_changed")
  })

  test("a criterion proven only under an older bundle", () => {
    const r = record({
      digest: old.digest,
      feedback: feedback([
        fbItem("I1", AC2, [
          ["open", T(0)],
          ["resolved", T(2)],
        ]),
      ]),
    })
    const f = computeInsights(input([r])).findings.find((x) => x.code === "satisfied_under_older_bundle")!
    expect(f.subject).toBe("release-note-voice#AC-2")
    expect(f.since?.run_id).toBe(r.run_id)
  })

  test("an artefact that changed after the run that satisfied the criterion; none when it is unchanged", () => {
    const r = record({
      digest: cur.digest,
      artefacts: [{ path: "release-notes/x.md", state: "new", sha256: V(7) }],
      feedback: feedback([
        fbItem("I1", AC2, [
          ["open", T(0)],
          ["resolved", T(2)],
        ]),
      ]),
    })
    const changed = computeInsights(input([r], { fileHash: () => V(8) })).findings.find((x) => x.code === "artefact_changed")!
    expect(changed.subject).toBe("release-note-voice#AC-2")
    expect(changed.data).toEqual({ files: [{ path: "release-notes/x.md", was: V(7), now: V(8) }] })
    expect(codes(input([r], { fileHash: () => V(7) }))).not.toContain("artefact_changed")
  })

  test("no data, no drift", () => {
    expect(computeInsights(input([])).findings).toEqual([])
  })
})

describe("contradictions", () => {
  /** AC-1 and AC-2 judged on `n` versions, alternating which one passes. */
  function alternating(n: number): RunRecord[] {
    return Array.from({ length: n }, (_, i) => {
      const v = V(100 + i)
      const pass = [
        ["open", T(i * 3)],
        ["resolved", T(i * 3 + 1)],
      ] as Array<[string, string]>
      const fail = [["open", T(i * 3)]] as Array<[string, string]>
      return record({
        digest: cur.digest,
        at: T(i * 3 + 2),
        session: `draft-release-note@s${i}`,
        feedback: feedback([fbItem(`A${i}`, AC1, i % 2 ? pass : fail, { artefact_version: v }), fbItem(`B${i}`, AC2, i % 2 ? fail : pass, { artefact_version: v })]),
      })
    })
  }

  test(`two criteria never passing on one version across ${MIN_VERSIONS} versions`, () => {
    const ins = computeInsights(input(alternating(MIN_VERSIONS)))
    const f = ins.findings.find((x) => x.code === "never_together")!
    expect(f.subject).toBe("release-note-voice#AC-1 release-note-voice#AC-2")
    expect(f.evidence).toHaveLength(MIN_VERSIONS * 2)
    expect(ins.followups.some((q) => q.because === f.message)).toBe(true)
  })

  test("too thin: fewer versions make no finding, and say so", () => {
    const ins = computeInsights(input(alternating(MIN_VERSIONS - 1)))
    expect(ins.findings.map((f) => f.code)).not.toContain("never_together")
    expect(ins.thin.join("\n")).toMatch(/never passed together, but on 2 artefact version/)
  })

  test("a wont-fix whose reason cites another criterion", () => {
    const r = record({
      digest: cur.digest,
      feedback: feedback([
        fbItem("I1", AC1, [
          ["open", T(0)],
          ["wont-fix", T(1), "AC-2 needs the longer benefit sentence"],
        ]),
      ]),
    })
    const f = computeInsights(input([r])).findings.find((x) => x.code === "waiver_cites_criterion")!
    expect(f.subject).toBe("release-note-voice#AC-1")
    expect(f.data).toEqual({ cites: ["release-note-voice#AC-2"] })
  })

  test("a human approval over a failing gate of the same criterion, in the same session", () => {
    // a variant where AC-3 is proven by an appraisal law AND a human sign-off
    const both = exampleBundle((t) =>
      t
        .replace("      kind: law\n  - id: AC-4", "      - kind: law\n      - kind: human\n        who: the product owner\n  - id: AC-4")
        .replace("    evidence:\n      - kind: law\n      - kind: human", "    evidence:\n      - kind: law\n      - kind: human"),
    )
    const bs = new Map<string, Bundle>([[both.digest, both.bundle]])
    const cur2 = new Map([[BRIEF, both.digest]])
    const AC3 = "law:alloy--release-note-voice--ac-3"
    // the approval: a human item on AC-3 resolved in the same session (a sign-off lives in the ledger, in a session of its own)
    const approval = fbItem("H1", "human", [["resolved", T(0)]], { text: "AC-3: the product owner approves" })
    const failing = record({ digest: both.digest, feedback: feedback([fbItem("I1", AC3, [["open", T(0)]]), approval]) })
    const mk = (records: RunRecord[]) => {
      const observations = deriveObservations({ records, bundles: bs, current: cur2, validators: [] })
      return input(records, { observations, intents: judgeAll(intentSpecs(bs, cur2), observations).intents, briefs: [{ id: BRIEF, digest: both.digest, needs_build: false, intents: [BRIEF] }] })
    }
    expect(
      both.bundle.overlay.gates
        .filter((g) => g.criterion === "release-note-voice#AC-3")
        .map((g) => g.kind)
        .sort(),
    ).toEqual(["human", "law"])
    const f = computeInsights(mk([failing])).findings.find((x) => x.code === "approval_over_failing")!
    expect(f.subject).toBe("release-note-voice#AC-3")
    expect(f.evidence.length).toBe(2)
    // once the law item is resolved, the approval stands on its own: no finding
    const fixed = record({
      digest: both.digest,
      feedback: feedback([
        fbItem("I1", AC3, [
          ["open", T(0)],
          ["resolved", T(1)],
        ]),
        approval,
      ]),
    })
    expect(computeInsights(mk([fixed])).findings.map((x) => x.code)).not.toContain("approval_over_failing")
  })

  test("versions where both pass, or where one never passes, are no contradiction", () => {
    const rs = alternating(MIN_VERSIONS)
    // add a version on which both pass
    rs.push(
      record({
        digest: cur.digest,
        session: "both",
        at: T(50),
        feedback: feedback([
          fbItem(
            "A9",
            AC1,
            [
              ["open", T(40)],
              ["resolved", T(41)],
            ],
            { artefact_version: V(999) },
          ),
          fbItem(
            "B9",
            AC2,
            [
              ["open", T(40)],
              ["resolved", T(41)],
            ],
            { artefact_version: V(999) },
          ),
        ]),
      }),
    )
    expect(codes(input(rs))).not.toContain("never_together")
    // AC-1 always fails, AC-2 always passes: a failing criterion, not a contradiction
    const oneSided = Array.from({ length: MIN_VERSIONS }, (_, i) =>
      record({
        digest: cur.digest,
        session: `o${i}`,
        feedback: feedback([
          fbItem(`X${i}`, AC1, [["open", T(i)]], { artefact_version: V(200 + i) }),
          fbItem(
            `Y${i}`,
            AC2,
            [
              ["open", T(i)],
              ["resolved", T(i + 1)],
            ],
            { artefact_version: V(200 + i) },
          ),
        ]),
      }),
    )
    expect(codes(input(oneSided))).not.toContain("never_together")
  })

  test("no contradiction from a single passing run", () => {
    const r = record({
      digest: cur.digest,
      feedback: feedback([
        fbItem(
          "I1",
          AC2,
          [
            ["open", T(0)],
            ["resolved", T(1)],
          ],
          { artefact_version: V(1) },
        ),
      ]),
    })
    expect(computeInsights(input([r])).findings.filter((f) => f.kind === "contradiction")).toEqual([])
  })
})

describe("strategies, tradeoffs, follow-ups, lifecycle", () => {
  const session = (digest: string, s: string, pass: boolean) =>
    record({
      digest,
      session: s,
      at: T(30),
      feedback: feedback([
        fbItem(
          `${s}-1`,
          AC2,
          pass
            ? [
                ["open", T(0)],
                ["resolved", T(1)],
              ]
            : [["open", T(0)]],
        ),
      ]),
    })

  test("two bundle digests with enough sessions are compared; one session each is too thin", () => {
    const records = [session(cur.digest, "a", true), session(cur.digest, "b", true), session(old.digest, "c", false), session(old.digest, "d", true)]
    const f = computeInsights(input(records)).findings.find((x) => x.code === "strategy_comparison")!
    expect(f.subject).toBe(BRIEF)
    expect((f.data as { best: string }).best).toBe(cur.digest)
    const thin = computeInsights(input([session(cur.digest, "a", true), session(old.digest, "c", false)]))
    expect(thin.findings.map((x) => x.code)).not.toContain("strategy_comparison")
    expect(thin.thin.join("\n")).toMatch(/no comparison made/)
  })

  test("waivers are tradeoff observations, matched to the declared tradeoff by its words", () => {
    const r = record({
      digest: cur.digest,
      feedback: feedback([
        fbItem("I1", AC2, [
          ["open", T(0)],
          ["wont-fix", T(1), "brevity beats completeness for shoppers reading release notes"],
          ["resolved", T(2)],
        ]),
      ]),
    })
    const f = computeInsights(input([r])).findings.find((x) => x.code === "tradeoff_exercised")!
    expect(f.subject).toBe("release-note-voice#AC-2")
    expect((f.data as { waivers: number }).waivers).toBe(1)
  })

  test("unproven criteria get a question citing why; a question's id is stable", () => {
    const a = computeInsights(input([])).followups
    const b = computeInsights(input([])).followups
    expect(a.length).toBeGreaterThan(0)
    expect(a).toEqual(b)
    expect(a.every((q) => q.because.length > 0 && q.criterion.startsWith("release-note-voice#"))).toBe(true)
  })

  test("draft -> active when lint is clean and a current pin carries it; not when lint warns or nothing pins it", () => {
    const draft = [{ ...authored[0]!, status: "draft" as const }]
    expect(computeInsights(input([], { authored: draft })).lifecycle.map((p) => p.to)).toEqual(["active"])
    expect(computeInsights(input([], { authored: draft, linted: new Set([BRIEF]) })).lifecycle).toEqual([])
    expect(computeInsights(input([], { authored: draft, pins: [] })).lifecycle).toEqual([])
  })

  test("satisfied -> superseded when another intent is pinned on its cycles, retired when nothing is", () => {
    const done = [{ ...authored[0]!, status: "satisfied" as const }]
    const ran = [record({ digest: cur.digest })]
    const replaced = input(ran, {
      authored: done,
      briefs: [
        { id: BRIEF, digest: cur.digest, needs_build: false, intents: [BRIEF] },
        { id: "voice-2", digest: old.digest, needs_build: false, intents: ["voice-2"] },
      ],
      pins: [pinFact({ brief_id: "voice-2", digest: old.digest })],
    })
    expect(computeInsights(replaced).lifecycle).toMatchObject([{ intent: BRIEF, to: "superseded", superseded_by: "voice-2" }])
    expect(computeInsights(input(ran, { authored: done, pins: [] })).lifecycle).toMatchObject([{ intent: BRIEF, to: "retired" }])
  })
})

const CAPS_THEN = `sha256:${"c".repeat(64)}`
const CAPS_NOW = `sha256:${"d".repeat(64)}`

describe("drift: capability manifest", () => {
  test("runs under the current bundle that recorded another manifest: one finding naming both digests, the runs and the fix", () => {
    const a = record({ digest: cur.digest, at: T(1), capabilities: CAPS_THEN, commit: "a".repeat(40) })
    const b = record({ digest: cur.digest, at: T(2), capabilities: CAPS_THEN })
    const same = record({ digest: cur.digest, at: T(3), capabilities: CAPS_NOW })
    const unknown = record({ digest: cur.digest, at: T(4) })
    const ins = computeInsights(input([a, b, same, unknown], { capabilities: CAPS_NOW }))
    const f = ins.findings.filter((x) => x.code === "capabilities_changed")
    expect(f).toHaveLength(1)
    expect(f[0]).toMatchObject({
      kind: "drift",
      subject: BRIEF,
      brief_id: BRIEF,
      since: { run_id: b.run_id, record: b.idempotency_key, digest: cur.digest },
      evidence: [
        { run_id: a.run_id, record: a.idempotency_key, digest: cur.digest, commit: "a".repeat(40) },
        { run_id: b.run_id, record: b.idempotency_key, digest: cur.digest },
      ],
      data: { recorded: CAPS_THEN, current: CAPS_NOW, runs: 2, unknown: 1 },
    })
    expect(f[0]!.message).toBe(
      `2 run(s) of brief ${BRIEF} under its current bundle ran under capability manifest ${"c".repeat(12)}, but the project's is now ${"d".repeat(12)}: Foundry or its agents changed after those runs, so their verdicts were reached with other tools (1 other record(s) do not say which manifest they ran under)`,
    )
    expect(f[0]!.fix).toBe("see what changed with `opencode-alloy compat`, then run draft-release-note again so the criteria are judged under the Foundry that runs now")
  })

  test("too thin: records that do not carry a manifest are unknown, never drift; runs under an older bundle are not counted", () => {
    const ins = computeInsights(input([record({ digest: cur.digest }), record({ digest: old.digest, capabilities: CAPS_THEN })], { capabilities: CAPS_NOW }))
    expect(ins.findings.map((x) => x.code)).not.toContain("capabilities_changed")
    expect(ins.thin).toContain(`brief ${BRIEF}: none of its 1 run record(s) under the current bundle says which capability manifest it ran under; no capability drift can be told`)
    // the project's own manifest unknown: nothing compared, and said
    const noCaps = computeInsights(input([record({ digest: cur.digest, capabilities: CAPS_THEN })]))
    expect(noCaps.findings.map((x) => x.code)).not.toContain("capabilities_changed")
    expect(noCaps.thin.join("\n")).toMatch(/capability manifest could not be built now/)
  })
})

describe("drift: Foundry config under a pinned formation", () => {
  const PINNED = "1".repeat(40)
  const LATER = "2".repeat(40)
  const change = (file: string, changed_in?: string): ConfigChange => ({
    pin: { kind: "cycle", id: "draft-release-note", brief_id: BRIEF, digest: cur.digest },
    pinned_in: PINNED,
    file,
    ...(changed_in ? { changed_in } : {}),
  })

  test("each changed file is one finding: the file, the pin's commit, the commit that changed it, and the fix", () => {
    const ins = computeInsights(input([], { configChanges: [change("foundry/laws/house-style.md", LATER), change("foundry/artefacts/release-note/laws.md")] }))
    const f = ins.findings.filter((x) => x.code === "foundry_config_changed")
    expect(f.map((x) => x.data)).toEqual([
      { file: "foundry/artefacts/release-note/laws.md", pinned_in: PINNED, changed_in: null },
      { file: "foundry/laws/house-style.md", pinned_in: PINNED, changed_in: LATER },
    ])
    const law = f[1]!
    expect(law).toMatchObject({ kind: "drift", subject: "cycle draft-release-note", brief_id: BRIEF, since: { commit: PINNED, digest: cur.digest }, evidence: [{ commit: LATER, digest: cur.digest }] })
    expect(law.message).toBe(
      `foundry/laws/house-style.md changed after cycle draft-release-note was pinned to brief ${BRIEF} @ ${cur.digest.slice(7, 19)} (pinned in commit 1111111; changed in commit 2222222): the brief's gates and packs were written against the Foundry config as it was`,
    )
    expect(law.fix).toBe(
      `review the change (\`git diff 111111111111 -- foundry/laws/house-style.md\`); if the brief no longer fits, update its intents, \`opencode-alloy brief build ${BRIEF}\` and \`opencode-alloy pin draft-release-note ${BRIEF}\`; otherwise revert the change`,
    )
    expect(f[0]!.message).toMatch(/changed in the work tree, not committed/)
    expect(new Set(f.map((x) => x.id)).size).toBe(2)
  })

  test("too thin: a pin git cannot date makes no finding, and says so", () => {
    const ins = computeInsights(input([], { configThin: ["cycle draft-release-note: its pin is not committed"] }))
    expect(ins.findings).toEqual([])
    expect(ins.thin).toContain("cycle draft-release-note: its pin is not committed")
  })
})

// ---- two intents in one brief whose constraints the lint says clash -------------------------------

const LENGTH_TEXT = `---
id: release-note-length
title: Release notes explain the whole change
status: active
goal: Every release note explains the change in full.
constraints:
  - The note is at least 200 words.
acceptance_criteria:
  - id: AC-1
    text: The note is 200 words or more.
    evidence:
      kind: law
non_goals: []
tradeoffs: []
---
`
const RECIPE2 = RECIPE_TEXT.replace("intents:\n  - release-note-voice", "intents:\n  - release-note-voice\n  - release-note-length")
const twoIntents = (voice: string) => {
  const out = buildBundle({
    recipe: { value: parseRecipe(RECIPE2, "briefs/release-note-voice.md"), text: RECIPE2 },
    intents: [
      { value: parseIntent(voice, "intents/release-note-voice.md"), text: voice },
      { value: parseIntent(LENGTH_TEXT, "intents/release-note-length.md"), text: LENGTH_TEXT },
    ],
  })
  return { bundle: out.bundle, digest: out.digest }
}
const two = twoIntents(INTENT_TEXT)
/** the same brief built before an edit of the voice intent: a second strategy */
const twoBefore = twoIntents(INTENT_TEXT.replace("150 words or fewer", "140 words or fewer"))
const LEN1 = "law:alloy--release-note-length--ac-1"

function input2(records: RunRecord[]): InsightInput {
  const bs = new Map<string, Bundle>([
    [two.digest, two.bundle],
    [twoBefore.digest, twoBefore.bundle],
  ])
  const curr = new Map([[BRIEF, two.digest]])
  const observations = deriveObservations({ records, bundles: bs, current: curr, validators: [] })
  return input(records, {
    observations,
    intents: judgeAll(intentSpecs(bs, curr), observations).intents,
    briefs: [{ id: BRIEF, digest: two.digest, needs_build: false, intents: [BRIEF, "release-note-length"] }],
    pins: [pinFact({ digest: two.digest })],
    authored: [...authored, parseIntent(LENGTH_TEXT, "intents/release-note-length.md")],
  })
}

/** On `n` artefact versions, the word limit (voice AC-1) and the length floor (length AC-1) take turns to pass. */
function tugOfWar(n: number, base = 300): RunRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const v = V(base + i)
    const pass = [
      ["open", T(i * 3)],
      ["resolved", T(i * 3 + 1)],
    ] as Array<[string, string]>
    const fail = [["open", T(i * 3)]] as Array<[string, string]>
    return record({
      digest: two.digest,
      at: T(i * 3 + 2),
      session: `draft-release-note@t${base + i}`,
      feedback: feedback([fbItem(`W${base + i}`, AC1, i % 2 ? pass : fail, { artefact_version: v }), fbItem(`L${base + i}`, LEN1, i % 2 ? fail : pass, { artefact_version: v })]),
    })
  })
}

describe("contradictions: constraint clashes confirmed by runs", () => {
  test(`the lint's clash, confirmed on ${MIN_VERSIONS} versions: both sides with their intent, constraint, guarding criteria and observations`, () => {
    const ins = computeInsights(input2(tugOfWar(MIN_VERSIONS)))
    const f = ins.findings.find((x) => x.code === "constraint_clash_confirmed")!
    expect(f).toBeDefined()
    expect(f.kind).toBe("contradiction")
    expect(f.subject).toBe("release-note-length release-note-voice")
    expect(f.brief_id).toBe(BRIEF)
    expect(f.message).toBe(
      `the lint flags release-note-length constraints[0] "The note is at least 200 words." vs release-note-voice constraints[0] "The note is at most 150 words, title included." (no value satisfies both "at least 200 words" and "at most 150 words"), and the runs confirm it: on ${MIN_VERSIONS} artefact versions judged on both sides, release-note-length#AC-1 and release-note-voice#AC-1 never all passed on the same one`,
    )
    const data = f.data as { lint: string; confirmed_by: string[]; sides: Array<{ intent: string; file: string; constraint: number; criteria: string[]; observations: string[] }> }
    expect(data.confirmed_by).toEqual(["versions"])
    expect(data.sides.map((x) => [x.intent, x.file, x.constraint, x.criteria])).toEqual([
      ["release-note-length", ".alloy/intents/release-note-length.md", 0, ["release-note-length#AC-1"]],
      ["release-note-voice", ".alloy/intents/release-note-voice.md", 0, ["release-note-voice#AC-1"]],
    ])
    expect(data.sides.map((x) => x.observations.length)).toEqual([MIN_VERSIONS, MIN_VERSIONS])
    expect(f.evidence).toHaveLength(MIN_VERSIONS * 2)
    expect(f.fix).toMatch(/record the decision under `tradeoffs`, then `opencode-alloy brief build release-note-voice`/)
    // a follow-up question on each side's guarding criterion, citing the same evidence
    const qs = ins.followups.filter((q) => q.because === f.message)
    expect(qs.map((q) => q.criterion)).toEqual(["release-note-length#AC-1", "release-note-voice#AC-1"])
    expect(qs[0]!.question).toBe(
      'The runs confirm that "The note is at least 200 words." (release-note-length) and "The note is at most 150 words, title included." (release-note-voice) cannot both hold. Which one wins?',
    )
    expect(qs[0]!.evidence).toEqual(f.evidence)
  })

  test("confirmed by a wont-fix of one side that cites the other side's criterion", () => {
    const r = record({
      digest: two.digest,
      feedback: feedback([
        fbItem("W1", AC1, [
          ["open", T(0)],
          ["wont-fix", T(1), "release-note-length#AC-1 needs the room"],
        ]),
      ]),
    })
    const f = computeInsights(input2([r])).findings.find((x) => x.code === "constraint_clash_confirmed")!
    expect((f.data as { confirmed_by: string[] }).confirmed_by).toEqual(["waiver"])
    expect(f.message).toMatch(/1 wont-fix reason\(s\) give up one side for the other \(release-note-voice#AC-1\)$/)
    expect(f.evidence.map((e) => e.run_id)).toEqual([r.run_id])
  })

  test("too thin: the lint's word rule alone, or fewer versions, or the two passing together, make no finding", () => {
    const none = computeInsights(input2([]))
    expect(none.findings.map((x) => x.code)).not.toContain("constraint_clash_confirmed")
    expect(none.thin.join("\n")).toMatch(/the lint flags release-note-length constraints\[0\].*the runs do not confirm it yet \(0 artefact version/)
    const few = computeInsights(input2(tugOfWar(MIN_VERSIONS - 1)))
    expect(few.findings.map((x) => x.code)).not.toContain("constraint_clash_confirmed")
    expect(few.thin.join("\n")).toMatch(/do not confirm it yet \(2 artefact version\(s\) judged on both sides; at least 3/)
    // one more version on which both sides pass: the constraints can be met together
    const both = record({
      digest: two.digest,
      at: T(55),
      session: "both",
      feedback: feedback([
        fbItem(
          "WB",
          AC1,
          [
            ["open", T(50)],
            ["resolved", T(51)],
          ],
          { artefact_version: V(999) },
        ),
        fbItem(
          "LB",
          LEN1,
          [
            ["open", T(50)],
            ["resolved", T(51)],
          ],
          { artefact_version: V(999) },
        ),
      ]),
    })
    const together = computeInsights(input2([...tugOfWar(MIN_VERSIONS), both]))
    expect(together.findings.map((x) => x.code)).not.toContain("constraint_clash_confirmed")
    expect(together.thin.join("\n")).toMatch(/both sides passed together on one/)
  })
})

describe("strategies: tokens and cost", () => {
  const sess = (digest: string, s: string, pass: boolean) =>
    record({
      digest,
      session: s,
      at: T(30),
      feedback: feedback([
        fbItem(
          `${s}-1`,
          AC2,
          pass
            ? [
                ["open", T(0)],
                ["resolved", T(1)],
              ]
            : [["open", T(0)]],
        ),
      ]),
    })
  const tokens = (i: number, o: number) => ({ input: i, output: o, reasoning: 0, cache_read: 0, cache_write: 0 })

  test("the bridge's recorded tokens and cost are summed per strategy; a strategy with none says 'not recorded', not zero", () => {
    const rs = [sess(cur.digest, "a", true), sess(cur.digest, "b", true), sess(old.digest, "c", false), sess(old.digest, "d", true)]
    const usage: UsageFact[] = [
      { key: "k1", brief_id: BRIEF, digest: cur.digest, runs: [rs[0]!.run_id], tokens: tokens(1000, 200), cost: 0.0125 },
      { key: "k2", brief_id: BRIEF, digest: cur.digest, runs: [rs[1]!.run_id], tokens: tokens(500, 100), cost: 0.005 },
      // another brief's run under the same digest is not this intent's spending
      { key: "k3", brief_id: "other-brief", digest: cur.digest, runs: [], tokens: tokens(9, 9), cost: 9 },
    ]
    const f = computeInsights(input(rs, { usage })).findings.find((x) => x.code === "strategy_comparison")!
    const byDigest = new Map((f.data as { strategies: Array<{ digest: string; usage: unknown }> }).strategies.map((s) => [s.digest, s.usage]))
    expect(byDigest.get(cur.digest)).toEqual({ requests: 2, tokens: tokens(1500, 300), cost: 0.0175, runs_covered: 2 })
    expect(byDigest.get(old.digest)).toBe("not recorded")
    expect(f.message).toMatch(/1500 tokens in \/ 300 out, cost 0\.0175 over 2 bridge run\(s\) naming 2 of its 2 run\(s\)/)
    expect(f.message).toMatch(/tokens and cost not recorded/)
    // a caller that could not read the bridge's results says so
    const unread = computeInsights(input(rs)).findings.find((x) => x.code === "strategy_comparison")!
    expect((unread.data as { strategies: Array<{ usage: unknown }> }).strategies.map((s) => s.usage)).toEqual(["not read", "not read"])
  })
})

describe("properties", () => {
  const pool = [
    record({
      digest: old.digest,
      feedback: feedback([
        fbItem("P1", AC2, [
          ["open", T(0)],
          ["resolved", T(2)],
        ]),
      ]),
    }),
    record({
      digest: cur.digest,
      session: "s1",
      feedback: feedback([
        fbItem(
          "P2",
          AC1,
          [
            ["open", T(3)],
            ["wont-fix", T(4), "AC-2 first"],
          ],
          { artefact_version: V(1) },
        ),
      ]),
    }),
    record({ digest: cur.digest, session: "s2", feedback: feedback([fbItem("P3", AC2, [["open", T(5)]], { artefact_version: V(1) })]) }),
    record({
      digest: cur.digest,
      session: "s3",
      feedback: feedback([
        fbItem(
          "P4",
          AC1,
          [
            ["open", T(6)],
            ["resolved", T(7)],
          ],
          { artefact_version: V(2) },
        ),
      ]),
    }),
  ]
  const unrelated = record({
    digest: "sha256:" + "e".repeat(64),
    pin: { brief_id: "other-brief", digest: "sha256:" + "e".repeat(64) },
    feedback: feedback([fbItem("U1", "law:alloy--other--ac-1", [["open", T(1)]])]),
  })

  test("findings are independent of record order, unchanged by re-imported duplicates and by records of unrelated briefs", () => {
    const base = computeInsights(input(pool))
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }), fc.array(fc.constantFrom(...pool), { maxLength: 4 }), fc.boolean(), (order, dups, withUnrelated) => {
        const records = [...order, ...dups, ...(withUnrelated ? [unrelated] : [])]
        expect(computeInsights(input(records))).toEqual(base)
      }),
      { numRuns: 60 },
    )
  })

  // the later kinds: capability drift, config drift, usage per strategy, and clashes confirmed by runs
  const pool2 = [
    ...tugOfWar(MIN_VERSIONS, 400).map((r, i) => ({ ...r, capabilities: i % 2 ? CAPS_THEN : CAPS_NOW })),
    record({
      digest: two.digest,
      session: "u1",
      at: T(40),
      feedback: feedback([
        fbItem("U1", AC2, [
          ["open", T(39)],
          ["resolved", T(40)],
        ]),
      ]),
    }),
    // two sessions under the earlier build: a second strategy to compare, with its own spending
    record({ digest: twoBefore.digest, session: "e1", at: T(41), feedback: feedback([fbItem("E1", AC2, [["open", T(40)]])]) }),
    record({
      digest: twoBefore.digest,
      session: "e2",
      at: T(42),
      feedback: feedback([
        fbItem("E2", AC2, [
          ["open", T(41)],
          ["resolved", T(42)],
        ]),
      ]),
    }),
  ]
  const usagePool: UsageFact[] = [
    { key: "k1", brief_id: BRIEF, digest: two.digest, runs: [pool2[0]!.run_id], tokens: { input: 7, output: 3, reasoning: 0, cache_read: 0, cache_write: 0 }, cost: 0.1 },
    { key: "k2", brief_id: BRIEF, digest: two.digest, runs: [pool2[1]!.run_id], tokens: { input: 5, output: 1, reasoning: 1, cache_read: 0, cache_write: 0 }, cost: 0.2 },
    { key: "k3", brief_id: BRIEF, digest: twoBefore.digest, runs: [pool2.at(-1)!.run_id], tokens: { input: 11, output: 2, reasoning: 0, cache_read: 3, cache_write: 0 }, cost: 0.3 },
  ]
  const unrelatedUsage: UsageFact = {
    key: "k9",
    brief_id: "other-brief",
    digest: `sha256:${"e".repeat(64)}`,
    runs: [unrelated.run_id],
    tokens: { input: 1, output: 1, reasoning: 0, cache_read: 0, cache_write: 0 },
    cost: 1,
  }
  const changes: ConfigChange[] = [
    { pin: { kind: "cycle", id: "draft-release-note", brief_id: BRIEF, digest: two.digest }, pinned_in: "1".repeat(40), file: "foundry/laws/house-style.md", changed_in: "2".repeat(40) },
    { pin: { kind: "cycle", id: "draft-release-note", brief_id: BRIEF, digest: two.digest }, pinned_in: "1".repeat(40), file: "foundry/cycles/draft-release-note.md" },
  ]
  const with2 = (records: RunRecord[], usage: UsageFact[], configChanges: ConfigChange[]) => ({ ...input2(records), capabilities: CAPS_NOW, usage, configChanges })

  test("the same holds with the later kinds: capability and config drift, confirmed clashes, tokens and cost", () => {
    const base = computeInsights(with2(pool2, usagePool, changes))
    expect(new Set(base.findings.map((f) => f.code))).toEqual(new Set(["capabilities_changed", "foundry_config_changed", "never_together", "constraint_clash_confirmed", "strategy_comparison"]))
    const strat = base.findings.find((f) => f.code === "strategy_comparison")!
    expect((strat.data as { strategies: Array<{ usage: unknown }> }).strategies.every((x) => typeof x.usage === "object")).toBe(true)
    fc.assert(
      fc.property(
        fc.shuffledSubarray(pool2, { minLength: pool2.length, maxLength: pool2.length }),
        fc.array(fc.constantFrom(...pool2), { maxLength: 4 }),
        fc.shuffledSubarray(usagePool, { minLength: usagePool.length, maxLength: usagePool.length }),
        fc.array(fc.constantFrom(...usagePool), { maxLength: 3 }),
        fc.shuffledSubarray(changes, { minLength: changes.length, maxLength: changes.length }),
        fc.array(fc.constantFrom(...changes), { maxLength: 2 }),
        fc.boolean(),
        (order, dups, usage, usageDups, cs, csDups, withUnrelated) => {
          const records = [...order, ...dups, ...(withUnrelated ? [unrelated] : [])]
          const u = [...usage, ...usageDups, ...(withUnrelated ? [unrelatedUsage] : [])]
          expect(computeInsights(with2(records, u, [...cs, ...csDups]))).toEqual(base)
        },
      ),
      { numRuns: 60 },
    )
  })
})
