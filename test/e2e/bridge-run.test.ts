// The bridge end to end: `opencode-alloy run` (a child process, so Ctrl-C and kill -9 are real)
// against the REAL OpenCode server (opencode-ai), the Foundry stand-in and the scripted model.
// One project and one server serve every scenario; each scenario is its own request (its goal
// differs, so its key and worktree do), and the model plays the script the goal names.
import http from "node:http"
import type { AddressInfo } from "node:net"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ALLOY_DIST, opencodeAvailability, opencodeBin } from "./harness.js"
import { loadEvidence } from "../../src/evidence/model.js"
import { AlloyContext } from "../../src/service/context.js"
import { STAGE, cli, jsonLines, ledgerKeys, readLedger, sessionsIn, setupBridge, type BridgeEnv } from "./bridge-harness.js"

const availability = opencodeAvailability()
const REQUIRED = process.env.ALLOY_E2E_REQUIRE === "1"
// generous: the first run in a fresh worktree pays OpenCode's instance start-up, slow on a loaded 2-core machine
const T = 180_000

function resultOf(stdout: string): Record<string, unknown> {
  const r = jsonLines(stdout).find((e) => e.type === "result")
  if (!r) throw new Error(`no result event in:\n${stdout}`)
  return r.result as Record<string, unknown>
}

/** The ledger key that is new since `before`. */
function newKey(dir: string, before: string[]): string {
  const k = ledgerKeys(dir).filter((x) => !before.includes(x))
  if (k.length !== 1) throw new Error(`expected one new request, found ${k.join(",")}`)
  return k[0]!
}

const worktreeOf = (e: BridgeEnv, key: string) => path.join(e.proj.dir, ".alloy", "runs", "worktrees", key)

describe.skipIf(!availability.ok && !REQUIRED)("bridge: opencode-alloy run against the real OpenCode runtime", () => {
  let e: BridgeEnv
  beforeAll(async () => {
    if (!availability.ok) throw new Error(availability.reason)
    if (!existsSync(ALLOY_DIST)) throw new Error("run `npm run build` before the e2e tests")
    e = await setupBridge()
  }, 90_000)
  afterAll(async () => {
    await e?.cleanup()
  })

  it(
    "happy path: one tagged session in its own worktree ends succeeded with the stage record linked; the same command again starts no second session",
    async () => {
      const r1 = await cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--json"]).done
      expect(r1.code, r1.stdout + r1.stderr).toBe(0)
      const result = resultOf(r1.stdout)
      expect(result.state).toBe("succeeded")
      expect(result.terminal_action).toMatchObject({ tool: "foundry_orchestrate", action: "done" })
      // the stand-in's forge stage run, plus what the orchestrate hook recorded from the sample's WORK files
      const all = result.stage_records as Array<Record<string, unknown>>
      const recs = all.filter((r) => r.stage === STAGE)
      expect(recs.length, JSON.stringify(all.map((r) => r.stage))).toBeGreaterThanOrEqual(1)
      expect((result.tokens as Record<string, number>).input).toBeGreaterThan(0)
      // the stage record came home into the project's outbox, under the run id the result names
      const recordsDir = path.join(e.proj.dir, ".alloy", "runs", "records")
      const home = readdirSync(recordsDir).map((f) => readFileSync(path.join(recordsDir, f), "utf8"))
      for (const r of all) expect(home.some((t) => t.includes(r.run_id as string))).toBe(true)

      const key = result.key as string
      expect(readLedger(e.proj.dir, key, "status")!.state).toBe("succeeded")
      expect(readLedger(e.proj.dir, key, "request")!.key_source).toBe("content")
      const sessions = await sessionsIn(e.srv, worktreeOf(e, key))
      expect(sessions.filter((s) => s.metadata?.["alloy_request"] === key)).toHaveLength(1)
      const chats = e.mock.chatRequests().length
      const keys = ledgerKeys(e.proj.dir).length

      // the same command again: a replay, no new session, no model call
      const r2 = await cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--json"]).done
      expect(r2.code, r2.stdout + r2.stderr).toBe(0)
      expect(jsonLines(r2.stdout).find((x) => x.type === "request")).toMatchObject({ replay: true })
      expect(resultOf(r2.stdout).sessions).toEqual(result.sessions)
      expect(ledgerKeys(e.proj.dir)).toHaveLength(keys)
      expect((await sessionsIn(e.srv, worktreeOf(e, key))).filter((s) => s.metadata?.["alloy_request"] === key)).toHaveLength(1)
      expect(e.mock.chatRequests().length).toBe(chats)
    },
    T,
  )

  it(
    "the same key with another goal fails with idempotency_conflict, before any session",
    async () => {
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

  it(
    "a question the flow asks reaches the terminal and the answer reaches the agent",
    async () => {
      const run = cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--goal", "Ask about the tone [mock-script:question]"])
      await run.waitFor(/QUESTION Tone: Which tone should the release note take\?/)
      expect(run.stdout()).toContain("2) formal")
      run.child.stdin!.write("2\n")
      const r = await run.done
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toContain("result: succeeded")
      const answer = e.mock.toolResults().find((t) => t.tool === "question")
      expect(answer?.content, JSON.stringify(e.mock.toolResults())).toContain("formal")
    },
    T,
  )

  it(
    "runs abort <key> ends the run aborted",
    async () => {
      const before = ledgerKeys(e.proj.dir)
      const run = cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--goal", "Abort me [mock-script:question]", "--json"])
      await run.waitFor(/"type":"question"/)
      const key = newKey(e.proj.dir, before)
      const ab = await cli(e, ["runs", "abort", key.slice(0, 12)]).done
      expect(ab.code, ab.stdout + ab.stderr).toBe(0)
      const r = await run.done
      expect(r.code).toBe(1)
      expect(resultOf(r.stdout).state).toBe("aborted")
      expect(readLedger(e.proj.dir, key, "status")!.state).toBe("aborted")
    },
    T,
  )

  it(
    "Ctrl-C ends the run aborted",
    async () => {
      const before2 = ledgerKeys(e.proj.dir)
      const run2 = cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--goal", "Interrupt me [mock-script:question]", "--json"])
      await run2.waitFor(/"type":"question"/)
      run2.child.kill("SIGINT")
      const r2 = await run2.done
      expect(resultOf(r2.stdout).state).toBe("aborted")
      expect(readLedger(e.proj.dir, newKey(e.proj.dir, before2), "result")!.state).toBe("aborted")
    },
    T,
  )

  it(
    "kill -9 of the bridge mid-run: the request shows lost once its lease passes, and the same command finishes the record from the same session",
    async () => {
      const before = ledgerKeys(e.proj.dir)
      const args = ["run", e.proj.briefId, "--attach", e.srv.url, "--goal", "Survive a crash [mock-script:question]", "--lease-seconds", "1"]
      const run = cli(e, args)
      await run.waitFor(/QUESTION Tone/)
      const key = newKey(e.proj.dir, before)
      run.child.kill("SIGKILL")
      await run.done
      await new Promise((r) => setTimeout(r, 1_500))
      const listed = await cli(e, ["runs", "requests", "--json"]).done
      const req = (JSON.parse(listed.stdout).requests as Array<Record<string, unknown>>).find((x) => x.key === key)
      expect(req?.state, listed.stdout).toBe("lost")

      const again = cli(e, args)
      await again.waitFor(/QUESTION Tone/)
      again.child.stdin!.write("1\n")
      const r = await again.done
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toContain("attached to the existing request")
      expect(readLedger(e.proj.dir, key, "result")!.state).toBe("succeeded")
      const tagged = (await sessionsIn(e.srv, worktreeOf(e, key))).filter((s) => s.metadata?.["alloy_request"] === key)
      expect(tagged).toHaveLength(1)
    },
    T,
  )

  it(
    "opencode-alloy bridge registers a runner, heartbeats, and finishes a request whose bridge was killed, finding its session by metadata",
    async () => {
      const before = ledgerKeys(e.proj.dir)
      const run = cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--goal", "Hand over to the bridge [mock-script:question]"])
      await run.waitFor(/QUESTION Tone/)
      const key = newKey(e.proj.dir, before)
      run.child.kill("SIGKILL")
      await run.done
      // as if the bridge died between creating the session and recording it: only the tag is left
      const statusFile = path.join(e.proj.dir, ".alloy", "runs", "requests", key, "status.json")
      const st = JSON.parse(readFileSync(statusFile, "utf8")) as Record<string, unknown>
      delete st.session_id
      writeFileSync(statusFile, JSON.stringify(st))

      const bridge = cli(e, ["bridge", "--attach", e.srv.url], { extraEnv: { ALLOY_BRIDGE_MAX_SECONDS: "2" } })
      await bridge.waitFor(/QUESTION Tone/)
      bridge.child.stdin!.write("1\n")
      const r = await bridge.done
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toMatch(/runner \S+ on .*labels .*foundry:orchestrate/)
      expect(r.stdout).toContain(`request ${key}: succeeded`)
      expect(readLedger(e.proj.dir, key, "result")!.state).toBe("succeeded")
      const tagged = (await sessionsIn(e.srv, worktreeOf(e, key))).filter((s) => s.metadata?.["alloy_request"] === key)
      expect(tagged).toHaveLength(1)
      const runners = readdirSync(path.join(e.proj.dir, ".alloy", "runs", "runners"))
      expect(runners.length).toBeGreaterThan(0)
      const runner = JSON.parse(readFileSync(path.join(e.proj.dir, ".alloy", "runs", "runners", runners[0]!), "utf8")) as Record<string, unknown>
      expect(runner).toMatchObject({ $type: "alloy.runner/v1" })
      expect(runner.labels).toEqual(expect.arrayContaining(["foundry:orchestrate", "agent:foundry"]))
      // the runner names the capability manifest `caps --server` gives for the same server and project, and keeps it
      const caps = JSON.parse((await cli(e, ["caps", "--json", "--server", e.srv.url]).done).stdout) as { digest: string; manifest: unknown }
      expect(runner.capability_digest).toBe(caps.digest)
      const shown = JSON.parse((await cli(e, ["caps", "--json", "--digest", caps.digest]).done).stdout) as { digest: string; manifest: unknown }
      expect(shown).toEqual(caps)
      const events = readFileSync(path.join(e.proj.dir, ".alloy", "runs", "events.jsonl"), "utf8")
      expect(events).toContain(`"runner":"${runner.id as string}"`)
      expect(events).toMatch(/"kind":"heartbeat"[^\n]*"lease_until"/)
    },
    T,
  )

  it(
    "run --queue queues once; a running bridge picks it up from the ledger, a question it asks is answered from outside the terminal (runs answer), and its traces go live to an OTLP receiver",
    async () => {
      const args = ["run", e.proj.briefId, "--queue", "--goal", "Queued from the UI [mock-script:question]", "--json"]
      const q1 = await cli(e, args).done
      expect(q1.code, q1.stdout + q1.stderr).toBe(0)
      const queued = JSON.parse(q1.stdout) as { key: string; created: boolean; state: string }
      expect(queued).toMatchObject({ created: true, state: "accepted" })
      // idempotent, like run: the same request again is the same key, nothing new
      const q2 = await cli(e, args).done
      expect(JSON.parse(q2.stdout)).toEqual({ ok: true, key: queued.key, created: false, state: "accepted" })
      const chats = e.mock.chatRequests().length

      // an OTLP/HTTP receiver on 127.0.0.1 for the bridge's live traces
      const posts: Array<Record<string, unknown>> = []
      const rx = http.createServer((req, res) => {
        let body = ""
        req.on("data", (c: Buffer) => (body += c.toString()))
        req.on("end", () => {
          posts.push({ path: req.url, type: req.headers["content-type"], body: JSON.parse(body) as unknown })
          res.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      await new Promise<void>((r) => rx.listen(0, "127.0.0.1", () => r()))
      const rxUrl = `http://127.0.0.1:${(rx.address() as AddressInfo).port}`
      const bridge = cli(e, ["bridge", "--attach", e.srv.url, "--otel-endpoint", rxUrl, "--otel-protocol", "http/json"], { extraEnv: { ALLOY_BRIDGE_MAX_SECONDS: "2" } })
      await bridge.waitFor(/QUESTION Tone/)
      // nobody types at the bridge's terminal: the question waits in the ledger for an answer from elsewhere
      const listed = JSON.parse((await cli(e, ["runs", "requests", "--json"]).done).stdout) as { requests: Array<{ key: string; open: Array<{ id: string; ask: string }> }> }
      const open = listed.requests.find((r) => r.key === queued.key)!.open
      expect(open).toHaveLength(1)
      expect(open[0]!.ask).toBe("question")
      const ans = await cli(e, ["runs", "answer", queued.key.slice(0, 12), open[0]!.id, "formal"]).done
      expect(ans.code, ans.stdout + ans.stderr).toBe(0)
      // a second answer is refused: the first one was sent
      const again = await cli(e, ["runs", "answer", queued.key.slice(0, 12), open[0]!.id, "friendly", "--json"]).done
      expect(again.code).toBe(1)
      expect(JSON.parse(again.stdout)).toMatchObject({ ok: false, code: "already_exists" })
      const r = await bridge.done
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toContain(`request ${queued.key}: succeeded`)
      expect(r.stdout).toMatch(/answered question \S+ \(terminal\): formal/)
      expect(readLedger(e.proj.dir, queued.key, "result")!.state).toBe("succeeded")
      expect(e.mock.chatRequests().length).toBeGreaterThan(chats)
      const answer = e.mock
        .toolResults()
        .filter((t) => t.tool === "question")
        .at(-1)
      expect(answer?.content).toContain("formal")
      const tagged = (await sessionsIn(e.srv, worktreeOf(e, queued.key))).filter((s) => s.metadata?.["alloy_request"] === queued.key)
      expect(tagged).toHaveLength(1)
      // live traces: the finished request's stage runs, as export --format otel builds them, posted once
      rx.close()
      const result = readLedger(e.proj.dir, queued.key, "result")!
      const stageRecords = result.stage_records as Array<{ run_id: string; stage: string }>
      const runIds = stageRecords.map((x) => x.run_id).sort()
      // the run's records as the evidence holds them: a record whose observed content repeats an earlier run's
      // (the same scripted stage, the sample's WORK files) is kept once, under the run that brought it first
      const held = new Set(loadEvidence(new AlloyContext(e.proj.dir)).records.map((x) => x.run_id))
      const own = runIds.filter((id) => held.has(id))
      expect(posts).toHaveLength(1)
      expect(posts[0]).toMatchObject({ path: "/v1/traces", type: "application/json" })
      type Span = { name: string; attributes: Array<{ key: string; value: { stringValue?: string } }> }
      const spans = (posts[0]!.body as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Span[] }> }> }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((x) => x.spans))
      const sent = spans
        .filter((x) => x.name.startsWith("invoke_agent "))
        .map((x) => x.attributes.find((a) => a.key === "alloy.run.id")?.value.stringValue)
        .sort()
      expect(own.length).toBeGreaterThan(0)
      expect(sent).toEqual(own)
      expect(r.stdout).toMatch(new RegExp(`request ${queued.key}: \\d+ span\\(s\\) sent to ${rxUrl}/v1/traces`))
    },
    T,
  )

  it(
    "a proxy that drops the event stream mid-turn does not lose completion",
    async () => {
      const target = new URL(e.srv.url)
      let dropped = 0
      const proxy = http.createServer((req, res) => {
        const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers)
          ur.pipe(res)
          if ((req.url ?? "").startsWith("/event")) {
            // cut every event stream after a moment, as a flaky network or a proxy's idle timeout would
            setTimeout(() => {
              dropped++
              ur.destroy()
              res.destroy()
            }, 400)
          }
        })
        up.on("error", () => res.destroy())
        req.pipe(up)
      })
      await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()))
      try {
        const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
        const r = await cli(e, ["run", e.proj.briefId, "--attach", url, "--goal", "Through a bad proxy", "--json"]).done
        expect(r.code, r.stdout + r.stderr).toBe(0)
        expect(resultOf(r.stdout).state).toBe("succeeded")
        expect(dropped).toBeGreaterThan(0)
        expect(jsonLines(r.stdout).some((x) => x.type === "stream" && x.state === "dropped")).toBe(true)
      } finally {
        proxy.closeAllConnections()
        await new Promise((r) => proxy.close(() => r(undefined)))
      }
    },
    T,
  )

  it(
    "without --attach the bridge starts its own OpenCode server on 127.0.0.1 and stops it afterwards",
    async () => {
      const r = await cli(e, ["run", e.proj.briefId, "--goal", "On its own server", "--json"], { extraEnv: { OPENCODE_BIN: opencodeBin() } }).done
      expect(r.code, r.stdout + r.stderr).toBe(0)
      const result = resultOf(r.stdout)
      expect(result.state).toBe("succeeded")
      const server = readLedger(e.proj.dir, result.key as string, "status")!.server as string
      expect(server).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(server).not.toBe(e.srv.url)
      await expect(fetch(`${server}/global/health`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow()
    },
    T,
  )

  it(
    "two concurrent requests run in two different worktrees with two sessions",
    async () => {
      const [a, b] = await Promise.all([
        cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--goal", "Concurrent A", "--json"]).done,
        cli(e, ["run", e.proj.briefId, "--attach", e.srv.url, "--goal", "Concurrent B", "--json"]).done,
      ])
      expect(a.code, a.stdout + a.stderr).toBe(0)
      expect(b.code, b.stdout + b.stderr).toBe(0)
      const sa = jsonLines(a.stdout).find((x) => x.type === "session")!
      const sb = jsonLines(b.stdout).find((x) => x.type === "session")!
      expect(sa.worktree).not.toBe(sb.worktree)
      expect(sa.session).not.toBe(sb.session)
      expect(resultOf(a.stdout).state).toBe("succeeded")
      expect(resultOf(b.stdout).state).toBe("succeeded")
    },
    T,
  )
})
