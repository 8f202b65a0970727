/** Observations -> verdicts: every verdict, the current/older digest rule, the latest-session rule. */
import { describe, expect, test } from "vitest"
import { deriveObservations, itemOutcome, itemTargets, type Observation } from "../../../src/evidence/observations.js"
import { judgeAll, judgeCriterion, judgeGate, worst, VERDICT_ORDER } from "../../../src/evidence/satisfaction.js"
import { intentSpecs } from "../../../src/evidence/model.js"
import type { RunRecord } from "../../../src/core/run-record.js"
import { exampleBundle, fbItem, twoBuilds, feedback, record } from "../../helpers/evidence.js"
import type { SignoffEntry } from "../../../src/service/pulled.js"
import { signoffPath, type Signoff } from "../../../src/core/signoff.js"

const { cur, old, bundles, current } = twoBuilds()
const AC2 = "law:alloy--release-note-voice--ac-2"

function judge(records: RunRecord[]) {
  const observations = deriveObservations({ records, bundles, current, validators: [] })
  const { intents } = judgeAll(intentSpecs(bundles, current), observations)
  const byRef = new Map(intents.flatMap((i) => i.criteria.map((c) => [c.ref, c] as const)))
  return { observations, intents, byRef }
}

describe("feedback item states", () => {
  test.each([
    [["open"], "fail"],
    [["open", "actioned"], "fail"],
    [["open", "actioned", "rejected"], "fail"],
    [["open", "wont-fix"], "waived"],
    [["open", "actioned", "resolved"], "pass"],
    [["open", "wont-fix", "resolved"], "waived"],
  ] as const)("%j -> %s", (states, outcome) => {
    const item = fbItem(
      "I1",
      AC2,
      states.map((s, i) => [s, `2026-05-27T10:0${i}:00.000Z`, s === "wont-fix" ? "because" : undefined] as [string, string, string?]),
    )
    expect(itemOutcome(item)?.outcome).toBe(outcome)
  })

  test("an unknown state is no evidence", () => {
    expect(itemOutcome(fbItem("I1", AC2, [["mystery", "2026-05-27T10:00:00.000Z"]]))).toBeUndefined()
  })

  test("targets: gate law id, declared Foundry law, human items naming a criterion", () => {
    expect(itemTargets(fbItem("a", AC2, [["open", "t"]]), undefined)).toEqual([{ criterion: "release-note-voice#AC-2", kind: "law" }])
    // the example intent declares `law: customer-benefit-first` for AC-2
    expect(itemTargets(fbItem("b", "law:customer-benefit-first", [["open", "t"]]), cur.bundle)).toEqual([{ criterion: "release-note-voice#AC-2", kind: "law" }])
    expect(itemTargets(fbItem("c", "law:plain-language", [["open", "t"]]), cur.bundle)).toEqual([])
    expect(itemTargets(fbItem("d", "law:word-limit:count-words", [["open", "t"]]), cur.bundle)).toEqual([])
    expect(itemTargets(fbItem("e", "human", [["open", "t"]], { text: "AC-4 tone is too loud" }), cur.bundle)).toEqual([{ criterion: "release-note-voice#AC-4", kind: "human" }])
    expect(itemTargets(fbItem("f", "human", [["open", "t"]], { text: "please shorten" }), cur.bundle)).toEqual([{ criterion: "release-note-voice#AC-4", kind: "human" }])
  })
})

describe("verdicts", () => {
  test("resolved gate feedback under the current digest -> satisfied", () => {
    const { byRef } = judge([
      record({
        digest: cur.digest,
        feedback: feedback([
          fbItem("I1", AC2, [
            ["open", "2026-05-27T10:00:00Z"],
            ["actioned", "2026-05-27T10:01:00Z"],
            ["resolved", "2026-05-27T10:02:00Z", "approved"],
          ]),
        ]),
      }),
    ])
    expect(byRef.get("release-note-voice#AC-2")!.verdict).toBe("satisfied")
  })

  test("the same under an older digest -> stale, and the evidence says so", () => {
    const { byRef, observations } = judge([
      record({
        digest: old.digest,
        feedback: feedback([
          fbItem("I1", AC2, [
            ["open", "2026-05-27T10:00:00Z"],
            ["resolved", "2026-05-27T10:02:00Z"],
          ]),
        ]),
      }),
    ])
    const c = byRef.get("release-note-voice#AC-2")!
    expect(c.verdict).toBe("stale")
    expect(c.reason).toContain("older bundle")
    expect(observations.every((o) => o.older_bundle && !o.current)).toBe(true)
  })

  test("an open item -> failing", () => {
    const { byRef } = judge([record({ digest: cur.digest, feedback: feedback([fbItem("I1", AC2, [["open", "2026-05-27T10:00:00Z"]])]) })])
    expect(byRef.get("release-note-voice#AC-2")!.verdict).toBe("failing")
  })

  test("no evidence -> unproven", () => {
    const { byRef } = judge([])
    for (const c of byRef.values()) expect(c.verdict).toBe("unproven")
  })

  test("wont-fix -> waived, with the reason", () => {
    const { byRef } = judge([
      record({
        digest: cur.digest,
        feedback: feedback([
          fbItem("I1", AC2, [
            ["open", "2026-05-27T10:00:00Z"],
            ["wont-fix", "2026-05-27T10:01:00Z", "the brand voice wins here"],
          ]),
        ]),
      }),
    ])
    const c = byRef.get("release-note-voice#AC-2")!
    expect(c.verdict).toBe("waived")
    expect(c.reason).toContain("the brand voice wins here")
  })

  test("a pin-less record citing a gate counts as older evidence (stale)", () => {
    const { byRef } = judge([record({ digest: null, feedback: feedback([fbItem("I1", AC2, [["resolved", "2026-05-27T10:00:00Z"]])]) })])
    expect(byRef.get("release-note-voice#AC-2")!.verdict).toBe("stale")
  })

  test("current evidence wins over older evidence, whatever their times", () => {
    const { byRef } = judge([
      record({ digest: cur.digest, at: "2026-05-01T00:00:00Z", session: "s1", feedback: feedback([fbItem("I1", AC2, [["resolved", "2026-05-01T00:00:00Z"]])]) }),
      record({ digest: old.digest, at: "2026-06-01T00:00:00Z", session: "s2", feedback: feedback([fbItem("I2", AC2, [["open", "2026-06-01T00:00:00Z"]])]) }),
    ])
    expect(byRef.get("release-note-voice#AC-2")!.verdict).toBe("satisfied")
  })

  test("the latest session of a cycle decides; within it the latest state of each item", () => {
    const s1 = record({ digest: cur.digest, at: "2026-05-20T10:00:00Z", session: "s1", feedback: feedback([fbItem("I1", AC2, [["open", "2026-05-20T10:00:00Z"]])]) })
    const s2a = record({ digest: cur.digest, at: "2026-05-27T10:00:00Z", session: "s2", feedback: feedback([fbItem("I2", AC2, [["open", "2026-05-27T10:00:00Z"]])]) })
    const s2b = record({
      digest: cur.digest,
      at: "2026-05-27T11:00:00Z",
      session: "s2",
      feedback: feedback([
        fbItem("I2", AC2, [
          ["open", "2026-05-27T10:00:00Z"],
          ["resolved", "2026-05-27T11:00:00Z"],
        ]),
      ]),
    })
    expect(judge([s1, s2a]).byRef.get("release-note-voice#AC-2")!.verdict).toBe("failing")
    expect(judge([s1, s2a, s2b]).byRef.get("release-note-voice#AC-2")!.verdict).toBe("satisfied")
    // a second open item in the same latest session keeps it failing
    const s2c = record({ digest: cur.digest, at: "2026-05-27T11:30:00Z", session: "s2", feedback: feedback([fbItem("I3", AC2, [["open", "2026-05-27T11:30:00Z"]])]) })
    expect(judge([s1, s2a, s2b, s2c]).byRef.get("release-note-voice#AC-2")!.verdict).toBe("failing")
  })

  test("each cycle's latest session counts; the worse cycle wins", () => {
    const a = record({ digest: cur.digest, cycle: "draft-release-note", session: "a", feedback: feedback([fbItem("I1", AC2, [["resolved", "2026-05-27T10:00:00Z"]])]) })
    const b = record({ digest: cur.digest, cycle: "other-cycle", session: "b", feedback: feedback([fbItem("I2", AC2, [["open", "2026-05-26T10:00:00Z"]])]) })
    expect(judge([a, b]).byRef.get("release-note-voice#AC-2")!.verdict).toBe("failing")
  })

  test("order of the verdicts: failing > contested > stale > unproven > waived > satisfied", () => {
    expect(VERDICT_ORDER).toEqual(["failing", "contested", "stale", "unproven", "waived", "satisfied"])
    expect(worst(["satisfied", "waived"])).toBe("waived")
    expect(worst(["unproven", "stale"])).toBe("stale")
    expect(worst(["satisfied", "failing", "stale"])).toBe("failing")
    expect(worst([])).toBeUndefined()
  })

  test("a criterion with several gates takes its worst gate; one without evidence declared is unproven", () => {
    const obs = (kind: Observation["gate_kind"], outcome: Observation["outcome"], currentDigest = true): Observation => ({
      id: `${kind}-${outcome}`,
      criterion: "x#AC-1",
      gate_kind: kind,
      kind: "appraisal",
      outcome,
      summary: `${kind} ${outcome}`,
      subject: `s-${kind}`,
      at: "2026-05-27T10:00:00Z",
      provenance: { run_id: "r", record: "k", stage: "appraise:c", cycle: "c", session: "s", source: "import" },
      current: currentDigest,
      older_bundle: !currentDigest,
    })
    const spec = {
      ref: "x#AC-1",
      id: "AC-1",
      text: "t",
      gates: [
        { id: "x#AC-1/law", kind: "law" as const },
        { id: "x#AC-1/human", kind: "human" as const },
      ],
    }
    expect(judgeCriterion(spec, [obs("law", "pass"), obs("human", "pass")]).verdict).toBe("satisfied")
    expect(judgeCriterion(spec, [obs("law", "pass")]).verdict).toBe("unproven")
    expect(judgeCriterion(spec, [obs("law", "pass"), obs("human", "pass", false)]).verdict).toBe("stale")
    expect(judgeCriterion(spec, [obs("law", "waived"), obs("human", "pass")]).verdict).toBe("waived")
    expect(judgeCriterion(spec, [obs("law", "fail"), obs("human", "pass", false)]).verdict).toBe("failing")
    expect(judgeCriterion({ ...spec, gates: [] }, [obs("law", "pass")]).verdict).toBe("unproven")
    expect(judgeGate(spec.gates[0]!, []).reason).toMatch(/no appraisal/)
  })

  test("intent verdict is its worst criterion, with counts", () => {
    const { intents } = judge([
      record({
        digest: cur.digest,
        feedback: feedback([fbItem("I1", AC2, [["resolved", "2026-05-27T10:00:00Z"]]), fbItem("I3", "law:alloy--release-note-voice--ac-3", [["wont-fix", "2026-05-27T10:00:00Z", "r"]])]),
      }),
    ])
    const i = intents[0]!
    expect(i.verdict).toBe("unproven")
    expect(i.counts).toEqual({ satisfied: 1, waived: 1, unproven: 3, failing: 0, stale: 0, contested: 0 })
    expect(i.reason).toMatch(/^1 of 5 criteria satisfied/)
  })
})

describe("other evidence kinds", () => {
  const validators = [{ law: "word-limit", id: "count-words", command: "node scripts/validators/word-limit.mjs --max 150 {files}" }]
  const judgeV = (records: RunRecord[], signoffs: SignoffEntry[] = []) => {
    const observations = deriveObservations({ records, bundles, current, validators, signoffs })
    return new Map(judgeAll(intentSpecs(bundles, current), observations).intents.flatMap((i) => i.criteria.map((c) => [c.ref, c] as const)))
  }

  test("quench results judge a check gate bound to the validator; the latest quench run wins", () => {
    const fail = record({
      digest: cur.digest,
      stage: "quench:draft-release-note",
      at: "2026-05-27T10:00:00Z",
      feedback: feedback([]),
      quench: { issues: [{ tag: "law:word-limit:count-words", file: "n.md", text: "177 words" }] },
    })
    const pass = record({ digest: cur.digest, stage: "quench:draft-release-note", at: "2026-05-27T10:05:00Z", feedback: feedback([]), quench: { issues: [] } })
    expect(judgeV([fail]).get("release-note-voice#AC-1")!.verdict).toBe("failing")
    expect(judgeV([fail, pass]).get("release-note-voice#AC-1")!.verdict).toBe("satisfied")
    // without a matching validator the check gate stays unproven
    const observations = deriveObservations({ records: [fail, pass], bundles, current, validators: [] })
    expect(observations.filter((o) => o.kind === "quench")).toEqual([])
  })

  test("artefacts: a match passes; a final diff without a match fails; work in progress without one says nothing", () => {
    const finish = (paths: string[], stage = "finish") => record({ digest: cur.digest, stage, artefacts: paths.map((p) => ({ path: p, state: "new" as const })) })
    expect(judgeV([finish(["release-notes/a.md"])]).get("release-note-voice#AC-5")!.verdict).toBe("satisfied")
    expect(judgeV([finish(["docs/a.md"])]).get("release-note-voice#AC-5")!.verdict).toBe("failing")
    expect(judgeV([finish(["docs/a.md"], "observe")]).get("release-note-voice#AC-5")!.verdict).toBe("unproven")
    expect(judgeV([finish(["release-notes/sub/a.md"])]).get("release-note-voice#AC-5")!.verdict).toBe("failing")
  })

  test("human: a human-appraise run with no open human item, or a sign-off, passes; an open human item fails", () => {
    const run = (items: ReturnType<typeof fbItem>[], at = "2026-05-27T10:00:00Z") => record({ digest: cur.digest, stage: "human-appraise:draft-release-note", at, feedback: feedback(items) })
    expect(judgeV([run([])]).get("release-note-voice#AC-4")!.verdict).toBe("satisfied")
    expect(judgeV([run([fbItem("H1", "human", [["open", "2026-05-27T10:00:00Z"]])])]).get("release-note-voice#AC-4")!.verdict).toBe("failing")
    expect(judgeV([], [ledgerSignoff({})]).get("release-note-voice#AC-4")!.verdict).toBe("satisfied")
    // a sign-off of the old outbox (a typed name, never committed) is shown but decides nothing
    const local = record({ digest: cur.digest, stage: "signoff", source: "cli", session: "signoff:release-note-voice#AC-4", signoffs: [{ criterion: "release-note-voice#AC-4", by: "Pat" }] })
    const v = judgeV([local]).get("release-note-voice#AC-4")!
    expect(v.verdict).toBe("unproven")
    expect(v.reason).toMatch(/not counted: signed off locally by Pat/)
  })

  test("ledger sign-offs: reject fails, waive waives with its reason, each signer's latest word counts", () => {
    const at = (t: string) => `2026-05-27T${t}:00Z`
    expect(judgeV([], [ledgerSignoff({ decision: "reject", reason: "too chirpy" })]).get("release-note-voice#AC-4")!.verdict).toBe("failing")
    const w = judgeV([], [ledgerSignoff({ decision: "waive", reason: "legal wording" })]).get("release-note-voice#AC-4")!
    expect(w.verdict).toBe("waived")
    expect(w.reason).toContain("legal wording")
    // Pat rejected, then approved: the approval counts; Sam's rejection still stands
    const pat = [ledgerSignoff({ decision: "reject", reason: "no", at: at("10:00") }), ledgerSignoff({ at: at("11:00") })]
    expect(judgeV([], pat).get("release-note-voice#AC-4")!.verdict).toBe("satisfied")
    const sam = ledgerSignoff({ decision: "reject", reason: "still off", at: at("09:00"), signer: { name: "Sam", email: "sam@example.com" } })
    expect(judgeV([], [...pat, sam]).get("release-note-voice#AC-4")!.verdict).toBe("failing")
    // older bundle: stale
    expect(judgeV([], [ledgerSignoff({ digest: old.digest })]).get("release-note-voice#AC-4")!.verdict).toBe("stale")
  })

  test("who: naming an email excludes another signer's sign-off; a pulled one keeps its store", () => {
    const named = exampleBundle((t) => t.replace("who: the product owner", 'who: "Pat <pat@example.com>"'))
    expect(named.bundle.overlay.gates.find((g) => g.kind === "human")!.who).toBe("Pat <pat@example.com>")
    const obs = deriveObservations({
      records: [],
      bundles: new Map([[named.digest, named.bundle]]),
      current: new Map([["release-note-voice", named.digest]]),
      validators: [],
      signoffs: [{ ...ledgerSignoff({ digest: named.digest, signer: { name: "Mallory", email: "mallory@example.com" } }), pulled: { store: "oci://reg/team", repository: "acme/shop" } }],
    })
    expect(obs).toHaveLength(1)
    expect(obs[0]!.excluded).toMatch(/who: names pat@example\.com; signed by mallory@example\.com/)
    expect(obs[0]!.provenance).toMatchObject({ source: "ledger", store: "oci://reg/team (acme/shop)", digest: named.digest })
    expect(judgeGate({ id: "g", kind: "human" }, obs).verdict).toBe("unproven")
  })

  test("an attestation proves what it attests: human-appraise ran and every item resolved; never a law or check gate", () => {
    const attest = (stages: string[]) => record({ digest: cur.digest, stage: "attest", attestation: { stages } })
    const all = judgeV([attest(["forge:draft-release-note", "quench:draft-release-note", "appraise:draft-release-note"])])
    // before: satisfied for every law and check gate of the brief, although no appraiser was shown them
    expect(all.get("release-note-voice#AC-1")!.verdict).toBe("unproven")
    expect(all.get("release-note-voice#AC-2")!.verdict).toBe("unproven")
    expect(all.get("release-note-voice#AC-3")!.verdict).toBe("unproven")
    expect(all.get("release-note-voice#AC-4")!.verdict).toBe("unproven")
    expect(judgeV([attest(["forge:draft-release-note", "human-appraise:draft-release-note"])]).get("release-note-voice#AC-4")!.verdict).toBe("satisfied")
  })

  test("no proof by silence: a failed quench, or one without its feedback, judges no check gate", () => {
    const q = (over: Partial<RunRecord>) => record({ digest: cur.digest, stage: "quench:draft-release-note", quench: { issues: [] }, ...over })
    expect(judgeV([q({ feedback: feedback([]) })]).get("release-note-voice#AC-1")!.verdict).toBe("satisfied")
    // no feedback data at all
    expect(judgeV([q({})]).get("release-note-voice#AC-1")!.verdict).toBe("unproven")
    // the quench failed
    expect(judgeV([q({ feedback: feedback([]), outcome: "error", error: "validator crashed" })]).get("release-note-voice#AC-1")!.verdict).toBe("unproven")
    // its items were left out to fit the size limit
    expect(judgeV([q({ feedback: { ...feedback([]), omitted: { items: 9000, reason: "too large" } } })]).get("release-note-voice#AC-1")!.verdict).toBe("unproven")
  })

  test("a law gate passes only in an appraisal that was shown it", () => {
    const appraise = (presented: string[] | undefined) =>
      record({ digest: cur.digest, stage: "appraise:draft-release-note", feedback: feedback([]), ...(presented ? { presented_gates: presented } : {}) })
    const law3 = cur.bundle.overlay.gates.find((g) => g.criterion === "release-note-voice#AC-3" && g.kind === "law")!
    expect(judgeV([appraise(undefined)]).get("release-note-voice#AC-3")!.verdict).toBe("unproven")
    expect(judgeV([appraise(["law:some-other-law"])]).get("release-note-voice#AC-3")!.verdict).toBe("unproven")
    expect(judgeV([appraise([law3.law_id ?? law3.id])]).get("release-note-voice#AC-3")!.verdict).toBe("satisfied")
    // shown it, and an item citing it is still open: failing, not satisfied
    const open = record({
      digest: cur.digest,
      stage: "appraise:draft-release-note",
      presented_gates: [law3.law_id ?? law3.id],
      feedback: feedback([fbItem("O1", `law:${law3.law_id}`, [["open", "2026-05-27T09:59:00Z"]])]),
    })
    expect(judgeV([open]).get("release-note-voice#AC-3")!.verdict).toBe("failing")
  })

  test("a sign-off over an open objection is contested, with both sides", () => {
    const objection = record({
      digest: cur.digest,
      stage: "human-appraise:draft-release-note",
      feedback: feedback([fbItem("H1", "human", [["open", "2026-05-27T10:00:00Z"]], { text: "AC-4: the tone is off" })]),
    })
    const signoff = ledgerSignoff({ at: "2026-05-27T11:00:00Z" })
    const v = judgeV([objection], [signoff]).get("release-note-voice#AC-4")!
    // before: the sign-off's own session was the latest and the criterion read satisfied
    expect(v.verdict).toBe("contested")
    expect(v.reason).toMatch(/approved by Pat <pat@example\.com>.* — but still open: human/)
    // a waiver over the open objection is no answer to it either
    expect(judgeV([objection], [ledgerSignoff({ decision: "waive", reason: "ship it", at: "2026-05-27T11:00:00Z" })]).get("release-note-voice#AC-4")!.verdict).toBe("contested")
  })

  test("observations carry provenance and are not repeated when several records show the same state", () => {
    const item = fbItem("I1", AC2, [["open", "2026-05-27T10:00:00Z"]])
    const r1 = record({ digest: cur.digest, commit: "abcdef1", feedback: feedback([item]), at: "2026-05-27T10:00:01Z" })
    const r2 = record({ digest: cur.digest, feedback: feedback([item]), at: "2026-05-27T10:05:00Z" })
    const obs = deriveObservations({ records: [r2, r1], bundles, current, validators: [] })
    expect(obs).toHaveLength(1)
    expect(obs[0]!.provenance).toMatchObject({ run_id: r1.run_id, stage: "appraise:draft-release-note", digest: cur.digest, commit: "abcdef1", brief_id: "release-note-voice" })
    expect(obs[0]!.current).toBe(true)
  })
})

/** A sign-off of the committed ledger for release-note-voice#AC-4 (Pat approves under the current bundle unless told otherwise). */
function ledgerSignoff(over: Partial<Omit<Signoff, "bundle">> & { digest?: string }): SignoffEntry {
  const { digest, ...rest } = over
  const signoff: Signoff = {
    $type: "alloy.signoff/v1",
    criterion: "release-note-voice#AC-4",
    decision: "approve",
    signer: { name: "Pat", email: "pat@example.com" },
    at: "2026-05-27T10:00:00Z",
    bundle: { brief_id: "release-note-voice", digest: digest ?? cur.digest },
    ...rest,
  }
  return { signoff, rel: signoffPath(signoff) }
}
