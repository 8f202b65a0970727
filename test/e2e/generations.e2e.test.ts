// Foundry generations in the REAL OpenCode runtime: a run-era stand-in whose foundry_run spawns
// `opencode run --attach <serverUrl> --agent foundry-forge --file <prompt>` against the same server.
// Asserted on what the mock model receives: the forge session's first message carries the Alloy
// block (chat.message works in this runtime), a tampered bundle refuses foundry_run before it spawns
// anything (a throwing tool.execute.before is honoured).
//
// Run: npm run build && npx vitest run test/e2e/generations.e2e.test.ts
import { existsSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import {
  ALLOY_DIST,
  ALLOY_PLUGIN_URL,
  KEEP,
  checkPluginModule,
  createSandbox,
  describeRun,
  opencodeAvailability,
  opencodeBin,
  parseJsonEvents,
  runOpencode,
  startServe,
  toolUses,
  type Sandbox,
  type Serve,
} from "./harness.js"
import { contentText, startMockLlm, type MockLlm, type ScriptStep } from "./mock-llm.js"
import { makePinnedProject } from "../helpers/project.js"

const E2E_TIMEOUT = 180_000
const RUN_ERA_URL = pathToFileURL(path.join(path.dirname(new URL(import.meta.url).pathname), "foundry-standin", "run-era.mjs")).href

const availability = opencodeAvailability()
const REQUIRED = process.env.ALLOY_E2E_REQUIRE === "1"

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn()
    } catch (err) {
      console.warn(`[e2e] cleanup failed: ${String(err)}`)
    }
  }
})

async function setup(opts: { tamper?: boolean; script: ScriptStep[]; alloyOptions?: Record<string, unknown>; env?: Record<string, string> }) {
  const proj = await makePinnedProject(opts.tamper ? { tamper: true } : undefined)
  cleanups.push(() => (KEEP ? console.log(`[e2e] kept project ${proj.dir}`) : proj.cleanup()))
  writeFileSync(path.join(proj.dir, "foundry", "VERSION"), "4.0.0")
  // no run in progress: foundry_run starts one (the sample project ships a WORK.md of a 3.6 run)
  rmSync(path.join(proj.dir, "WORK.md"), { force: true })
  const mock: MockLlm = await startMockLlm({ script: opts.script })
  cleanups.push(() => mock.close())
  const sb: Sandbox = createSandbox({ project: proj.dir, plugins: [RUN_ERA_URL, [ALLOY_PLUGIN_URL, opts.alloyOptions ?? { hooks: true }]], mockUrl: mock.url })
  sb.env.OPENCODE_BIN = opencodeBin()
  Object.assign(sb.env, opts.env ?? {})
  cleanups.push(() => sb.cleanup())
  const srv: Serve = await startServe(sb)
  cleanups.push(() => srv.close())
  return { proj, mock, sb, srv }
}

/** The user messages of every agent request (one that offers tools; not title generation), per request. */
function promptsSeen(mock: MockLlm): string[] {
  return mock
    .chatRequests()
    .filter((r) => (r.body.tools ?? []).length > 0)
    .map((r) => (r.body.messages ?? []).filter((m) => m.role === "user").map((m) => contentText(m.content)).join("\n-----\n"))
}

describe.skipIf(!availability.ok && !REQUIRED)(`Foundry generations in the real OpenCode runtime (opencode ${availability.version ?? "?"})`, () => {
  beforeAll(() => {
    if (!availability.ok) throw new Error(`OpenCode cannot run here: ${availability.reason}`)
    if (!existsSync(ALLOY_DIST)) throw new Error(`${ALLOY_DIST} is missing: run \`npm run build\` before the e2e tests`)
    const problem = checkPluginModule(ALLOY_PLUGIN_URL) ?? checkPluginModule(RUN_ERA_URL)
    if (problem) throw new Error(problem)
  })

  it(
    "run era: foundry_run spawns a foundry-forge session on the same server; its first message carries the verified Alloy block",
    async () => {
      const { proj, mock, sb, srv } = await setup({ script: [{ tool: "foundry_run", args: { flow: "release-notes", goal: "Draft the note" } }] })
      const res = await runOpencode(sb, ["run", "--attach", srv.url, "--format", "json", "--model", "mock/mock-model", "Run the release-notes flow."], { timeoutMs: 150_000 })
      const log = sb.standinLog()
      const why = `${describeRun(res)}\nstand-in log:\n${JSON.stringify(log, null, 1).slice(0, 6000)}`
      expect(res.code, why).toBe(0)
      const use = toolUses(parseJsonEvents(res.stdout), "foundry_run")
      expect(use.length, why).toBe(1)
      const child = log.find((e) => e.kind === "child")
      expect(child?.code, why).toBe(0)
      const seen = promptsSeen(mock)
      const forge = seen.find((t) => t.includes("Stage: forge:draft-release-note"))
      expect(forge, `no request carried the forge prompt\n${seen.join("\n=====\n").slice(0, 6000)}\n${why}`).toBeDefined()
      expect(forge!, forge).toMatch(/(^|\n)## Alloy\n/)
      expect(forge!).toContain(proj.digest)
      // the stage prompt reaches the model once (Alloy does not duplicate the attached prompt file), the block once
      expect(forge!.split("Stage: forge:draft-release-note").length - 1, forge).toBe(1)
      expect(forge!.split("## Alloy\n").length - 1, forge).toBe(1)
      console.log(`[e2e] forge session first request:\n${forge!.slice(-2500)}`)
      // Foundry's prompt comes first, the Alloy block after it
      expect(forge!.indexOf("Stage: forge:draft-release-note")).toBeLessThan(forge!.indexOf("## Alloy"))
    },
    E2E_TIMEOUT,
  )

  it(
    "run era: a tampered pinned bundle refuses foundry_run before anything is spawned (tool.execute.before throwing is honoured)",
    async () => {
      const { mock, sb, srv } = await setup({ tamper: true, script: [{ tool: "foundry_run", args: { flow: "release-notes", goal: "Draft the note" } }] })
      const res = await runOpencode(sb, ["run", "--attach", srv.url, "--format", "json", "--model", "mock/mock-model", "Run the release-notes flow."], { timeoutMs: 120_000 })
      const log = sb.standinLog()
      const why = `${describeRun(res)}\nstand-in log:\n${JSON.stringify(log).slice(0, 4000)}`
      expect(log.some((e) => e.kind === "spawn"), why).toBe(false)
      expect(log.some((e) => e.kind === "tool" && e.tool === "foundry_run"), why).toBe(false)
      expect(existsSync(path.join(sb.project, "WORK.md")), why).toBe(false)
      const use = toolUses(parseJsonEvents(res.stdout), "foundry_run")[0]
      expect(use?.part?.state?.status, why).toBe("error")
      const sent = mock.toolResults().find((r) => r.tool === "foundry_run")
      expect(sent?.content ?? "", why).toMatch(/Alloy: cycle draft-release-note.*digest_mismatch|Alloy: cycle draft-release-note/)
      expect(sent?.content ?? "").toContain("foundry_continue()")
    },
    E2E_TIMEOUT,
  )
})
