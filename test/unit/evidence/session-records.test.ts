/** Parsers for what Foundry leaves behind, the validator binding, globs and session records. */
import { readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, test } from "vitest"
import { parseFeedback, parseHistory, parseWorkMd } from "../../../src/foundry/work-files.js"
import { sessionRecords } from "../../../src/evidence/session-records.js"
import { RunRecordSchema } from "../../../src/core/run-record.js"
import { SAMPLE_DIR } from "../../helpers/project.js"

const sample = (f: string) => readFileSync(path.join(SAMPLE_DIR, f), "utf8")

describe("session records", () => {
  const work = { work: parseWorkMd(sample("WORK.md")), history: parseHistory(sample("WORK.history.yaml")), feedback: parseFeedback(sample("WORK.feedback.yaml")) }
  const digest = `sha256:${"c".repeat(64)}`
  const make = (ref: string) =>
    sessionRecords({
      work,
      origin: { kind: "worktree", ref },
      pinFor: () => ({ pin: { brief_id: "release-note-voice", digest }, source: "worktree" }),
      close: { kind: "observe", contentKey: "k" },
    })

  test("one record per stage entry plus the closing one; all valid alloy.run/v1", () => {
    const rs = make(".")
    expect(rs.map((r) => r.stage)).toEqual(["forge:draft-release-note", "quench:draft-release-note", "forge:draft-release-note", "quench:draft-release-note", "appraise:draft-release-note", "observe"])
    for (const r of rs) expect(RunRecordSchema.safeParse(r).success).toBe(true)
    const [, q1, , q2, appraise, observe] = rs
    expect(q1!.quench!.issues.map((i) => i.tag)).toEqual(["law:word-limit:count-words"])
    expect(q1!.artefact_version).toBe("7c00ceac1d2c4396c9c5bdad6f4167736f57d6fdb9c4b95795a8625486724107")
    expect(q2!.quench!.issues).toEqual([])
    expect(appraise!.feedback!.items!.map((i) => [i.tag, i.state])).toEqual([
      ["law:word-limit:count-words", "resolved"],
      ["law:customer-benefit-first", "open"],
    ])
    expect(observe!.artefacts).toEqual([{ path: "release-notes/2026-05-checkout-redesign.md", state: "changed" }])
  })

  test("keys depend on what was observed, not on where it was read", () => {
    expect(make(".").map((r) => r.idempotency_key)).toEqual(make("elsewhere").map((r) => r.idempotency_key))
    expect(new Set(make(".").map((r) => r.idempotency_key)).size).toBe(6)
  })
})
