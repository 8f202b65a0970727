// One identity per stage run, whatever the source: live hooks record a cycle's stages as Foundry runs them
// (stage_end for forge and human-appraise), then `import` reads the same work branch. The import adds no
// record (it merges what it knew into the live ones), every record belongs to one cycle run, and run ids
// are the same on another machine importing the same branch.
import { git } from "../helpers/git.js"
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { stringify } from "yaml"
import { importBranch, importWorktree } from "../../src/evidence/import.js"
import { AlloyContext } from "../../src/service/context.js"
import { readRecords } from "../../src/store/outbox.js"
import { sha256Hex } from "../../src/core/digest.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { loadPlugin } from "../helpers/plugin.js"
import { compact, forgeDispatch } from "../helpers/recordings.js"
import { loadEvidence } from "../../src/evidence/model.js"
import { readEvents } from "../../src/store/outbox.js"

const C = "draft-release-note"
const S = (b: string) => `${b}:${C}`
const NOTE = "release-notes/2026-05-checkout-redesign.md"
const BRANCH = "work/release-notes-identity"

const STAGES = [
  { stage: S("forge"), at: "2026-06-02T09:05:00.000Z", comment: "Rewrote the note.", note: "# Checkout\n\nPay faster.\n" },
  { stage: S("quench"), at: "2026-06-02T09:05:10.000Z", comment: `${NOTE}: 0 issues found` },
  { stage: S("appraise"), at: "2026-06-02T09:08:00.000Z", comment: "0 issue(s) found by appraisers" },
  { stage: S("forge"), at: "2026-06-02T09:10:00.000Z", comment: "Tightened the note.", note: "# Checkout\n\nPay faster. Nothing to do.\n" },
  { stage: S("quench"), at: "2026-06-02T09:10:05.000Z", comment: `${NOTE}: 0 issues found` },
  { stage: S("human-appraise"), at: "2026-06-02T09:20:00.000Z", comment: "Approved." },
]

/** Run the cycle the way Foundry does, with the plugin's hooks live: stage_begin/stage_end for stages Foundry opens, then finalise (history + commit). */
async function runCycleWithHooks(p: PinnedProject, opts: { orchestrate?: boolean } = {}): Promise<number> {
  git(p.dir, ["checkout", "-q", "-b", BRANCH])
  writeFileSync(path.join(p.dir, "WORK.md"), `---\nflow: release-notes\ncycle: ${C}\nstages:\n  - forge:${C}\n  - quench:${C}\n  - appraise:${C}\n---\n# Goal\n\nRewrite the note.\n`)
  git(p.dir, ["add", "-A"])
  git(p.dir, ["commit", "-q", "-m", `[${C}] setup: configure stages`], "2026-06-02T09:00:00Z")
  const d = await loadPlugin(p.dir)
  const history: unknown[] = []
  let seq = 0
  let forges = 0
  let hooked = 0
  for (const [i, s] of STAGES.entries()) {
    const base = s.stage.split(":")[0]!
    if (base === "forge" || base === "human-appraise") {
      const baseSha = git(p.dir, ["rev-parse", "HEAD"]).trim()
      const active = { cycle: C, stage: s.stage, tokenHash: sha256Hex(`token-${i}`), baseSha, startedAt: new Date(Date.parse(s.at) - 60_000).toISOString() }
      mkdirSync(path.join(p.dir, ".foundry"), { recursive: true })
      writeFileSync(path.join(p.dir, ".foundry", "active-stage.json"), JSON.stringify(active))
      await d.after("foundry_stage_begin", compact({ ok: true, active }))
      if (s.note) writeFileSync(path.join(p.dir, NOTE), s.note)
      await d.before("foundry_stage_end", { callID: `c${i}`, args: { summary: s.comment } })
      writeFileSync(path.join(p.dir, ".foundry", "last-stage.json"), JSON.stringify({ cycle: C, stage: s.stage, baseSha, summary: s.comment }))
      rmSync(path.join(p.dir, ".foundry", "active-stage.json"))
      await d.after("foundry_stage_end", compact({ ok: true, summary: s.comment }), { callID: `c${i}`, args: { summary: s.comment } })
      hooked++
    }
    // the next foundry_orchestrate finalises: history, then one commit
    history.push({ cycle: C, stage: "sort", iteration: forges, comment: `route ${s.stage}`, timestamp: s.at, seq: seq++, open_feedback: 0, route: s.stage })
    history.push({ cycle: C, stage: s.stage, iteration: forges, comment: s.comment, timestamp: s.at, seq: seq++, open_feedback: 0, changed_files: s.note ? [NOTE] : [] })
    if (base === "forge") forges++
    writeFileSync(path.join(p.dir, "WORK.history.yaml"), stringify(history))
    writeFileSync(path.join(p.dir, "WORK.feedback.yaml"), stringify({ items: [] }))
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-q", "-m", `[${C}] ${s.stage}: ${s.comment}`], s.at)
    // ... and returns the next action (the last one: done)
    if (opts.orchestrate) {
      const last = i === STAGES.length - 1
      await d.after("foundry_orchestrate", compact(last ? { action: "done", cycle: C, artefact_file: NOTE, next_cycles: [], reason: "all stages passed" } : forgeDispatch()))
    }
  }
  return hooked
}

describe("one record per stage run, live and imported", () => {
  let p: PinnedProject
  let hooked = 0
  beforeAll(async () => {
    p = await makePinnedProject()
    for (const f of ["WORK.md", "WORK.history.yaml", "WORK.feedback.yaml"]) rmSync(path.join(p.dir, f))
    writeFileSync(path.join(p.dir, ".gitignore"), ".foundry/\n")
    git(p.dir, ["init", "-q"])
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-q", "-m", "base"], "2026-06-01T08:00:00Z")
    hooked = await runCycleWithHooks(p)
  }, 120_000)
  afterAll(() => p?.cleanup())

  test("importing the work branch after live hooks adds no record for a stage the hooks saw; one cycle run is one session", () => {
    const live = readRecords(p.dir).records
    expect(live).toHaveLength(hooked)
    const r = importBranch(p.ctx, BRANCH)
    // 6 stage entries + the closing record; 3 of them (forge, forge, human-appraise) were recorded live
    expect(r.records).toBe(STAGES.length + 1)
    expect(r.created).toBe(STAGES.length + 1 - hooked)
    const all = readRecords(p.dir).records
    expect(all).toHaveLength(STAGES.length + 1)
    expect(all.map((x) => x.stage).sort()).toEqual([...STAGES.map((s) => s.stage), "observe"].sort())
    // the live records now carry what the import knew (seq, commit, session) and both sources
    for (const x of all.filter((x) => x.source === "hook")) {
      expect(x.provenance).toEqual([{ source: "hook" }, { source: "import", origin: { kind: "branch", ref: BRANCH } }])
      expect(x.seq).toBeTypeOf("number")
      expect(x.commit).toMatch(/^[0-9a-f]{40}$/)
    }
    expect(new Set(all.map((x) => x.session)).size).toBe(1)
    // again, and from the work tree of the branch: still nothing new
    expect(importBranch(p.ctx, BRANCH).created).toBe(0)
    git(p.dir, ["checkout", "-q", BRANCH])
    const wt = importWorktree(p.ctx)
    git(p.dir, ["checkout", "-q", "main"])
    expect(wt.created).toBe(0) // the same WORK files as the branch tip: even the closing record is the same
    expect(readRecords(p.dir).records.filter((x) => x.stage !== "observe")).toHaveLength(STAGES.length)
  })

  test("run ids are the same on another machine importing the same branch", () => {
    const other = path.join(path.dirname(p.dir), "clone")
    cpSync(p.dir, other, { recursive: true })
    rmSync(path.join(other, ".alloy", "runs"), { recursive: true, force: true })
    const ctx = new AlloyContext(other)
    importBranch(ctx, BRANCH)
    const mine = new Map(
      readRecords(p.dir)
        .records.filter((x) => x.source === "import")
        .map((x) => [x.idempotency_key, x.run_id]),
    )
    const theirs = readRecords(other).records
    expect(theirs.length).toBe(STAGES.length + 1)
    for (const x of theirs) if (mine.has(x.idempotency_key)) expect(x.run_id).toBe(mine.get(x.idempotency_key))
    expect(new Set(theirs.map((x) => x.idempotency_key))).toEqual(
      new Set(
        readRecords(p.dir)
          .records.filter((x) => x.origin?.ref !== ".")
          .map((x) => x.idempotency_key),
      ),
    )
  })
})

describe("live equals imported", () => {
  let p: PinnedProject
  beforeAll(async () => {
    p = await makePinnedProject()
    for (const f of ["WORK.md", "WORK.history.yaml", "WORK.feedback.yaml"]) rmSync(path.join(p.dir, f))
    writeFileSync(path.join(p.dir, ".gitignore"), ".foundry/\n")
    git(p.dir, ["init", "-q"])
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-q", "-m", "base"], "2026-06-01T08:00:00Z")
    await runCycleWithHooks(p, { orchestrate: true })
  }, 120_000)
  afterAll(() => p?.cleanup())

  test("what Foundry did inside foundry_orchestrate (quench, appraise, done) is recorded live; the verdicts equal those after import, which adds nothing", () => {
    const live = readRecords(p.dir).records
    // before: only the stages with stage_end (forge, forge, human-appraise) were recorded live
    expect(live.map((r) => r.stage).sort()).toEqual([...STAGES.map((s) => s.stage), "observe"].sort())
    expect(readEvents(p.dir).events.filter((e) => e.kind === "cycle_done")).toEqual([
      expect.objectContaining({ cycle: C, reason: "all stages passed", pin: { brief_id: p.briefId, digest: p.digest } }),
    ])
    const verdictsLive = loadEvidence(p.ctx).intents.map((i) => [i.id, i.criteria.map((c) => [c.ref, c.verdict, c.reason])])
    const r = importBranch(p.ctx, BRANCH)
    expect(r.created).toBe(0)
    expect(readRecords(p.dir).records).toHaveLength(live.length)
    const verdictsImported = loadEvidence(p.ctx).intents.map((i) => [i.id, i.criteria.map((c) => [c.ref, c.verdict, c.reason])])
    expect(verdictsImported).toEqual(verdictsLive)
  })
})
