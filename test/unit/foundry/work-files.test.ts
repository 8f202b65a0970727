/** Parsers for what Foundry leaves behind, the validator binding, globs and session records. */
import { readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, test, vi } from "vitest"
import {
  FeedbackItemSchema,
  HistoryEntrySchema,
  itemAsOf,
  parseAttest,
  parseDiffPatch,
  parseFeedback,
  parseHistory,
  parseSnapshotReadme,
  parseTrace,
  parseWorkMd,
  pinsFromTrace,
  sessionOf,
} from "../../../src/foundry/work-files.js"
import { sha256Hex } from "../../../src/core/digest.js"
import { AlloyError } from "../../../src/core/errors.js"
import { SAMPLE_DIR } from "../../helpers/project.js"

const sample = (f: string) => readFileSync(path.join(SAMPLE_DIR, f), "utf8")

describe("WORK files", () => {
  test("the sample's history, feedback and WORK.md parse", () => {
    const h = parseHistory(sample("WORK.history.yaml"))
    expect(h).toHaveLength(10)
    expect(h.filter((e) => e.stage !== "sort").map((e) => e.stage)).toEqual([
      "forge:draft-release-note",
      "quench:draft-release-note",
      "forge:draft-release-note",
      "quench:draft-release-note",
      "appraise:draft-release-note",
    ])
    const f = parseFeedback(sample("WORK.feedback.yaml"))
    expect(f.map((i) => [i.tag, i.history[0]!.state])).toEqual([
      ["law:word-limit:count-words", "resolved"],
      ["law:customer-benefit-first", "open"],
    ])
    const w = parseWorkMd(sample("WORK.md"))
    expect(w).toMatchObject({ flow: "release-notes", cycle: "draft-release-note" })
    expect(w?.goal).toMatch(/^Write the customer-facing release note/)
    expect(sessionOf({ work: w, history: h, feedback: f })).toBe("draft-release-note@2026-05-25T10:00:08.428Z")
  })

  test("an item as it stood at a moment", () => {
    const [quenchItem] = parseFeedback(sample("WORK.feedback.yaml"))
    expect(itemAsOf(quenchItem!, "2026-05-25T10:00:00.000Z")).toBeUndefined()
    expect(itemAsOf(quenchItem!, "2026-05-25T10:00:15.222Z")!.history.map((h) => h.state)).toEqual(["open"])
    expect(itemAsOf(quenchItem!, "2026-05-25T10:03:10.964Z")!.history.map((h) => h.state)).toEqual(["actioned", "open"])
  })

  test("malformed files are malformed AlloyErrors naming the file", () => {
    expect(() => parseHistory("- cycle: x\n  stage: 3\n", "snap/WORK.history.yaml")).toThrowError(/snap\/WORK.history.yaml/)
    try {
      parseFeedback("items: 7\n", "WORK.feedback.yaml")
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(AlloyError)
      expect((e as AlloyError).code).toBe("malformed")
    }
    // one item out of shape is left out and said, never counted as a state it does not have
    const warned: string[] = []
    expect(parseFeedback("items:\n  - id: 1\n  - {id: a, tag: human, history: []}\n", "WORK.feedback.yaml", (w) => warned.push(w))).toEqual([])
    expect(warned).toEqual([expect.stringMatching(/^WORK\.feedback\.yaml: 2 items not in Foundry's shape left out/)])
    expect(parseHistory("")).toEqual([])
    expect(parseFeedback("items: []\n")).toEqual([])
  })

  test("a file made of millions of bad values is refused at its first fault, not worded value by value", () => {
    // a WORK file is anyone's text, read inside the hook's process: one zod parse of a million bad
    // entries took 7.9 s and 1.4 GB; the entries are parsed one by one now, the first fault ends it
    const entry = vi.spyOn(HistoryEntrySchema, "safeParse")
    const item = vi.spyOn(FeedbackItemSchema, "safeParse")
    try {
      expect(() => parseHistory("- {cycle: c, stage: s, timestamp: t}\n- 1\n".repeat(50_000))).toThrowError("is not a Foundry history list (1: Invalid input: expected object, received number)")
      expect(entry).toHaveBeenCalledTimes(2)
      expect(() => parseHistory("- 1\n".repeat(100_001))).toThrowError("(top level): Too big: expected array to have <=100000 items")
      // one entry or item holding more than 100,000 values is not handed to zod at all
      const huge = `[${Array(100_001).fill("x").join(", ")}]`
      entry.mockClear()
      expect(() => parseHistory(`- cycle: c\n  stage: s\n  timestamp: t\n  changed_files: ${huge}\n`)).toThrowError("(0: holds more than 100,000 values, far more than any valid one)")
      expect(entry).not.toHaveBeenCalled()
      const warned: string[] = []
      expect(parseFeedback(`items:\n  - {id: a, tag: human, history: ${huge}}\n`, "WORK.feedback.yaml", (w) => warned.push(w))).toEqual([])
      expect(warned).toEqual(["WORK.feedback.yaml: 1 item not in Foundry's shape left out (first: items.0: holds more than 100,000 values, far more than any valid one)"])
      expect(item).not.toHaveBeenCalled()
    } finally {
      entry.mockRestore()
      item.mockRestore()
    }
  })
})

describe("ATTEST.md, diff.patch, README, trace", () => {
  const payload = {
    contract: { entry_cycle: "draft-release-note", flow_id: "release-notes" },
    outputs: [{ path: "release-notes/a.md", state: "new" }],
    process: { stages: [{ stage: "forge:draft-release-note", cycle: "draft-release-note", iteration: 0 }] },
    schema: "foundry-attestation/v1",
  }
  const attest = `Release note for the checkout\n\ndiff-sha256: ${"a".repeat(64)}\n\n-----BEGIN FOUNDRY ATTESTATION-----\n${JSON.stringify(payload)}\n-----END FOUNDRY ATTESTATION-----\n`

  test("ATTEST.md", () => {
    const a = parseAttest(attest)
    expect(a.message).toBe("Release note for the checkout")
    expect(a.diffSha256).toBe("a".repeat(64))
    expect(a.payload.outputs).toEqual([{ path: "release-notes/a.md", state: "new" }])
    expect(a.payload.process.stages[0]!.stage).toBe("forge:draft-release-note")
    expect(() => parseAttest("just a message")).toThrowError(/no FOUNDRY ATTESTATION block/)
    expect(() => parseAttest(attest.replace("{", "{{"))).toThrowError(/not JSON/)
  })

  test("diff.patch: states, renames, and the hash of files added whole", () => {
    const patch = [
      "diff --git a/release-notes/new.md b/release-notes/new.md",
      "new file mode 100644",
      "index 0000000..e69de29",
      "--- /dev/null",
      "+++ b/release-notes/new.md",
      "@@ -0,0 +1,2 @@",
      "+# Title",
      "+Body",
      "diff --git a/old.md b/old.md",
      "deleted file mode 100644",
      "--- a/old.md",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-gone",
      "diff --git a/a.md b/a.md",
      "--- a/a.md",
      "+++ b/a.md",
      "@@ -1,2 +1,2 @@",
      " same",
      "-before",
      "+after",
      "diff --git a/x.md b/y.md",
      "similarity index 90%",
      "rename from x.md",
      "rename to y.md",
      "diff --git a/noeol.md b/noeol.md",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/noeol.md",
      "@@ -0,0 +1 @@",
      "+last",
      "\\ No newline at end of file",
      "",
    ].join("\n")
    expect(parseDiffPatch(patch)).toEqual([
      { path: "release-notes/new.md", state: "new", sha256: sha256Hex("# Title\nBody\n") },
      { path: "old.md", state: "deleted" },
      { path: "a.md", state: "modified" },
      { path: "y.md", state: "modified" },
      { path: "noeol.md", state: "new", sha256: sha256Hex("last") },
    ])
    expect(parseDiffPatch("")).toEqual([])
  })

  test("snapshot README (Foundry's format, goal JSON-quoted, nulls)", () => {
    const r = parseSnapshotReadme(
      '---\nbranch: dry-run/config-x/release-notes-a\nparent: config/x\nflow: release-notes\ngoal: "Ship: the note"\nstartedAt: 2026-05-27T10:00:00.000Z\nfinishedAt: null\nexitReason: unknown\n---\n\n# Dry-run snapshot\n\nDone.\n',
    )
    expect(r).toMatchObject({ branch: "dry-run/config-x/release-notes-a", parent: "config/x", goal: "Ship: the note", startedAt: "2026-05-27T10:00:00.000Z", exitReason: "unknown", message: "Done." })
    expect(r.finishedAt).toBeUndefined()
    expect(() => parseSnapshotReadme("no frontmatter")).toThrowError(/frontmatter/)
  })

  test("trace: bad lines are skipped; pins come from foundry_config_cycle results (object or JSON text)", () => {
    const digest = `sha256:${"b".repeat(64)}`
    const text = [
      JSON.stringify({ ts: "2026-05-27T10:00:00.000Z", tool: "foundry_config_cycle", args: { cycleId: "c" }, result: { frontmatter: { alloy: { brief_id: "b", digest } }, body: "" }, duration_ms: 1 }),
      "{torn",
      JSON.stringify({ ts: "2026-05-27T10:01:00.000Z", tool: "foundry_config_cycle", args: { cycleId: "c" }, result: JSON.stringify({ frontmatter: { alloy: { brief_id: "b2", digest } } }) }),
      JSON.stringify({ tool: "no-ts" }),
    ].join("\n")
    const t = parseTrace(text)
    expect(t).toHaveLength(2)
    const pins = pinsFromTrace(t).get("c")!
    expect(pins.map((p) => (p.block["alloy"] as { brief_id: string }).brief_id)).toEqual(["b", "b2"])
  })
})
