/** The learning loop (pure): one case per finding kind, one "too thin" case per kind, and properties. */
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { deriveObservations } from "../../../src/evidence/observations.js"
import { judgeAll } from "../../../src/evidence/satisfaction.js"
import { intentSpecs } from "../../../src/evidence/model.js"
import { computeInsights, MIN_VERSIONS, type InsightInput, type PinFact } from "../../../src/evidence/insights.js"
import { parseIntent } from "../../../src/core/intent.js"
import type { Bundle } from "../../../src/core/bundle.js"
import type { RunRecord } from "../../../src/core/run-record.js"
import { exampleBundle, fbItem, feedback, INTENT_TEXT, record } from "../../helpers/evidence.js"

const cur = exampleBundle()
const old = exampleBundle((t) => t.replace("150 words or fewer", "140 words or fewer"))
const bundles = new Map<string, Bundle>([
  [cur.digest, cur.bundle],
  [old.digest, old.bundle],
])
const current = new Map([["release-note-voice", cur.digest]])
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
    const failing = record({ digest: both.digest, feedback: feedback([fbItem("I1", AC3, [["open", T(0)]])]), signoffs: [{ criterion: "release-note-voice#AC-3", by: "Ada" }] })
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
      ]),
      signoffs: [{ criterion: "release-note-voice#AC-3", by: "Ada" }],
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
})
