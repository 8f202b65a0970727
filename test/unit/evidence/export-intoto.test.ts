/** The in-toto export: Statements bound to their brief's bundles, from the shared report scenario. */
import { describe, expect, test } from "vitest"
import { exportIntoto, STATEMENT_TYPE, VERDICTS_PREDICATE_TYPE } from "../../../src/evidence/export-intoto.js"
import { sha256Hex } from "../../../src/core/digest.js"
import { reportScenario } from "../../helpers/evidence.js"

const { cur, model } = reportScenario()

describe("in-toto export", () => {
  test("one Statement v1 per brief: artefacts as subjects, verdicts as predicate", () => {
    const hashed: string[] = []
    const st = exportIntoto(model(), (p) => {
      hashed.push(p)
      return undefined
    })
    expect(st).toHaveLength(1)
    const s = st[0]!
    expect(s._type).toBe(STATEMENT_TYPE)
    expect(s.predicateType).toBe(VERDICTS_PREDICATE_TYPE)
    expect(s.subject).toEqual([{ name: "release-notes/a.md", digest: { sha256: "d".repeat(64) } }])
    expect(hashed).toEqual([]) // the recorded hash is used; deleted files are not subjects
    const p = s.predicate as { brief: { digest: string }; verdicts: Array<{ intent: string; verdict: string; criteria: Array<{ ref: string; verdict: string; evidence: unknown[] }> }> }
    expect(p.brief.digest).toBe(cur.digest)
    expect(p.verdicts[0]!.verdict).toBe("failing")
    expect(p.verdicts[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-3")!.verdict).toBe("stale")
    expect(p.verdicts[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-2")!.evidence).toHaveLength(1)
  })

  test("bound to the brief: subjects are artefacts, never Foundry's bookkeeping; evidence only from the brief's own bundles", () => {
    const base = model()
    const finish = base.records.find((r) => r.stage === "finish")!
    const withWork = {
      ...finish,
      artefacts: [...finish.artefacts!, { path: "WORK.feedback.yaml", state: "changed" as const, sha256: "e".repeat(64) }, { path: "ATTEST.md", state: "new" as const, sha256: "f".repeat(64) }],
    }
    const c2 = base.intents[0]!.criteria.find((c) => c.ref === "release-note-voice#AC-2")!
    const foreign = { ...c2.evidence[0]!, id: "foreign", provenance: { ...c2.evidence[0]!.provenance, brief_id: "another-brief", digest: `sha256:${"9".repeat(64)}` } }
    const m = {
      ...base,
      records: base.records.map((r) => (r === finish ? withWork : r)),
      intents: base.intents.map((i) => ({ ...i, criteria: i.criteria.map((c) => (c.ref === c2.ref ? { ...c, evidence: [...c.evidence, foreign] } : c)) })),
    }
    const [s] = exportIntoto(m, () => undefined)
    // before: WORK.feedback.yaml and ATTEST.md were subjects, and brief Y's evidence was listed in brief X's statement
    expect(s!.subject.map((x) => x.name)).toEqual(["release-notes/a.md"])
    const p = s!.predicate as { verdicts: Array<{ criteria: Array<{ ref: string; evidence: Array<{ id: string }> }> }> }
    expect(p.verdicts[0]!.criteria.find((c) => c.ref === c2.ref)!.evidence.map((e) => e.id)).not.toContain("foreign")
  })

  test("without artefacts the bundle object is the subject", () => {
    const m = { ...model(), records: model().records.filter((r) => r.stage !== "finish") }
    const [s] = exportIntoto(m, () => undefined)
    const hex = cur.digest.slice("sha256:".length)
    expect(s!.subject).toEqual([{ name: `.alloy/objects/sha256/${hex}.json`, digest: { sha256: hex } }])
    expect(sha256Hex("x")).toMatch(/^[0-9a-f]{64}$/)
  })
})
