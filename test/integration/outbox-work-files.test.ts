// One owner of the run outbox and one home of Foundry's WORK files: the live hook and `import` read the
// same WORK files into the same summary, items and session id, and a record either of them writes is
// always read back by every reader (report, status, runs list, export) — or the caller is told why not.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { runIdFor } from "../../src/core/run-record.js"
import { describe, expect, it } from "vitest"
import { importWorktree } from "../../src/evidence/import.js"
import { loadEvidence } from "../../src/evidence/model.js"
import { MAX_RECORD_BYTES, readRecords, runPaths, writeRecord } from "../../src/store/outbox.js"
import { observeWorkTree } from "../../src/foundry/work-files.js"
import { SAMPLE_DIR, type PinnedProject, scratch } from "../helpers/project.js"
import { loadPlugin, type Json } from "../helpers/plugin.js"
import { compact } from "../helpers/recordings.js"

const tmp = scratch()

const ACTIVE = JSON.parse(readFileSync(path.join(SAMPLE_DIR, "dot-foundry", "active-stage.json"), "utf8")) as Json

/** One stage_end through the real plugin hooks, with Foundry's effect on `.foundry/` in between. */
async function hookStageEnd(dir: string, summary = "Revised the note."): Promise<string[]> {
  mkdirSync(path.join(dir, ".foundry"), { recursive: true })
  writeFileSync(path.join(dir, ".foundry", "active-stage.json"), JSON.stringify(ACTIVE))
  const d = await loadPlugin(dir)
  await d.before("foundry_stage_end", { callID: "c1", args: { summary } })
  writeFileSync(path.join(dir, ".foundry", "last-stage.json"), JSON.stringify({ cycle: ACTIVE.cycle, stage: ACTIVE.stage, baseSha: ACTIVE.baseSha, summary }))
  rmSync(path.join(dir, ".foundry", "active-stage.json"))
  await d.after("foundry_stage_end", compact({ ok: true, summary }), { callID: "c1", args: { summary } })
  return d.logs.map((l) => l.message)
}

const LONG = "x".repeat(2600)

/** The sample feedback plus an item without history and one with a 2,600-character text. */
function feedbackWithEdgeItems(dir: string): void {
  const file = path.join(dir, "WORK.feedback.yaml")
  const extra = [
    "  - id: 01KSFA00000000000000000NOHIST",
    "    file: release-notes/2026-05-checkout-redesign.md",
    "    tag: human",
    "    text: no history at all",
    "    history: []",
    "  - id: 01KSFA00000000000000000LONG0",
    "    file: release-notes/2026-05-checkout-redesign.md",
    "    tag: law:alloy--release-note-voice--ac-3",
    `    text: ${LONG}`,
    "    source: appraise:draft-release-note",
    "    history:",
    "      - state: open",
    "        stage: appraise:draft-release-note",
    "        timestamp: '2026-05-25T10:05:40.000Z'",
    "",
  ].join("\n")
  writeFileSync(file, readFileSync(file, "utf8").replace(/\n*$/, "\n") + extra)
}

describe("the live hook and import read Foundry's WORK files alike", () => {
  it("same summary, same items, same session id through the hook and through import", async () => {
    const p = await tmp.pinned()
    feedbackWithEdgeItems(p.dir)
    const logs = await hookStageEnd(p.dir)
    const [hook] = readRecords(p.dir).records
    expect(hook!.source).toBe("hook")
    // the item without history is left out, and said; the long text is clipped at the one limit
    expect(logs.join("\n")).toMatch(/1 item not in Foundry's shape left out/)

    const imported = importWorktree(p.ctx)
    expect(imported.warnings.join("\n")).toMatch(/1 item not in Foundry's shape left out/)
    const all = readRecords(p.dir).records.filter((r) => r.source === "import")
    const observe = all.find((r) => r.stage === "observe")!
    // the closing record carries the WORK files as they stand now: the same moment the hook saw
    expect(hook!.feedback).toEqual(observe.feedback)
    expect(hook!.feedback!.total).toBe(3)
    expect(hook!.feedback!.by_state["unknown"]).toBeUndefined()
    const long = hook!.feedback!.items!.find((i) => i.id === "01KSFA00000000000000000LONG0")!
    expect(long.text).toHaveLength(2000)
    // one cycle run, one session id, whoever derived it
    expect(new Set(all.map((r) => r.session))).toEqual(new Set([hook!.session]))
    expect(observeWorkTree(p.dir).session).toBe(hook!.session)
  })
})

describe("a record that is written can always be read", () => {
  /** A feedback file of ordinary items, about `mb` MB in all. */
  function bigFeedback(dir: string, mb: number): void {
    const lines = ["items:"]
    const text = "The note says the shopper must re-enter the card; this is not what the change brief says. ".repeat(20)
    const n = Math.ceil((mb * 1024 * 1024) / (text.length + 300))
    for (let i = 0; i < n; i++) {
      lines.push(
        `  - id: ITEM${String(i).padStart(8, "0")}`,
        "    file: release-notes/2026-05-checkout-redesign.md",
        `    tag: law:alloy--release-note-voice--ac-${(i % 3) + 1}`,
        `    text: '${text}'`,
        "    source: appraise:draft-release-note",
        "    history:",
        "      - state: open",
        "        stage: appraise:draft-release-note",
        "        timestamp: '2026-05-25T10:05:32.669Z'",
      )
    }
    writeFileSync(path.join(dir, "WORK.feedback.yaml"), `${lines.join("\n")}\n`)
  }

  it("a 4.5 MB feedback file: hook and import records are summarised to fit, said so, and every reader reads all of them", async () => {
    const p = await tmp.pinned()
    bigFeedback(p.dir, 4.5)
    const logs = await hookStageEnd(p.dir)
    expect(logs.join("\n")).toMatch(/left out: \d+ feedback item copies/)
    const imported = importWorktree(p.ctx)
    expect(imported.created).toBeGreaterThan(1)
    expect(imported.warnings.join("\n")).toMatch(/left out: \d+ feedback item copies/)
    const { records, problems } = readRecords(p.dir)
    expect(problems).toEqual([])
    expect(records).toHaveLength(imported.created + 1)
    for (const r of records) expect(r.feedback?.omitted?.items ?? r.feedback?.items?.length).toBe(r.feedback!.total)
    const model = loadEvidence(p.ctx)
    expect(model.records).toHaveLength(records.length)
    expect(model.problems).toEqual([])
  }, 60_000)

  it("a record file over the limit is a reported problem, never skipped in silence", async () => {
    const p = await tmp.pinned()
    await hookStageEnd(p.dir)
    const [r] = readRecords(p.dir).records
    const big = { ...r!, idempotency_key: "f".repeat(64), summary: "y".repeat(MAX_RECORD_BYTES) }
    mkdirSync(runPaths(p.dir).records, { recursive: true })
    writeFileSync(path.join(runPaths(p.dir).records, `${big.idempotency_key}.json`), JSON.stringify(big))
    const read = readRecords(p.dir)
    expect(read.records).toHaveLength(1)
    expect(read.problems).toEqual([{ file: `.alloy/runs/records/${"f".repeat(64)}.json`, error: expect.stringMatching(/over the 4194304-byte limit/) }])
    expect(loadEvidence(p.ctx).problems.join("\n")).toMatch(/over the 4194304-byte limit/)
    // and the writer refuses to write what no reader would read
    expect(() => writeRecord(p.dir, { ...big, idempotency_key: "e".repeat(64) })).toThrowError(/over the 4194304-byte limit; it was not written/)
  })

  it("a record within the limit made of two million wrong values is one reported problem, not a minute and gigabytes of zod's words", async () => {
    const p = await tmp.pinned()
    await hookStageEnd(p.dir)
    const [r] = readRecords(p.dir).records
    // anyone who can put a file in the outbox (or a team store) can write one: zod worded every value
    const hostile = { ...r!, idempotency_key: "d".repeat(64), presented_gates: new Array(2_000_000).fill(1) }
    writeFileSync(path.join(runPaths(p.dir).records, `${hostile.idempotency_key}.json`), JSON.stringify(hostile))
    const read = readRecords(p.dir)
    expect(read.records).toHaveLength(1)
    expect(read.problems).toEqual([
      { file: `.alloy/runs/records/${"d".repeat(64)}.json`, error: "not an alloy.run/v1 record: (top level): holds more than 100,000 values, far more than any valid one" },
    ])
    // a small wrong record keeps zod's words for its first fault
    writeFileSync(path.join(runPaths(p.dir).records, `${"c".repeat(64)}.json`), JSON.stringify({ ...r!, idempotency_key: "c".repeat(64), presented_gates: [1] }))
    expect(readRecords(p.dir).problems[0]).toEqual({ file: `.alloy/runs/records/${"c".repeat(64)}.json`, error: expect.stringMatching(/^not an alloy.run\/v1 record: presented_gates\.0: /) })
  })
})

describe("YAML aliases never amplify a record", () => {
  /** A small feedback file whose 3,000 items all alias one 2,000-character text (and reason). */
  function aliasBomb(): string {
    const lines = [`x: &s "${"z".repeat(2000)}"`, "items:"]
    for (let i = 0; i < 3000; i++) lines.push(`  - {id: I${i}, file: n.md, tag: human, text: *s, history: [{state: open, reason: *s}]}`)
    return `${lines.join("\n")}\n`
  }

  it("refused by the one parser: the hook records the stage without the feedback and says why; import reports the file", async () => {
    const p = await tmp.pinned()
    const text = aliasBomb()
    expect(text.length).toBeLessThan(300_000)
    writeFileSync(path.join(p.dir, "WORK.feedback.yaml"), text)
    const logs = await hookStageEnd(p.dir)
    expect(logs.join("\n")).toMatch(/feedback summary left out: WORK\.feedback\.yaml uses YAML aliases that would expand to more than \d+ characters/)
    const [r] = readRecords(p.dir).records
    expect(r!.feedback).toBeUndefined()
    // before: 3,000 items x 2 x 2,000 characters were expanded into the record (12 MB, which no reader then read)
    expect(JSON.stringify(r).length).toBeLessThan(20_000)
    const imported = importAllWorktree(p)
    expect(imported).toMatch(/uses YAML aliases/)
  })
})

function importAllWorktree(p: PinnedProject): string {
  try {
    importWorktree(p.ctx)
    return "imported"
  } catch (e) {
    return (e as Error).message
  }
}

describe("every reader reads every record", () => {
  it("50,001 records (one more than the old cap, past which readers kept the first 50,000 by file name): all are read", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "alloy-outbox-"))
    try {
      const dir = runPaths(root).records
      mkdirSync(dir, { recursive: true })
      const n = 50_001
      const digest = `sha256:${"a".repeat(64)}`
      for (let i = 0; i < n; i++) {
        const key = i.toString(16).padStart(64, "0")
        const r = {
          $type: "alloy.run/v1",
          run_id: runIdFor(key, i),
          idempotency_key: key,
          pin: { brief_id: "b", digest },
          cycle: "c",
          stage: "forge:c",
          ended_at: "2026-06-01T00:00:00.000Z",
          alloy_version: "t",
          source: "import",
          outcome: "ok",
        }
        writeFileSync(path.join(dir, `${key}.json`), JSON.stringify(r))
      }
      // `status`, `report`, `runs list` and `export` all read through this one reader (evidence/model.ts, cli)
      const read = readRecords(root)
      expect(read.problems).toEqual([])
      expect(read.records).toHaveLength(n)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }, 600_000)
})
