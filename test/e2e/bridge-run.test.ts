// The bridge end to end: `opencode-alloy run` against the REAL OpenCode server (opencode-ai), the
// Foundry stand-in and the scripted model. Each test is one short flow (a forge stage, then done).
import { existsSync, readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { ALLOY_DIST, opencodeAvailability } from "./harness.js"
import { STAGE, cli, jsonLines, ledgerKeys, readLedger, sessionsIn, setupBridge, type BridgeEnv } from "./bridge-harness.js"

const availability = opencodeAvailability()
const REQUIRED = process.env.ALLOY_E2E_REQUIRE === "1"
const T = 90_000

const envs: BridgeEnv[] = []
afterEach(async () => {
  for (const e of envs.splice(0)) await e.cleanup().catch(() => undefined)
})
async function setup(opts: Parameters<typeof setupBridge>[0] = {}): Promise<BridgeEnv> {
  const e = await setupBridge(opts)
  envs.push(e)
  return e
}

function resultOf(stdout: string): Record<string, unknown> {
  const r = jsonLines(stdout).find((e) => e.type === "result")
  if (!r) throw new Error(`no result event in:\n${stdout}`)
  return r.result as Record<string, unknown>
}

describe.skipIf(!availability.ok && !REQUIRED)("bridge: opencode-alloy run against the real OpenCode runtime", () => {
  beforeAll(() => {
    if (!availability.ok) throw new Error(availability.reason)
    if (!existsSync(ALLOY_DIST)) throw new Error("run `npm run build` before the e2e tests")
  })

  it(
    "happy path: one tagged session in its own worktree, ends succeeded with the stage record linked; the same command again starts no second session",
    async () => {
      const e = await setup()
      const r1 = await cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--json"]).done
      expect(r1.code, r1.stdout + r1.stderr).toBe(0)
      const result = resultOf(r1.stdout)
      expect(result.state).toBe("succeeded")
      expect(result.terminal_action).toMatchObject({ tool: "foundry_orchestrate", action: "done" })
      const recs = result.stage_records as Array<Record<string, unknown>>
      expect(recs.map((r) => r.stage)).toEqual([STAGE])
      expect((result.tokens as Record<string, number>).input).toBeGreaterThan(0)
      // the stage record came home into the project's outbox
      const runIds = readFileSync(path.join(e.proj.dir, ".alloy", "runs", "records", readdirOne(path.join(e.proj.dir, ".alloy", "runs", "records"))), "utf8")
      expect(runIds).toContain(recs[0]!.run_id as string)

      const [key] = ledgerKeys(e.proj.dir)
      const status = readLedger(e.proj.dir, key!, "status")!
      expect(status.state).toBe("succeeded")
      const wt = path.join(e.proj.dir, ".alloy", "runs", "worktrees", key!)
      const sessions = await sessionsIn(e.srv, wt)
      expect(sessions.filter((s) => s.metadata?.["alloy_request"] === key)).toHaveLength(1)
      const chats = e.mock.chatRequests().length

      // the same command again: a replay, no new session, no model call
      const r2 = await cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--json"]).done
      expect(r2.code, r2.stdout + r2.stderr).toBe(0)
      expect(jsonLines(r2.stdout).find((x) => x.type === "request")).toMatchObject({ replay: true })
      expect(resultOf(r2.stdout).sessions).toEqual(result.sessions)
      expect(ledgerKeys(e.proj.dir)).toHaveLength(1)
      expect((await sessionsIn(e.srv, wt)).filter((s) => s.metadata?.["alloy_request"] === key)).toHaveLength(1)
      expect(e.mock.chatRequests().length).toBe(chats)
    },
    T,
  )

  it(
    "the same key with another goal fails with idempotency_conflict, before any session",
    async () => {
      const e = await setup()
      const r1 = await cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--idempotency-key", "release-1", "--goal", "Write the note", "--json"]).done
      expect(r1.code, r1.stdout + r1.stderr).toBe(0)
      const chats = e.mock.chatRequests().length
      const r2 = await cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--idempotency-key", "release-1", "--goal", "Something else", "--json"]).done
      expect(r2.code).toBe(1)
      expect(JSON.parse(r2.stdout)).toMatchObject({ ok: false, code: "idempotency_conflict" })
      expect(e.mock.chatRequests().length).toBe(chats)
    },
    T,
  )
})

function readdirOne(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"))
  if (files.length !== 1) throw new Error(`expected one record in ${dir}, found ${files.join(",")}`)
  return files[0]!
}

