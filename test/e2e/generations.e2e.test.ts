// Foundry generations in the REAL OpenCode runtime: a run-era stand-in whose foundry_run spawns
// `opencode run --attach <serverUrl> --agent foundry-forge --file <prompt>` against the same server.
// Asserted on what the mock model receives: the forge session's first message carries the Alloy
// block (chat.message works in this runtime), a tampered bundle refuses foundry_run before it spawns
// anything (a throwing tool.execute.before is honoured).
//
// Run: npm run build && npx vitest run test/e2e/generations.e2e.test.ts
import { execFile } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import {
  ALLOY_DIST,
  ALLOY_PLUGIN_URL,
  KEEP,
  FOUNDRY_STANDIN_URL,
  REPO_ROOT,
  checkPluginModule,
  createSandbox,
  describeRun,
  opencodeAvailability,
  opencodeBin,
  parseJsonEvents,
  runOpencode,
  runPrompt,
  startServe,
  toolUses,
  type Sandbox,
  type Serve,
} from "./harness.js"
import { contentText, startMockLlm, type MockLlm, type ScriptStep } from "./mock-llm.js"
import { makePinnedProject } from "../helpers/project.js"

const E2E_TIMEOUT = 180_000
const STANDIN_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "foundry-standin")
const RUN_ERA_URL = pathToFileURL(path.join(STANDIN_DIR, "run-era-generations.mjs")).href
const SHAPES_37_URL = pathToFileURL(path.join(STANDIN_DIR, "shapes-37.mjs")).href
const CONTRACTS = path.join(REPO_ROOT, "contracts")
const CLI = path.join(REPO_ROOT, "dist", "cli", "opencode-alloy.cjs")
/** ALLOY_RECORD_CONTRACTS=1 rewrites contracts/ from what the stand-ins serve (then review the diff). */
const RECORD = process.env.ALLOY_RECORD_CONTRACTS === "1"

const GENERATIONS = [
  { generation: "orchestrate-3.6", plugin: FOUNDRY_STANDIN_URL, version: "3.6.0" },
  { generation: "shapes-3.7", plugin: SHAPES_37_URL, version: "3.7.0" },
  { generation: "run", plugin: RUN_ERA_URL, version: "4.0.0" },
] as const

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args, "--cwd", cwd], { timeout: 60_000, env: { PATH: process.env.PATH ?? "" } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

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

async function setup(opts: { tamper?: boolean; script: ScriptStep[]; alloyOptions?: Record<string, unknown>; env?: Record<string, string>; plugin?: string; version?: string; serve?: boolean }) {
  const proj = await makePinnedProject(opts.tamper ? { tamper: true } : undefined)
  cleanups.push(() => (KEEP ? console.log(`[e2e] kept project ${proj.dir}`) : proj.cleanup()))
  writeFileSync(path.join(proj.dir, "foundry", "VERSION"), opts.version ?? "4.0.0")
  // no run in progress: foundry_run starts one (the sample project ships a WORK.md of a 3.6 run)
  rmSync(path.join(proj.dir, "WORK.md"), { force: true })
  const mock: MockLlm = await startMockLlm({ script: opts.script })
  cleanups.push(() => mock.close())
  const sb: Sandbox = createSandbox({ project: proj.dir, plugins: [opts.plugin ?? RUN_ERA_URL, [ALLOY_PLUGIN_URL, opts.alloyOptions ?? { hooks: true }]], mockUrl: mock.url })
  sb.env.OPENCODE_BIN = opencodeBin()
  Object.assign(sb.env, opts.env ?? {})
  cleanups.push(() => sb.cleanup())
  if (opts.serve === false) return { proj, mock, sb, srv: undefined as unknown as Serve }
  const srv: Serve = await startServe(sb)
  cleanups.push(() => srv.close())
  return { proj, mock, sb, srv }
}

/** The user messages of every agent request (one that offers tools; not title generation), per request. */
function promptsSeen(mock: MockLlm): string[] {
  return mock
    .chatRequests()
    .filter((r) => (r.body.tools ?? []).length > 0)
    .map((r) =>
      (r.body.messages ?? [])
        .filter((m) => m.role === "user")
        .map((m) => contentText(m.content))
        .join("\n-----\n"),
    )
}

describe.skipIf(!availability.ok && !REQUIRED)(`Foundry generations in the real OpenCode runtime (opencode ${availability.version ?? "?"})`, () => {
  beforeAll(() => {
    if (!availability.ok) throw new Error(`OpenCode cannot run here: ${availability.reason}`)
    if (!existsSync(ALLOY_DIST)) throw new Error(`${ALLOY_DIST} is missing: run \`npm run build\` before the e2e tests`)
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``)
    const problem = checkPluginModule(ALLOY_PLUGIN_URL) ?? checkPluginModule(RUN_ERA_URL) ?? checkPluginModule(SHAPES_37_URL)
    if (problem) throw new Error(problem)
  })

  it(
    "run era: foundry_run spawns a foundry-forge session on the same server; its first message carries the verified Alloy block",
    async () => {
      const { proj, mock, sb, srv } = await setup({ script: [{ tool: "foundry_run", args: { flow: "release-notes", goal: "Draft the note" } }], env: { FOUNDRY_STANDIN_APPRAISE: "1" } })
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
      console.log(`[e2e] run era: forge session first request ${forge!.length} chars, Alloy block at ${forge!.indexOf("## Alloy")}`)
      // Foundry's prompt comes first, the Alloy block after it
      expect(forge!.indexOf("Stage: forge:draft-release-note")).toBeLessThan(forge!.indexOf("## Alloy"))
      // the appraise session: the gates arrive before Foundry's output instruction
      expect(
        log.filter((e) => e.kind === "child").map((e) => e.code),
        why,
      ).toEqual([0, 0])
      const appraise = seen.find((t) => t.includes("<appraiser_instructions>"))
      expect(appraise, `no request carried the appraiser prompt\n${why}`).toBeDefined()
      const gate = appraise!.indexOf("## alloy--release-note-voice--ac-3")
      expect(gate, appraise).toBeGreaterThan(appraise!.indexOf("<persona>"))
      expect(gate).toBeLessThan(appraise!.indexOf("For each law, evaluate"))
      expect(gate).toBeLessThan(appraise!.indexOf("Call foundry_stage_begin to start, foundry_stage_output"))
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
      expect(
        log.some((e) => e.kind === "spawn"),
        why,
      ).toBe(false)
      expect(
        log.some((e) => e.kind === "tool" && e.tool === "foundry_run"),
        why,
      ).toBe(false)
      expect(existsSync(path.join(sb.project, "WORK.md")), why).toBe(false)
      const use = toolUses(parseJsonEvents(res.stdout), "foundry_run")[0]
      expect(use?.part?.state?.status, why).toBe("error")
      const sent = mock.toolResults().find((r) => r.tool === "foundry_run")
      expect(sent?.content ?? "", why).toMatch(/Alloy: cycle draft-release-note.*digest_mismatch|Alloy: cycle draft-release-note/)
      expect(sent?.content ?? "").toContain("foundry_continue()")
    },
    E2E_TIMEOUT,
  )

  for (const g of GENERATIONS) {
    it(
      `caps --server: the ${g.generation} stand-in's manifest matches the recorded contract (tool names and schema digests) and the golden manifest`,
      async () => {
        const { sb, srv } = await setup({ script: [], plugin: g.plugin, version: g.version })
        const res = await cli(["caps", "--json", "--server", srv.url], sb.project)
        expect(res.code, res.stdout + res.stderr).toBe(0)
        const out = JSON.parse(res.stdout) as {
          digest: string
          manifest: { foundry: { generation: string }; tools: Array<{ id: string; schema_digest: string; fields: string[] }>; agents: string[]; source: string }
        }
        expect(out.manifest.source).toBe("server")
        expect(out.manifest.foundry.generation).toBe(g.generation)
        const dir = path.join(CONTRACTS, "generations", g.generation)
        const golden = path.join(CONTRACTS, "golden", `${g.generation}.capabilities.json`)
        if (RECORD) {
          const schemas = (await srv.get<Array<{ id: string; parameters: unknown }>>("/experimental/tool?provider=mock&model=mock-model")).filter((t) => t.id.startsWith("foundry_"))
          const tools = out.manifest.tools.map((t) => ({ ...t, schema: schemas.find((x) => x.id === t.id)?.parameters ?? null }))
          mkdirSync(path.dirname(golden), { recursive: true })
          writeFileSync(path.join(dir, "tools.json"), JSON.stringify(tools, null, 2) + "\n")
          writeFileSync(golden, JSON.stringify({ digest: out.digest, manifest: out.manifest }, null, 2) + "\n")
        }
        const recorded = JSON.parse(readFileSync(path.join(dir, "tools.json"), "utf8")) as Array<{ id: string; schema_digest: string; fields: string[] }>
        // a renamed tool or a changed schema fails here, naming it
        expect(out.manifest.tools.map((t) => `${t.id} ${t.schema_digest} ${t.fields.join(",")}`)).toEqual(recorded.map((t) => `${t.id} ${t.schema_digest} ${t.fields.join(",")}`))
        expect(JSON.parse(readFileSync(golden, "utf8"))).toEqual({ digest: out.digest, manifest: out.manifest })
        const compat = await cli(["verify", "--compat", "--server", srv.url], sb.project)
        expect(compat.code, compat.stdout + compat.stderr).toBe(0)
      },
      E2E_TIMEOUT,
    )
  }

  for (const m of [
    { mutate: "rename", names: ["foundry_stage_output", "foundry_stage_result"] },
    { mutate: "schema", names: ["foundry_run", "goal: required -> optional", "+mode"] },
  ]) {
    it(
      `verify --compat exits 1 when the run-era stand-in ${m.mutate === "rename" ? "renames a tool" : "changes a schema field"}, naming both`,
      async () => {
        const { sb, srv } = await setup({ script: [], env: { FOUNDRY_STANDIN_MUTATE: m.mutate } })
        const res = await cli(["verify", "--compat", "--server", srv.url], sb.project)
        expect(res.code, res.stdout + res.stderr).toBe(1)
        for (const n of m.names) expect(res.stdout).toContain(n)
        expect(res.stdout).toMatch(/fix: /)
      },
      E2E_TIMEOUT,
    )
  }

  it(
    "3.7 shapes: the pinned forge dispatch carries the Alloy block and the JSONL appraiser prompts get the gates BEFORE the output instruction (as the model receives them)",
    async () => {
      for (const action of ["dispatch", "dispatch_multi"] as const) {
        const { proj, mock, sb } = await setup({ script: [{ tool: "foundry_orchestrate", args: {} }], plugin: SHAPES_37_URL, version: "3.7.0", env: { FOUNDRY_STANDIN_ACTION: action }, serve: false })
        const res = await runPrompt(sb, "Run the next Foundry stage.")
        expect(res.code, describeRun(res)).toBe(0)
        const sent = mock.toolResults().find((r) => r.tool === "foundry_orchestrate")
        expect(sent, describeRun(res)).toBeDefined()
        const out = JSON.parse(sent!.content) as { action: string; prompt?: string; tasks?: Array<{ prompt: string }>; alloy?: { digest: string } }
        expect(out.alloy?.digest).toBe(proj.digest)
        if (action === "dispatch") expect(out.prompt).toMatch(/\n## Alloy\n/)
        else
          for (const t of out.tasks ?? []) {
            const gate = t.prompt.indexOf("alloy--release-note-voice--ac-3")
            expect(gate, t.prompt).toBeGreaterThan(0)
            expect(gate).toBeLessThan(t.prompt.indexOf("For each law, evaluate"))
            expect(gate).toBeLessThan(t.prompt.indexOf("Output ONLY JSONL"))
          }
      }
    },
    E2E_TIMEOUT * 2,
  )

  it(
    "an unknown generation (foundry/VERSION 9.9.0) refuses the pinned stage: blocked, unsupported_protocol, with the fix",
    async () => {
      const { mock, sb } = await setup({ script: [{ tool: "foundry_orchestrate", args: {} }], plugin: FOUNDRY_STANDIN_URL, version: "9.9.0", serve: false })
      const res = await runPrompt(sb, "Run the next Foundry stage.")
      expect(res.code, describeRun(res)).toBe(0)
      const sent = mock.toolResults().find((r) => r.tool === "foundry_orchestrate")
      const out = JSON.parse(sent!.content) as { action: string; reason: string; alloy: { code: string } }
      expect(out.action).toBe("blocked")
      expect(out.alloy.code).toBe("unsupported_protocol")
      expect(out.reason).toContain('onPinFailure: "warn"')
      expect(sent!.content).not.toContain("Token:")
    },
    E2E_TIMEOUT,
  )
})
