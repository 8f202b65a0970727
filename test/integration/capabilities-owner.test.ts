// One owner of the capability manifest: `caps --server` and the bridge's runner registration ask
// the same OpenCode server about the same project and must name the same manifest digest (they once
// hashed different things); the runner's manifest is stored beside it and `runs requests` shows it.
// The server is a stand-in on 127.0.0.1 answering the few endpoints both read.
import http from "node:http"
import type net from "node:net"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { runCli } from "../helpers/cli.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { capabilities } from "../../src/bridge/server.js"
import { runBridge } from "../../src/bridge/bridge.js"
import { Ledger } from "../../src/bridge/ledger.js"
import { readCapabilities } from "../../src/store/capabilities.js"

const TOOLS = [
  { id: "foundry_orchestrate", parameters: { type: "object", properties: { cycle: { type: "string" }, note: { type: "string" } }, required: ["cycle"] } },
  { id: "foundry_continue", parameters: { type: "object", properties: {} } },
  { id: "alloy_status", parameters: { type: "object", properties: {} } },
  { id: "bash", parameters: { type: "object", properties: { command: { type: "string" } } } },
]

/** A stand-in OpenCode server; `directories` collects the project each request asked about. */
async function standIn(): Promise<{ url: string; directories: Set<string>; stop(): Promise<void> }> {
  const directories = new Set<string>()
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x")
    const d = u.searchParams.get("directory")
    if (d) directories.add(d)
    const json = (v: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(v))
    if (u.pathname === "/global/health") return json({ healthy: true, version: "1.2.3" })
    if (u.pathname === "/experimental/tool/ids") return json(TOOLS.map((t) => t.id))
    if (u.pathname === "/experimental/tool") return json(TOOLS)
    if (u.pathname === "/config") return json({ model: "mock/mock-model" })
    if (u.pathname === "/agent") return json([{ name: "build" }, { name: "foundry" }, { name: "foundry-forge" }])
    res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  return {
    url,
    directories,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

describe("the capability manifest has one owner", () => {
  let p: PinnedProject
  let srv: Awaited<ReturnType<typeof standIn>>
  beforeAll(async () => {
    p = await makePinnedProject()
    srv = await standIn()
  })
  afterAll(async () => {
    await srv?.stop()
    p?.cleanup()
  })

  test("caps --server and the bridge give the same digest and manifest for the same server and project", async () => {
    const caps = await runCli(p.dir, "caps", "--json", "--server", srv.url)
    expect(caps.code, caps.err).toBe(0)
    const fromCaps = caps.json<{ digest: string; manifest: { source: string; tools: Array<{ id: string }>; agents: string[] } }>()
    expect(fromCaps.manifest.source).toBe("server")
    expect(fromCaps.manifest.tools.map((t) => t.id)).toEqual(["foundry_continue", "foundry_orchestrate"])

    const bridge = await capabilities(srv.url, p.dir)
    expect(bridge.digest).toBe(fromCaps.digest)
    expect(bridge.manifest.manifest).toEqual(fromCaps.manifest)
    // the bridge still reads what it needs beyond the manifest from the same answers
    expect(bridge.generation).toBe("orchestrate")
    expect(bridge.agent).toBe("foundry")
    expect(bridge.labels).toContain("alloy:plugin")
    expect(srv.directories.has(p.dir)).toBe(true)
  })

  test("a runner registers under that digest, its manifest is stored, and runs requests shows the runner with it", async () => {
    const caps = await runCli(p.dir, "caps", "--json", "--server", srv.url)
    const digest = caps.json<{ digest: string }>().digest
    const ui = { event: () => undefined, question: async () => undefined, permission: async () => undefined }
    const { runner } = await runBridge({ root: p.dir, attach: srv.url, ui, maxMs: 0, log: () => undefined })
    expect(runner.capability_digest).toBe(digest)
    expect(new Ledger(p.dir).runners().map((r) => r.capability_digest)).toEqual([digest])
    expect(readCapabilities(p.dir, digest)?.manifest.source).toBe("server")

    const listed = await runCli(p.dir, "runs", "requests", "--json")
    expect(listed.code, listed.err).toBe(0)
    const runners = listed.json<{ runners: Array<{ capability_digest: string; capabilities?: { opencode: { version: string } } }> }>().runners
    expect(runners).toHaveLength(1)
    expect(runners[0]!.capabilities?.opencode.version).toBe("1.2.3")
    const text = await runCli(p.dir, "runs", "requests")
    expect(text.out).toContain(`capabilities ${digest.slice(0, 19)}… (OpenCode 1.2.3, Foundry`)
    // the stored manifest by the digest the runner names, with no server to ask
    const shown = await runCli(p.dir, "caps", "--digest", digest, "--json")
    expect(shown.code, shown.err).toBe(0)
    expect(shown.json()).toEqual(caps.json())
    const missing = await runCli(p.dir, "caps", "--digest", `sha256:${"0".repeat(64)}`, "--json")
    expect(missing.code).toBe(1)
    expect(missing.json()).toMatchObject({ ok: false, code: "object_missing" })
  })
})
