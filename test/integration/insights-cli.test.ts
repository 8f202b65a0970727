/**
 * The learning loop end to end on a copy of the sample project: runs under two bundle digests give a
 * strategy comparison; a run that proves every criterion and is attested makes `intent lifecycle`
 * propose `satisfied`; `--apply` commits it on the base branch and is refused on a flow branch;
 * accepted follow-up questions land in `open_questions`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { beforeEach, describe, expect, test } from "vitest"
import { RUN_RECORD_TYPE, type RunRecord } from "../../src/core/run-record.js"
import { runCli } from "../helpers/cli.js"
import { loadPlugin } from "../helpers/plugin.js"
import { git, gitInitCommitAll, GIT_IDENTITY_ENV } from "../helpers/git.js"
import { CYCLE_ID, type TestProject, scratch } from "../helpers/project.js"
import { isolateEnv } from "../helpers/env.js"

const INTENT = "two-laws"
const intentText = (status: string, extra = "") => `---
id: ${INTENT}
title: Notes open with the benefit and state the action
status: ${status}
goal: Every release note tells a shopper what changed for them and what they must do.
constraints: []
acceptance_criteria:
  - id: AC-1
    text: The first sentence after the title states what the customer gains.
    evidence: { kind: law }
  - id: AC-2
    text: The note states the action the customer must take, or says none is needed.${extra}
    evidence: { kind: law }
non_goals: []
tradeoffs: []
open_questions: []
---
`
const RECIPE = `---
id: ${INTENT}
title: Two laws
intents: [${INTENT}]
formation:
  cycles: [${CYCLE_ID}]
---
`

let p: TestProject
let n = 0
isolateEnv(GIT_IDENTITY_ENV)
const tmp = scratch()

beforeEach(() => {
  p = tmp.project("alloy-insights-")
})

async function buildAndPin(status = "active", extra = ""): Promise<string> {
  expect((await runCli(p.dir, "init")).code).toBe(0)
  mkdirSync(path.join(p.dir, ".alloy", "intents"), { recursive: true })
  mkdirSync(path.join(p.dir, ".alloy", "briefs"), { recursive: true })
  writeFileSync(path.join(p.dir, ".alloy", "intents", `${INTENT}.md`), intentText(status, extra))
  writeFileSync(path.join(p.dir, ".alloy", "briefs", `${INTENT}.md`), RECIPE)
  const b = await runCli(p.dir, "brief", "build", INTENT, "--json")
  expect(b.code, b.err + b.out).toBe(0)
  const pin = await runCli(p.dir, "pin", CYCLE_ID, INTENT, "--json")
  expect(pin.code, pin.err + pin.out).toBe(0)
  return b.json<{ builds: Array<{ digest: string }> }>().builds[0]!.digest
}

/** A run record as the hooks or an import write it: one stage of one session, under one digest. */
function writeRecord(digest: string, session: string, over: Partial<RunRecord>): void {
  n++
  const key = (0x5000 + n).toString(16).padStart(64, "0")
  const rec: RunRecord = {
    $type: RUN_RECORD_TYPE,
    run_id: `01JX${String(n).padStart(22, "0")}`,
    idempotency_key: key,
    pin: { brief_id: INTENT, digest },
    cycle: CYCLE_ID,
    stage: `appraise:${CYCLE_ID}`,
    ended_at: `2026-06-0${1 + (n % 8)}T10:00:00.000Z`,
    alloy_version: "0.0.0-test",
    source: "import",
    session,
    outcome: "ok",
    ...over,
  }
  const dir = path.join(p.dir, ".alloy", "runs", "records")
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, `${key}.json`), JSON.stringify(rec))
}

const item = (id: string, ac: number, states: string[], t0: number) => {
  const history = states.map((state, i) => ({ state, stage: `appraise:${CYCLE_ID}`, timestamp: `2026-06-01T10:${String(t0 + i).padStart(2, "0")}:00.000Z` })).reverse()
  return { id, file: "release-notes/x.md", tag: `law:alloy--${INTENT}--ac-${ac}`, state: history[0]!.state, history }
}
const fb = (items: ReturnType<typeof item>[]) => ({ total: items.length, by_state: {}, by_tag: {}, alloy_items: [], items })

/** One session in which both criteria end resolved (pass = true) or AC-2 stays open. */
function session(digest: string, s: string, pass: boolean, t0: number): void {
  writeRecord(digest, s, { stage: `forge:${CYCLE_ID}` })
  writeRecord(digest, s, { feedback: fb([item(`${s}-1`, 1, ["open", "resolved"], t0), item(`${s}-2`, 2, pass ? ["open", "resolved"] : ["open"], t0)]) })
}

describe("insights, follow-ups and the intent lifecycle (CLI)", () => {
  test("two bundle digests with two sessions each are compared; the better one is named", async () => {
    const d1 = await buildAndPin("active")
    session(d1, "c@1", false, 0)
    session(d1, "c@2", false, 10)
    const d2 = await buildAndPin("active", " Name the setting to change.")
    expect(d2).not.toBe(d1)
    session(d2, "c@3", true, 20)
    session(d2, "c@4", true, 30)
    const r = await runCli(p.dir, "insights", "--json")
    expect(r.code, r.err).toBe(0)
    const f = r
      .json<{ findings: Array<{ code: string; subject: string; data: { best: string; strategies: Array<{ digest: string; sessions: number; satisfied_sessions: number }> } }> }>()
      .findings.find((x) => x.code === "strategy_comparison")!
    expect(f.subject).toBe(INTENT)
    expect(f.data.best).toBe(d2)
    expect(f.data.strategies.map((s) => [s.digest, s.sessions, s.satisfied_sessions]).sort()).toEqual(
      [
        [d1, 2, 0],
        [d2, 2, 2],
      ].sort(),
    )
    const text = await runCli(p.dir, "insights")
    expect(text.out).toMatch(/strategy_comparison/)
  })

  test("proven and attested: lifecycle proposes satisfied, --apply commits it with a statement, refused on work/*", async () => {
    const d = await buildAndPin("active")
    gitInitCommitAll(p.dir)
    // nothing proven yet: no proposal
    expect((await runCli(p.dir, "intent", "lifecycle", "--json")).json<{ proposals: unknown[] }>().proposals).toEqual([])
    session(d, "c@1", true, 0)
    writeRecord(d, "c@1", { stage: `attest:${CYCLE_ID}`, attestation: { stages: [`forge:${CYCLE_ID}`, `appraise:${CYCLE_ID}`] } })
    const prop = await runCli(p.dir, "intent", "lifecycle", "--propose", "--json")
    expect(prop.json<{ proposals: Array<{ intent: string; from: string; to: string }> }>().proposals).toMatchObject([{ intent: INTENT, from: "active", to: "satisfied" }])

    // status reads the same facts, from one load of the evidence
    const status = await runCli(p.dir, "status", "--json")
    expect(status.json<{ insights: { lifecycle: Array<{ intent: string; to: string }> } }>().insights.lifecycle).toMatchObject([{ intent: INTENT, to: "satisfied" }])
    expect((await runCli(p.dir, "status")).out).toMatch(/^Insights: .*1 lifecycle change due/m)

    git(p.dir, ["checkout", "-q", "-b", "work/two-laws"])
    const refused = await runCli(p.dir, "intent", "lifecycle", "--apply", "--json")
    expect(refused.code).toBe(2)
    expect(refused.json<{ code: string }>().code).toBe("work_branch")
    expect(readFileSync(path.join(p.dir, ".alloy", "intents", `${INTENT}.md`), "utf8")).toMatch(/^status: active$/m)

    git(p.dir, ["checkout", "-q", "main"])
    const applied = await runCli(p.dir, "intent", "lifecycle", "--apply", "--json")
    expect(applied.code, applied.err + applied.out + git(p.dir, ["status", "--porcelain"])).toBe(0)
    const sha = applied.json<{ commit: string }>().commit
    expect(git(p.dir, ["rev-parse", "HEAD"]).trim()).toBe(sha)
    expect(git(p.dir, ["log", "-1", "--format=%B"])).toMatch(/two-laws: active -> satisfied/)
    expect(readFileSync(path.join(p.dir, ".alloy", "intents", `${INTENT}.md`), "utf8")).toMatch(/^status: satisfied$/m)
    const stmts = readdirSync(path.join(p.dir, ".alloy", "lifecycle"))
    expect(stmts).toHaveLength(1)
    const st = JSON.parse(readFileSync(path.join(p.dir, ".alloy", "lifecycle", stmts[0]!), "utf8"))
    expect(st.predicate).toMatchObject({ intent: INTENT, from: "active", to: "satisfied", verdicts: { [`${INTENT}#AC-1`]: "satisfied", [`${INTENT}#AC-2`]: "satisfied" } })
    expect(git(p.dir, ["status", "--porcelain", "--", ".alloy/intents", ".alloy/lifecycle"]).trim()).toBe("")
    // nothing more is due
    expect((await runCli(p.dir, "intent", "lifecycle", "--json")).json<{ proposals: unknown[] }>().proposals).toEqual([])
  })

  test("a follow-up question accepted lands once in the intent's open_questions", async () => {
    await buildAndPin("active")
    const list = await runCli(p.dir, "followups", "--json")
    const qs = list.json<{ followups: Array<{ id: string; criterion: string; question: string }> }>().followups
    expect(qs.length).toBeGreaterThan(0)
    const q = qs[0]!
    expect((await runCli(p.dir, "followups", "--accept", q.id)).code).toBe(0)
    expect((await runCli(p.dir, "followups", "--accept", q.id)).out).toMatch(/^already there/)
    const text = readFileSync(path.join(p.dir, ".alloy", "intents", `${INTENT}.md`), "utf8")
    expect(text.split(q.question).length - 1).toBe(1)
    expect((await runCli(p.dir, "followups", "--accept", "nope")).code).toBe(2)
  })

  test("the alloy_followups tool gives the same questions as the CLI, accepts through the same path, and is refused on a flow branch", async () => {
    await buildAndPin("active")
    const cliQs = (await runCli(p.dir, "followups", "--json")).json<{ followups: Array<{ id: string }> }>().followups
    const plugin = await loadPlugin(p.dir)
    const listed = await plugin.tool("alloy_followups", {})
    expect(listed.json["ok"]).toBe(true)
    expect((listed.json["followups"] as Array<{ id: string }>).map((q) => q.id)).toEqual(cliQs.map((q) => q.id))
    gitInitCommitAll(p.dir)
    git(p.dir, ["checkout", "-q", "-b", "work/x"])
    const refused = await plugin.tool("alloy_followups", { accept: [cliQs[0]!.id] })
    expect(refused.json).toMatchObject({ ok: false, code: "work_branch" })
    git(p.dir, ["checkout", "-q", "main"])
    const accepted = await plugin.tool("alloy_followups", { accept: [cliQs[0]!.id] })
    expect(accepted.json).toMatchObject({ ok: true, accepted: [{ id: cliQs[0]!.id, added: true }] })
  })
})
