/**
 * The learning loop end to end on a copy of the sample project: runs under two bundle digests give a
 * strategy comparison; a run that proves every criterion and is attested makes `intent lifecycle`
 * propose `satisfied`; `--apply` commits it on the base branch and is refused on a flow branch;
 * accepted follow-up questions land in `open_questions`.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { beforeEach, describe, expect, test } from "vitest"
import { RUN_RECORD_TYPE, type RunRecord } from "../../src/core/run-record.js"
import { runBin, runCli } from "../helpers/cli.js"
import { loadPlugin } from "../helpers/plugin.js"
import { git, gitInitCommitAll, GIT_IDENTITY_ENV } from "../helpers/git.js"
import { CYCLE_ID, type TestProject, scratch } from "../helpers/project.js"
import { isolateEnv } from "../helpers/env.js"
import { Ledger } from "../../src/bridge/ledger.js"
import { REQUEST_TYPE, type RequestSpec } from "../../src/bridge/request.js"
import { projectCapabilitiesDigest } from "../../src/service/capabilities.js"

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
    // no bridge run recorded what either spent: said, never zero
    expect(text.out).toMatch(/tokens and cost not recorded/)
    expect(text.out).not.toMatch(/cost 0\.0000/)
  })

  test("tokens and cost the bridge recorded are reported per strategy; a strategy without a result says not recorded", async () => {
    const d1 = await buildAndPin("active")
    session(d1, "c@1", false, 0)
    session(d1, "c@2", false, 10)
    const d2 = await buildAndPin("active", " Name the setting to change.")
    session(d2, "c@3", true, 20)
    session(d2, "c@4", true, 30)
    const ledger = new Ledger(p.dir)
    const spec: RequestSpec = { brief_id: INTENT, digest: d2, flow: null, cycle: CYCLE_ID, goal: "g", goal_hash: "0".repeat(64), base_commit: "0".repeat(40), criteria: [] }
    const tokens = { input: 1200, output: 340, reasoning: 0, cache_read: 0, cache_write: 0 }
    for (const [key, state] of [
      ["req-1", "succeeded"],
      ["req-lost", "lost"],
    ] as const) {
      ledger.claim(key, "given", spec)
      ledger.postResult({
        $type: REQUEST_TYPE,
        kind: "result",
        key,
        request: spec,
        state,
        sessions: [],
        terminal_action: null,
        stage_records: [],
        tokens,
        cost: 0.0421,
        ended_at: "2026-06-02T10:00:00.000Z",
      })
    }
    const r = await runCli(p.dir, "insights", "--json")
    const f = r.json<{ findings: Array<{ code: string; data: { strategies: Array<{ digest: string; usage: unknown }> } }> }>().findings.find((x) => x.code === "strategy_comparison")!
    const usage = new Map(f.data.strategies.map((s) => [s.digest, s.usage]))
    // the lost run's zeros-or-not are not a count: only the succeeded result is summed
    expect(usage.get(d2)).toEqual({ requests: 1, tokens, cost: 0.0421, runs_covered: 0 })
    expect(usage.get(d1)).toBe("not recorded")
  })

  test("runs under another capability manifest than the project's are drift; records without one are unknown", async () => {
    const d = await buildAndPin("active")
    writeRecord(d, "c@1", {})
    let r = await runCli(p.dir, "insights", "--json")
    let out = r.json<{ findings: Array<{ code: string; data: Record<string, unknown> }>; thin: string[] }>()
    expect(out.findings.map((f) => f.code)).not.toContain("capabilities_changed")
    expect(out.thin.join("\n")).toMatch(/says which capability manifest it ran under/)
    const now = projectCapabilitiesDigest(p.ctx)!
    expect(now).toMatch(/^sha256:/)
    writeRecord(d, "c@2", { capabilities: now })
    writeRecord(d, "c@3", { capabilities: `sha256:${"a".repeat(64)}` })
    r = await runCli(p.dir, "insights", "--json")
    out = r.json()
    const f = out.findings.filter((x) => x.code === "capabilities_changed")
    expect(f).toHaveLength(1)
    expect(f[0]!.data).toEqual({ recorded: `sha256:${"a".repeat(64)}`, current: now, runs: 1, unknown: 1 })
  })

  test("Foundry config changed after the pin: the file, the pin's commit, the commit that changed it; gone once the pin moves", async () => {
    // not a repository yet: nothing can be dated, and that is said
    await buildAndPin("active")
    let out = (await runCli(p.dir, "insights", "--json")).json<{
      findings: Array<{ code: string; subject: string; data: { file: string; pinned_in: string; changed_in: string | null } }>
      thin: string[]
    }>()
    expect(out.findings.map((f) => f.code)).not.toContain("foundry_config_changed")
    expect(out.thin.join("\n")).toMatch(/not a git repository/)

    gitInitCommitAll(p.dir)
    const pinned = git(p.dir, ["rev-parse", "HEAD"]).trim()
    const configFindings = async () => {
      out = (await runCli(p.dir, "insights", "--json")).json()
      return out.findings.filter((f) => f.code === "foundry_config_changed").map((f) => ({ subject: f.subject, ...f.data }))
    }
    expect(await configFindings()).toEqual([])

    const law = "foundry/laws/house-style.md"
    writeFileSync(path.join(p.dir, law), `${readFileSync(path.join(p.dir, law), "utf8")}\n## no-exclamation-marks\n\nNever use an exclamation mark.\n`)
    git(p.dir, ["commit", "-q", "-am", "house style: no exclamation marks"])
    const changedIn = git(p.dir, ["rev-parse", "HEAD"]).trim()
    // in the work tree only: the artefact type the cycle writes
    const def = "foundry/artefacts/release-note/definition.md"
    writeFileSync(path.join(p.dir, def), `${readFileSync(path.join(p.dir, def), "utf8")}\nEdited.\n`)
    // a cycle the pinned formation does not use: not reported
    const other = "foundry/cycles/condense-changelog-entry.md"
    writeFileSync(path.join(p.dir, other), `${readFileSync(path.join(p.dir, other), "utf8")}\nEdited.\n`)
    expect(await configFindings()).toEqual([
      { subject: `cycle ${CYCLE_ID}`, file: def, pinned_in: pinned, changed_in: null },
      { subject: `cycle ${CYCLE_ID}`, file: law, pinned_in: pinned, changed_in: changedIn },
    ])
    const text = await runCli(p.dir, "insights")
    expect(text.out).toMatch(/foundry_config_changed/)
    expect(text.out).toMatch(new RegExp(`git diff ${pinned.slice(0, 12)} -- ${law}`))

    // a new build pinned and committed: the pin moved past the changes
    git(p.dir, ["checkout", "-q", "--", def, other])
    await buildAndPin("active", " Name the setting to change.")
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-q", "-m", "rebuild and re-pin"])
    expect(await configFindings()).toEqual([])
  })

  test("Foundry config drift runs the same few git processes for 3 pins as for 23", async () => {
    await buildAndPin("active")
    const cycleText = readFileSync(path.join(p.dir, "foundry", "cycles", `${CYCLE_ID}.md`), "utf8")
    const addPinnedCycles = (from: number, to: number) => {
      for (let i = from; i < to; i++) writeFileSync(path.join(p.dir, "foundry", "cycles", `pinned-copy-${i}.md`), cycleText.replace(/^id: .*$/m, `id: pinned-copy-${i}`))
    }
    addPinnedCycles(0, 2)
    gitInitCommitAll(p.dir)
    const law = "foundry/laws/house-style.md"
    const changeLaw = (line: string) => {
      writeFileSync(path.join(p.dir, law), `${readFileSync(path.join(p.dir, law), "utf8")}\n${line}\n`)
      git(p.dir, ["commit", "-q", "-am", line])
    }
    changeLaw("Never use an exclamation mark.")
    // a git on PATH that counts its calls, then runs the real one
    const real = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim()
    const bin = path.join(p.dir, "..", "counting-git")
    mkdirSync(bin, { recursive: true })
    const log = path.join(p.dir, "..", "git-calls.log")
    writeFileSync(path.join(bin, "git"), `#!/bin/sh\necho "$*" >> "${log}"\nexec "${real}" "$@"\n`, { mode: 0o755 })
    const insights = async () => {
      writeFileSync(log, "")
      const r = await runBin(["insights", "--json"], { cwd: p.dir, env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` }, timeoutMs: 60_000 })
      expect(r.status, r.stderr).toBe(0)
      const out = JSON.parse(r.stdout) as { findings: Array<{ code: string; subject: string; data: { file: string } }> }
      const drift = out.findings.filter((f) => f.code === "foundry_config_changed")
      return { calls: readFileSync(log, "utf8").split("\n").filter(Boolean), drift }
    }
    const few = await insights()
    expect(few.drift.map((f) => f.data.file)).toEqual([law, law, law])
    addPinnedCycles(2, 22)
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-q", "-m", "twenty more pinned cycles"])
    changeLaw("Never shout.")
    const many = await insights()
    expect(many.drift).toHaveLength(23)
    expect(new Set(many.drift.map((f) => f.subject)).size).toBe(23)
    // two pinning commits now (the first three pins and the twenty): a few more calls, never one per pin
    expect(many.calls.length, many.calls.join("\n")).toBeLessThanOrEqual(few.calls.length + 4)
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
