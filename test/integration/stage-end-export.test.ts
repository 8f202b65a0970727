// The run-result exporter through the REAL plugin hooks: foundry_stage_end (before: capture
// .foundry/active-stage.json; after: read .foundry/last-stage.json) writes exactly one record per
// stage run into the git-ignored .alloy/runs/, plus events; stage_end's own output never changes.

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { RunRecordSchema, stageRunKey } from "../../src/core/run-record.js"
import { ALLOY_VERSION } from "../../src/version.js"
import { readEvents, readRecords } from "../../src/store/outbox.js"
import { makeProject, SAMPLE_DIR, scratch } from "../helpers/project.js"
import { isolateEnv } from "../helpers/env.js"
import { loadPlugin, type Json, type LoadedPlugin } from "../helpers/plugin.js"
import { compact, stageToolResult } from "../helpers/recordings.js"
import { git } from "../helpers/git.js"
import { snapshotTree } from "../helpers/tree.js"

isolateEnv()
const tmp = scratch()

const SAMPLE_ACTIVE = JSON.parse(readFileSync(path.join(SAMPLE_DIR, "dot-foundry", "active-stage.json"), "utf8")) as Json
const SUMMARY = "Moved the benefit into the first sentence; actioned 1 feedback item."

/** What Foundry's stage_begin / stage_end do to .foundry/ (CONTRACTS §4.3). */
function beginStage(dir: string, active: Json): void {
  mkdirSync(path.join(dir, ".foundry"), { recursive: true })
  rmSync(path.join(dir, ".foundry", "last-stage.json"), { force: true })
  writeFileSync(path.join(dir, ".foundry", "active-stage.json"), JSON.stringify(active, null, 2))
}
function endStage(dir: string, summary: string): void {
  const active = JSON.parse(readFileSync(path.join(dir, ".foundry", "active-stage.json"), "utf8")) as Json
  writeFileSync(path.join(dir, ".foundry", "last-stage.json"), JSON.stringify({ cycle: active.cycle, stage: active.stage, baseSha: active.baseSha, summary }, null, 2))
  rmSync(path.join(dir, ".foundry", "active-stage.json"))
}

/** One real stage_end call as OpenCode runs it: before-hook, the tool, after-hook. */
async function stageEnd(d: LoadedPlugin, dir: string, callID: string, summary = SUMMARY): Promise<{ sent: string; seen: string }> {
  await d.before("foundry_stage_end", { callID, args: { summary } })
  endStage(dir, summary)
  const sent = compact({ ok: true, summary })
  return { sent, seen: await d.after("foundry_stage_end", sent, { callID, args: { summary } }) }
}

describe("foundry_stage_end exports one run record per stage run", () => {
  it("writes the record, the event and the .gitignore; stage_end's own output is unchanged", async () => {
    const p = await tmp.pinned()
    rmSync(path.join(p.dir, ".alloy", "runs"), { recursive: true, force: true })
    beginStage(p.dir, SAMPLE_ACTIVE)
    const d = await loadPlugin(p.dir)
    const { sent, seen } = await stageEnd(d, p.dir, "call_end_1")
    expect(seen).toBe(sent)
    expect(readFileSync(path.join(p.dir, ".alloy", "runs", ".gitignore"), "utf8")).toBe("*\n")

    const records = readRecords(p.dir).records
    expect(records).toHaveLength(1)
    const r = records[0]!
    const key = stageRunKey("draft-release-note", "forge:draft-release-note", SAMPLE_ACTIVE.baseSha)
    expect(r).toEqual({
      $type: "alloy.run/v1",
      run_id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      idempotency_key: key,
      pin: { brief_id: p.briefId, digest: p.digest },
      cycle: "draft-release-note",
      stage: "forge:draft-release-note",
      flow: "release-notes",
      summary: SUMMARY,
      base_sha: SAMPLE_ACTIVE.baseSha,
      token_hash: SAMPLE_ACTIVE.tokenHash,
      started_at: SAMPLE_ACTIVE.startedAt,
      ended_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      foundry_version: readFileSync(path.join(p.dir, "foundry", "VERSION"), "utf8").trim(),
      alloy_version: ALLOY_VERSION,
      source: "hook",
      provenance: [{ source: "hook" }],
      capabilities: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      feedback: {
        total: 2,
        by_state: { resolved: 1, open: 1 },
        by_tag: { "law:word-limit:count-words": 1, "law:customer-benefit-first": 1 },
        alloy_items: [],
        items: [
          expect.objectContaining({
            id: "01KSF97X0ET8YKA1MDK866S4PB",
            tag: "law:word-limit:count-words",
            state: "resolved",
            source: "quench:draft-release-note",
            history: [
              expect.objectContaining({ state: "resolved", stage: "sort" }),
              expect.objectContaining({ state: "actioned", stage: "forge:draft-release-note" }),
              expect.objectContaining({ state: "open", stage: "quench:draft-release-note", timestamp: "2026-05-25T10:00:15.122Z" }),
            ],
          }),
          expect.objectContaining({ id: "01KSF9HJJPKJHQQYVC7CFFEJFB", tag: "law:customer-benefit-first", state: "open", history: [expect.objectContaining({ state: "open" })] }),
        ],
      },
      session: "draft-release-note@2026-05-25T10:00:08.428Z",
      outcome: "ok",
    })
    const file = path.join(p.dir, ".alloy", "runs", "records", `${key}.json`)
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(r)
    expect(RunRecordSchema.safeParse(JSON.parse(readFileSync(file, "utf8"))).success).toBe(true)

    const events = readEvents(p.dir).events
    expect(events).toEqual([{ $type: "alloy.event/v1", kind: "stage_ended", at: r.ended_at, cycle: r.cycle, stage: r.stage, pin: r.pin, run_id: r.run_id }])
    expect(d.logs).toEqual([])
  })

  it("the same stage run exported twice (after-hook fired twice, or a second plugin instance) is one record", async () => {
    const p = await tmp.pinned()
    beginStage(p.dir, SAMPLE_ACTIVE)
    const d = await loadPlugin(p.dir)
    const { sent } = await stageEnd(d, p.dir, "call_a")
    // the after-hook fires again for the same call
    expect(await d.after("foundry_stage_end", sent, { callID: "call_a" })).toBe(sent)
    // ... and for another call id, without a before-hook (active-stage.json is gone by now)
    expect(await d.after("foundry_stage_end", sent, { callID: "call_b" })).toBe(sent)
    // ... and in a second plugin instance that saw the before-hook too
    const d2 = await loadPlugin(p.dir)
    beginStage(p.dir, SAMPLE_ACTIVE)
    await stageEnd(d2, p.dir, "call_c")
    expect(readRecords(p.dir).records).toHaveLength(1)
    expect(readEvents(p.dir).events.filter((e) => e.kind === "stage_ended")).toHaveLength(1)
  })

  it("a new run of the same stage (new token) is a second record", async () => {
    const p = await tmp.pinned()
    const d = await loadPlugin(p.dir)
    beginStage(p.dir, SAMPLE_ACTIVE)
    await stageEnd(d, p.dir, "c1")
    beginStage(p.dir, { ...SAMPLE_ACTIVE, tokenHash: "f".repeat(64), startedAt: "2026-05-25T10:20:00.000Z" })
    await stageEnd(d, p.dir, "c2", "Second try.")
    const records = readRecords(p.dir).records
    expect(records.map((r) => r.summary)).toEqual([SUMMARY, "Second try."])
    expect(new Set(records.map((r) => r.idempotency_key)).size).toBe(2)
    expect(records[0]!.run_id < records[1]!.run_id).toBe(true)
  })

  it("without a before-hook, the record is still written once (marker from the stage_begin result)", async () => {
    const p = await tmp.pinned()
    const d = await loadPlugin(p.dir)
    const begin = stageToolResult("foundry_stage_begin")
    const beginText = compact(begin)
    expect(await d.after("foundry_stage_begin", beginText)).toBe(beginText)
    beginStage(p.dir, begin.active)
    endStage(p.dir, SUMMARY)
    const sent = compact({ ok: true, summary: SUMMARY })
    await d.after("foundry_stage_end", sent, { callID: "x1" })
    await d.after("foundry_stage_end", sent, { callID: "x2" })
    const records = readRecords(p.dir).records
    expect(records).toHaveLength(1)
    expect(records[0]!.token_hash).toBe(begin.active.tokenHash)
    expect(records[0]!.idempotency_key).toBe(stageRunKey(begin.active.cycle, begin.active.stage, begin.active.baseSha))
    const kinds = readEvents(p.dir).events.map((e) => e.kind)
    expect(kinds).toEqual(["stage_begun", "stage_ended"])
    expect(readEvents(p.dir).events[0]).toMatchObject({ at: begin.active.startedAt, cycle: "draft-release-note", stage: "forge:draft-release-note", pin: { digest: p.digest } })
  })

  it("summarises the feedback items that cite Alloy gates, with their criterion", async () => {
    const p = await tmp.pinned()
    const fb = path.join(p.dir, "WORK.feedback.yaml")
    writeFileSync(
      fb,
      readFileSync(fb, "utf8") +
        [
          "  - id: 01KSFA0000000000000000ALLOY",
          "    file: release-notes/2026-05-checkout-redesign.md",
          "    tag: law:alloy--release-note-voice--ac-3",
          "    text: 'The note never says whether the shopper has to do anything.'",
          "    source: appraise:draft-release-note",
          "    history:",
          "      - state: rejected",
          "        stage: appraise:draft-release-note",
          "        cycle: draft-release-note",
          "        timestamp: '2026-05-25T10:09:00.000Z'",
          "        reason: Still silent about it.",
          "      - state: open",
          "        stage: appraise:draft-release-note",
          "        cycle: draft-release-note",
          "        timestamp: '2026-05-25T10:05:32.669Z'",
          "    artefact_version: 6f29217821c9a24866bfcc8c917569c2a28e1266f6f6b3181c8b237feb2f9567",
          "",
        ].join("\n"),
    )
    beginStage(p.dir, SAMPLE_ACTIVE)
    const d = await loadPlugin(p.dir)
    await stageEnd(d, p.dir, "c1")
    const [r] = readRecords(p.dir).records
    expect(r!.feedback).toEqual({
      total: 3,
      by_state: { resolved: 1, open: 1, rejected: 1 },
      by_tag: { "law:word-limit:count-words": 1, "law:customer-benefit-first": 1, "law:alloy--release-note-voice--ac-3": 1 },
      alloy_items: [
        {
          id: "01KSFA0000000000000000ALLOY",
          file: "release-notes/2026-05-checkout-redesign.md",
          tag: "law:alloy--release-note-voice--ac-3",
          state: "rejected",
          source: "appraise:draft-release-note",
          reason: "Still silent about it.",
          artefact_version: "6f29217821c9a24866bfcc8c917569c2a28e1266f6f6b3181c8b237feb2f9567",
          criterion: "release-note-voice#AC-3",
          text: "The note never says whether the shopper has to do anything.",
          history: [
            { state: "rejected", stage: "appraise:draft-release-note", timestamp: "2026-05-25T10:09:00.000Z", reason: "Still silent about it." },
            { state: "open", stage: "appraise:draft-release-note", timestamp: "2026-05-25T10:05:32.669Z" },
          ],
        },
      ],
      items: [
        expect.objectContaining({ tag: "law:word-limit:count-words", state: "resolved" }),
        expect.objectContaining({ tag: "law:customer-benefit-first", state: "open" }),
        expect.objectContaining({ tag: "law:alloy--release-note-voice--ac-3", state: "rejected", criterion: "release-note-voice#AC-3", history: expect.any(Array) }),
      ],
    })
  })

  it("an unreadable WORK.feedback.yaml leaves the summary out (reported) but the record is written", async () => {
    const p = await tmp.pinned()
    writeFileSync(path.join(p.dir, "WORK.feedback.yaml"), "items: [\n  - unclosed")
    beginStage(p.dir, SAMPLE_ACTIVE)
    const d = await loadPlugin(p.dir)
    await stageEnd(d, p.dir, "c1")
    const [r] = readRecords(p.dir).records
    expect(r!.feedback).toBeUndefined()
    expect(d.logs.map((l) => l.message)).toEqual([
      expect.stringMatching(/^run record for draft-release-note \/ forge:draft-release-note: feedback summary left out: WORK\.feedback\.yaml is not valid YAML/),
    ])
  })

  it("a stage_end error with an open stage is recorded as outcome error; without one nothing is recorded", async () => {
    const p = await tmp.pinned()
    const d = await loadPlugin(p.dir)
    const failure = compact(stageToolResult("foundry_stage_end_memory_failure"))
    // no active stage captured: nothing ran
    expect(await d.after("foundry_stage_end", failure, { callID: "e0" })).toBe(failure)
    expect(readRecords(p.dir).records).toEqual([])
    beginStage(p.dir, SAMPLE_ACTIVE)
    await d.before("foundry_stage_end", { callID: "e1" })
    endStage(p.dir, SUMMARY)
    expect(await d.after("foundry_stage_end", failure, { callID: "e1" })).toBe(failure)
    const [r] = readRecords(p.dir).records
    expect(r).toMatchObject({ outcome: "error", error: "memory sync at stage end failed: <detail>", cycle: "draft-release-note", summary: SUMMARY })
    expect(readEvents(p.dir).events.at(-1)).toMatchObject({ kind: "stage_ended", reason: "stage_end failed: memory sync at stage end failed: <detail>" })
  })

  it("unpinned cycles are not exported by default; exportUnpinned (option or env) exports them with pin null", async () => {
    const p = await tmp.pinned()
    const cond = { ...SAMPLE_ACTIVE, cycle: "condense-changelog-entry", stage: "forge:condense-changelog-entry" }
    rmSync(path.join(p.dir, ".alloy", "runs"), { recursive: true, force: true })
    beginStage(p.dir, cond)
    const d = await loadPlugin(p.dir)
    await stageEnd(d, p.dir, "u1")
    expect(existsSync(path.join(p.dir, ".alloy", "runs"))).toBe(false)

    for (const [i, how] of (["option", "env"] as const).entries()) {
      if (how === "env") process.env.ALLOY_EXPORT_UNPINNED = "1"
      const e = await loadPlugin(p.dir, how === "option" ? { exportUnpinned: true } : {})
      beginStage(p.dir, { ...cond, tokenHash: String(i).repeat(64) })
      await stageEnd(e, p.dir, `u2-${how}`)
    }
    const records = readRecords(p.dir).records
    expect(records).toHaveLength(2)
    expect(records.every((r) => r.pin === null && r.cycle === "condense-changelog-entry" && r.pin_error === undefined)).toBe(true)
  })

  it("a pinned cycle whose pin block is broken is exported with pin null and pin_error", async () => {
    const p = await tmp.pinned()
    const file = path.join(p.dir, "foundry", "cycles", "draft-release-note.md")
    writeFileSync(file, readFileSync(file, "utf8").replace(/^alloy:.*$/m, "alloy: 42"))
    beginStage(p.dir, SAMPLE_ACTIVE)
    const d = await loadPlugin(p.dir)
    await stageEnd(d, p.dir, "b1")
    const [r] = readRecords(p.dir).records
    expect(r!.pin).toBeNull()
    expect(r!.pin_error).toEqual({ code: "malformed", message: expect.stringContaining("key `alloy` must be a mapping") })
  })
})

describe("isolation of the exporter", () => {
  it("a failing export never changes stage_end's output, never throws, and is reported once", async () => {
    const p = await tmp.pinned()
    const runs = path.join(p.dir, ".alloy", "runs")
    rmSync(runs, { recursive: true, force: true })
    writeFileSync(runs, "in the way")
    const d = await loadPlugin(p.dir)
    for (const id of ["f1", "f2"]) {
      beginStage(p.dir, SAMPLE_ACTIVE)
      const { sent, seen } = await stageEnd(d, p.dir, id)
      expect(seen).toBe(sent)
    }
    expect(d.logs).toHaveLength(1)
    expect(d.logs[0]!.message).toMatch(/^foundry_stage_end hook failed, Foundry's result is unchanged: .*\.alloy\/runs is not a folder/)
  })

  it("writes nothing but .alloy/runs/** — git sees a clean work tree, even in a project without .alloy/", async () => {
    for (const withAlloy of [true, false]) {
      const p = withAlloy ? await tmp.pinned() : makeProject()
      if (!withAlloy) tmp.defer(p.cleanup)
      // the lines Foundry ensures in .gitignore (CONTRACTS §1.6); the sample ships without one
      if (!existsSync(path.join(p.dir, ".gitignore"))) writeFileSync(path.join(p.dir, ".gitignore"), ".snapshots/\n.foundry/\nnode_modules/\n.DS_Store\n")
      git(p.dir, ["init", "-q", "-b", "work/release-notes-x"])
      git(p.dir, ["add", "-A"])
      git(p.dir, ["commit", "-q", "-m", "base"])
      const outside = (r: string) => [".alloy/runs", ".foundry", ".git"].some((d) => r === d || r.startsWith(`${d}/`))
      const snapshot = () => snapshotTree(p.dir, outside)
      const before = snapshot()
      beginStage(p.dir, SAMPLE_ACTIVE)
      const d = await loadPlugin(p.dir, { exportUnpinned: true })
      await d.after("foundry_stage_begin", compact(stageToolResult("foundry_stage_begin")))
      await stageEnd(d, p.dir, "g1")
      expect(readRecords(p.dir).records, `withAlloy=${withAlloy}`).toHaveLength(1)
      // (without .alloy/ before, the only new entry is the folder .alloy/ holding runs/, checked below)
      expect(new Map([...snapshot()].filter(([f]) => withAlloy || f !== ".alloy"))).toEqual(before)
      expect(git(p.dir, ["status", "--porcelain", "--untracked-files=all"]), `withAlloy=${withAlloy}`).toBe("")
      if (!withAlloy) expect(readdirSync(path.join(p.dir, ".alloy"))).toEqual(["runs"])
    }
  })
})
