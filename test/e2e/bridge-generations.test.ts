// The bridge detects the Foundry generation from the server's tools and prompts it in its own form:
// here the later "run era" (foundry_run / foundry_continue driven by the foundry-guide agent).
import { existsSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ALLOY_DIST, opencodeAvailability } from "./harness.js"
import { cli, jsonLines, setupBridge, type BridgeEnv } from "./bridge-harness.js"

const availability = opencodeAvailability()
const REQUIRED = process.env.ALLOY_E2E_REQUIRE === "1"

describe.skipIf(!availability.ok && !REQUIRED)("bridge: Foundry generations", () => {
  let e: BridgeEnv
  beforeAll(async () => {
    if (!availability.ok) throw new Error(availability.reason)
    if (!existsSync(ALLOY_DIST)) throw new Error("run `npm run build` before the e2e tests")
    e = await setupBridge({
      generation: "run",
      script: [{ tool: "foundry_run", args: { flow: "release-notes", goal: "Write the note" } }],
      scripts: {
        // Foundry stops at a human appraisal (prompt_user) and the turn ends; the person's answer comes back as a
        // message, the agent records it as the human-appraise stage output and calls foundry_continue
        appraise: [
          { tool: "foundry_run", args: { flow: "release-notes", goal: "Write the note [appraise]" } },
          { tool: "foundry_stage_output", args: { data: { verdict: "approved" } }, waitFor: "<stage_outputs>" },
          { tool: "foundry_continue", args: {} },
        ],
      },
    })
  }, 90_000)
  afterAll(async () => {
    await e?.cleanup()
  })

  it("run era: the foundry-guide agent is prompted to call foundry_run; its done ends the request succeeded", async () => {
    const r = await cli(e, ["run", e.proj.briefId, "--flow", "release-notes", "--attach", e.srv.url, "--json"]).done
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const events = jsonLines(r.stdout)
    expect(events.find((x) => x.type === "session")).toMatchObject({ agent: "foundry-guide", generation: "run" })
    const result = events.find((x) => x.type === "result")!.result as Record<string, unknown>
    expect(result).toMatchObject({ state: "succeeded", terminal_action: { tool: "foundry_run", action: "done" } })
    expect((result.request as Record<string, unknown>).flow).toBe("release-notes")
    // what the model was asked: the run-era form, with the goal and the criteria ids quoted as data
    const first = e.mock.chatRequests().find((q) => (q.body.tools ?? []).length > 0)!
    const prompt = JSON.stringify(first.body.messages)
    expect(prompt).toContain("foundry_run")
    expect(prompt).toContain("release-note-voice#AC-1")
    expect(e.sb.standinLog().some((l) => l.tool === "foundry_run")).toBe(true)
    // the result carries Foundry's run id and its attestation, every line's hash checked, and the verdicts it changed
    expect(result.foundry_run_id).toBe("01JKVT7Z8Q3WN0GJM2TYBR4AA")
    expect(result.attestation).toMatchObject({
      kind: "attestations-jsonl",
      file: ".foundry/attestations/01JKVT7Z8Q3WN0GJM2TYBR4AA.jsonl",
      run_id: "01JKVT7Z8Q3WN0GJM2TYBR4AA",
      stages: 1,
      verified: true,
      seal: { status: "pass" },
    })
    expect(result.verdict_changes).toEqual(expect.any(Array))
  }, 180_000)

  it("run era: Foundry's prompt_user (a human appraisal) reaches the person; the answer goes back as the stage output and foundry_continue ends the run", async () => {
    const run = cli(e, ["run", e.proj.briefId, "--flow", "release-notes", "--attach", e.srv.url, "--goal", "Appraise me [mock-script:appraise]", "--json"])
    await run.waitFor(/"type":"appraisal"/)
    const appraisal = jsonLines(run.stdout()).find((x) => x.type === "appraisal")!
    expect(appraisal).toMatchObject({ stage: "human-appraise", artefact: "release-notes/2026-05-checkout-redesign.md" })
    // answered from outside the terminal (as the UI does): the run's terminal prompt stops, the ledger's answer is sent
    const ans = await cli(e, ["runs", "answer", String(appraisal.key).slice(0, 12), String(appraisal.id), "approve"]).done
    expect(ans.code, ans.stdout + ans.stderr).toBe(0)
    const r = await run.done
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const result = jsonLines(r.stdout).find((x) => x.type === "result")!.result as Record<string, unknown>
    expect(result).toMatchObject({ state: "succeeded", terminal_action: { tool: "foundry_continue", action: "done" } })
    const log = e.sb.standinLog()
    expect(log.find((l) => l.tool === "foundry_stage_output")).toMatchObject({ args: { data: { verdict: "approved" } } })
    expect(log.filter((l) => l.tool === "foundry_continue").at(-1)).toMatchObject({ outputs: [{ verdict: "approved" }] })
    // what the agent was told: the verdict as data to record, then foundry_continue
    const told = e.mock
      .chatRequests()
      .map((q) => JSON.stringify(q.body.messages))
      .find((m) => m.includes("<stage_outputs>"))
    expect(told).toContain('{\\"verdict\\":\\"approved\\"}')
    expect(told).toContain("foundry_continue()")
  }, 180_000)
})
