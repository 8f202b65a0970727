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
    e = await setupBridge({ generation: "run", script: [{ tool: "foundry_run", args: { flow: "release-notes", goal: "Write the note" } }] })
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
  }, 180_000)
})
