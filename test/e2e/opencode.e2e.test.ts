// End-to-end tests of the built Alloy plugin (dist/index.js) inside the REAL OpenCode runtime
// (opencode-ai 1.18.33), driven by a scripted mock LLM on 127.0.0.1, with a Foundry stand-in
// plugin providing foundry_orchestrate / foundry_stage_end outputs.
//
// Run: npm run build && npx vitest run test/e2e
// The suite is skipped, with a message saying why, when the OpenCode binary cannot run here.
// Environment: E2E_KEEP=1 keeps sandboxes and projects (paths printed); ALLOY_E2E_REQUIRE=1 fails
// instead of skipping; ALLOY_E2E_PACKAGE_DIR=<dir> tests another copy of the package (dist/ + skills/).
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { skipNote } from "../helpers/skip.js"
import {
  ALLOY_DIST,
  ALLOY_PLUGIN_URL,
  FIXTURES_DIR,
  FOUNDRY_STANDIN_URL,
  KEEP,
  PACKAGE_ROOT,
  checkPluginModule,
  createSandbox,
  describeRun,
  opencodeAvailability,
  parseJsonEvents,
  pluginList,
  runPrompt,
  startServe,
  toolUses,
  type RunEvent,
  type RunResult,
  type Sandbox,
} from "./harness.js"
import { startMockLlm, type MockLlm, type ScriptStep } from "./mock-llm.js"
import { makePinnedProject } from "../helpers/project.js"

const E2E_TIMEOUT = 120_000
const CYCLE = "draft-release-note"
const STAGE = "forge:draft-release-note"

const ALLOY_TOOLS = [
  "alloy_brief_resolve",
  "alloy_prompt_pack_resolve",
  "alloy_gate_overlay_resolve",
  "alloy_intent_create",
  "alloy_intent_update",
  "alloy_intent_list",
  "alloy_brief_build",
  "alloy_brief_pin",
  "alloy_compat_check",
  "alloy_formation_design",
] as const

// ALLOY_E2E_REQUIRE=1 (e.g. in CI) turns "cannot run OpenCode here" into a failure instead of a skip.
const availability = opencodeAvailability()
const REQUIRED = process.env.ALLOY_E2E_REQUIRE === "1"
if (!availability.ok) {
  console.warn(`[e2e] ${REQUIRED ? "FAILING" : "SKIPPING"} the OpenCode end-to-end tests: ${availability.reason}`)
}

interface ToolInfo {
  id: string
  description: string
  parameters: { type?: string; properties?: Record<string, { description?: string; type?: string }>; required?: string[] }
}

interface SkillInfo {
  name: string
  description?: string
  location?: string
}

type Json = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// small helpers

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

function parseJson(text: string | undefined, what: string): Json {
  try {
    const v: unknown = JSON.parse(text ?? "")
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Json
  } catch {
    /* fall through */
  }
  throw new Error(`${what} is not a JSON object: ${String(text).slice(0, 2000)}`)
}

/** The single completed tool_use event of a tool (fails with the whole run described otherwise). */
function completedToolUse(events: RunEvent[], toolName: string, res: RunResult): RunEvent {
  const uses = toolUses(events, toolName)
  expect(uses.length, `expected one tool_use event for ${toolName}\n${describeRun(res)}`).toBe(1)
  const use = uses[0] as RunEvent
  expect(use.part?.state?.status, `${toolName} did not complete: ${JSON.stringify(use.part?.state)}`).toBe("completed")
  return use
}

/** Prepared Alloy project + sandbox + mock, all cleaned up after the test. */
async function setup(opts: { tamper?: boolean; script?: ScriptStep[]; alloyOptions?: Json } = {}) {
  const proj = await makePinnedProject(opts.tamper ? { tamper: true } : undefined)
  cleanups.push(() => (KEEP ? console.log(`[e2e] kept project ${proj.dir}`) : proj.cleanup()))
  const mock: MockLlm | undefined = opts.script ? await startMockLlm({ script: opts.script }) : undefined
  if (mock) cleanups.push(() => mock.close())
  const sb: Sandbox = createSandbox({
    project: proj.dir,
    plugins: pluginList(opts.alloyOptions ?? { hooks: true }),
    // serve-only tests never reach the LLM: point at a closed port
    mockUrl: mock?.url ?? "http://127.0.0.1:9/v1",
  })
  cleanups.push(() => sb.cleanup())
  return { proj, mock, sb }
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!availability.ok && !REQUIRED)(
  `Alloy plugin in the real OpenCode runtime (opencode ${availability.version ?? "?"})${skipNote(availability.ok || REQUIRED ? undefined : "the OpenCode binary cannot run here")}`,
  () => {
    beforeAll(() => {
      if (!availability.ok) throw new Error(`OpenCode cannot run here: ${availability.reason}`)
      if (!existsSync(ALLOY_DIST)) {
        throw new Error(`${ALLOY_DIST} is missing: run \`npm run build\` before the e2e tests`)
      }
      const problem = checkPluginModule(ALLOY_PLUGIN_URL) ?? checkPluginModule(FOUNDRY_STANDIN_URL)
      if (problem) throw new Error(problem)
    })

    it(
      "serve: registers every alloy_* tool with a JSON schema, and the alloy skills",
      async () => {
        const { sb } = await setup()
        const srv = await startServe(sb)
        cleanups.push(() => srv.close())
        const t0 = Date.now()

        const tools = await srv.get<ToolInfo[]>("/experimental/tool?provider=mock&model=mock-model")
        const byId = new Map(tools.map((t) => [t.id, t]))
        const logs = () => `tools: ${tools.map((t) => t.id).join(",")}\nserve stderr:\n${srv.logs().stderr.slice(-4000)}`
        // the stand-in loaded too (proves the plugin list was read)
        expect(byId.has("foundry_orchestrate"), logs()).toBe(true)
        for (const id of ALLOY_TOOLS) {
          const t = byId.get(id)
          expect(t, `${id} missing from /experimental/tool\n${logs()}`).toBeDefined()
          expect(t?.description.length ?? 0, `${id} has no description`).toBeGreaterThan(0)
          expect(t?.parameters?.type, `${id} parameters: ${JSON.stringify(t?.parameters)}`).toBe("object")
          expect(typeof t?.parameters?.properties, `${id} parameters: ${JSON.stringify(t?.parameters)}`).toBe("object")
        }
        const resolve = byId.get("alloy_brief_resolve") as ToolInfo
        for (const p of ["brief_id", "digest", "cycle"]) {
          const prop = resolve.parameters.properties?.[p]
          expect(prop, `alloy_brief_resolve has no parameter ${p}: ${JSON.stringify(resolve.parameters)}`).toBeDefined()
          expect(prop?.description?.trim().length ?? 0, `alloy_brief_resolve.${p} has no description`).toBeGreaterThan(0)
        }
        // every argument is optional (explicit pin OR cycle)
        expect(resolve.parameters.required ?? []).toEqual([])

        const skills = await srv.get<SkillInfo[]>("/skill")
        const skillNames = skills.map((s) => s.name)
        for (const name of ["alloy-wizard", "alloy-revise"]) {
          const skill = skills.find((s) => s.name === name)
          expect(skill, `skill ${name} missing from /skill (have: ${skillNames.join(",")})\n${srv.logs().stderr.slice(-4000)}`).toBeDefined()
          expect(skill?.description?.trim().length ?? 0, `skill ${name} has no description`).toBeGreaterThan(0)
          // served from the package's own skills/ folder
          const expected = path.join(PACKAGE_ROOT, "skills", name, "SKILL.md")
          expect(realpathSync(skill?.location ?? ""), `skill ${name} location`).toBe(realpathSync(expected))
        }
        console.log(`[e2e] serve: startup ${srv.startupMs} ms, queries ${Date.now() - t0} ms`)
        await srv.close()
      },
      E2E_TIMEOUT,
    )

    it(
      "run: alloy_brief_resolve({cycle}) on a verified project returns the pinned digest to the model",
      async () => {
        const { proj, mock, sb } = await setup({ script: [{ tool: "alloy_brief_resolve", args: { cycle: CYCLE } }] })
        const res = await runPrompt(sb, "Resolve the Alloy brief pinned to the draft-release-note cycle.")
        console.log(`[e2e] run brief_resolve (verified): opencode run ${res.ms} ms`)
        expect(res.timedOut, describeRun(res)).toBe(false)
        expect(res.code, describeRun(res)).toBe(0)

        const events = parseJsonEvents(res.stdout)
        const use = completedToolUse(events, "alloy_brief_resolve", res)
        expect(use.part?.state?.input).toEqual({ cycle: CYCLE })
        const out = parseJson(use.part?.state?.output, "alloy_brief_resolve output")
        expect(out.ok, JSON.stringify(out)).toBe(true)
        expect(out.digest).toBe(proj.digest)
        expect((out.brief as Json | undefined)?.id, JSON.stringify(out.brief)).toBe(proj.briefId)
        expect(typeof out.text, "rendered brief text").toBe("string")
        expect((out.text as string).trim().length).toBeGreaterThan(0)
        expect(out.stale, "a freshly built and pinned brief is not stale").toBe(false)

        // what the runtime sent back to the "LLM"
        const results = mock!.toolResults()
        const sent = results.find((r) => r.tool === "alloy_brief_resolve")
        expect(sent, `no alloy_brief_resolve result reached the model: ${JSON.stringify(results).slice(0, 2000)}`).toBeDefined()
        expect(sent!.content).toContain(proj.digest)
        expect(parseJson(sent!.content, "tool result sent to the model").ok).toBe(true)
        // the turn loop finished: the final answer echoes the tool result
        const text = events
          .filter((e) => e.type === "text")
          .map((e) => e.part?.text ?? "")
          .join("")
        expect(text, describeRun(res)).toContain("MOCK-FINAL:")

        // the agent is offered the wizard skills: they appear in what the runtime sent to the model
        const offered = JSON.stringify(mock!.chatRequests().map((r) => [(r.body as Json).messages, (r.body as Json).tools]))
        expect(offered, "alloy-wizard is not visible to the model").toContain("alloy-wizard")
        expect(offered, "alloy-revise is not visible to the model").toContain("alloy-revise")
      },
      E2E_TIMEOUT,
    )

    it(
      "run: alloy_brief_resolve({cycle}) on a tampered object store fails with digest_mismatch",
      async () => {
        const { proj, mock, sb } = await setup({ tamper: true, script: [{ tool: "alloy_brief_resolve", args: { cycle: CYCLE } }] })
        const res = await runPrompt(sb, "Resolve the Alloy brief pinned to the draft-release-note cycle.")
        console.log(`[e2e] run brief_resolve (tampered): opencode run ${res.ms} ms`)
        expect(res.timedOut, describeRun(res)).toBe(false)
        expect(res.code, describeRun(res)).toBe(0)

        const use = completedToolUse(parseJsonEvents(res.stdout), "alloy_brief_resolve", res)
        const out = parseJson(use.part?.state?.output, "alloy_brief_resolve output")
        expect(out.ok, JSON.stringify(out)).toBe(false)
        expect(out.code, JSON.stringify(out)).toBe("digest_mismatch")
        expect(typeof out.error).toBe("string")
        // the tampered object still exists (it is a mismatch, not a missing object)
        expect(existsSync(proj.objectPath)).toBe(true)

        const sent = mock!.toolResults().find((r) => r.tool === "alloy_brief_resolve")
        expect(sent, "no alloy_brief_resolve result reached the model").toBeDefined()
        expect(parseJson(sent!.content, "tool result sent to the model").code).toBe("digest_mismatch")
      },
      E2E_TIMEOUT,
    )

    it(
      "run: foundry_orchestrate dispatch gets the ## Alloy block; foundry_stage_end writes a run record",
      async () => {
        const summary = "Moved the benefit into the first sentence; actioned 1 feedback item."
        const { proj, mock, sb } = await setup({
          alloyOptions: { hooks: true, onPinFailure: "block" },
          script: [
            { tool: "foundry_orchestrate", args: {} },
            { tool: "foundry_stage_end", args: { summary } },
          ],
        })
        // The forge stage is open (as after foundry_stage_begin); no previous stage result lies around.
        const dotFoundry = path.join(sb.project, ".foundry")
        mkdirSync(dotFoundry, { recursive: true })
        writeFileSync(path.join(dotFoundry, "active-stage.json"), readFileSync(path.join(FIXTURES_DIR, "active-stage.json")))
        rmSync(path.join(dotFoundry, "last-stage.json"), { force: true })
        rmSync(path.join(sb.project, ".alloy", "runs"), { recursive: true, force: true })

        const res = await runPrompt(sb, "Run the next Foundry stage of the draft-release-note cycle.")
        console.log(`[e2e] run orchestrate+stage_end: opencode run ${res.ms} ms`)
        expect(res.timedOut, describeRun(res)).toBe(false)
        expect(res.code, describeRun(res)).toBe(0)
        const events = parseJsonEvents(res.stdout)
        completedToolUse(events, "foundry_orchestrate", res)
        const endUse = completedToolUse(events, "foundry_stage_end", res)
        expect(parseJson(endUse.part?.state?.output, "foundry_stage_end output")).toEqual({ ok: true, summary })

        // 1. the dispatch as the MODEL received it
        const original = parseJson(readFileSync(path.join(FIXTURES_DIR, "dispatch.forge.json"), "utf8"), "fixture")
        const originalPrompt = original.prompt as string
        const sent = mock!.toolResults().find((r) => r.tool === "foundry_orchestrate")
        expect(sent, `no foundry_orchestrate result reached the model\n${describeRun(res)}`).toBeDefined()
        const dispatch = parseJson(sent!.content, "foundry_orchestrate result sent to the model")
        expect(dispatch.action).toBe("dispatch")
        expect(dispatch.stage).toBe(original.stage)
        expect(dispatch.subagent_type).toBe(original.subagent_type)
        expect(dispatch.reason).toBe(original.reason)
        const prompt = dispatch.prompt as string
        expect(typeof prompt).toBe("string")
        expect(prompt.startsWith(originalPrompt), `Foundry's prompt is not an unchanged prefix:\n${prompt}`).toBe(true)
        const added = prompt.slice(originalPrompt.length)
        expect(added, `nothing appended to the dispatch prompt:\n${prompt}`).toMatch(/(^|\n)## Alloy\b/)
        expect(added).toContain(proj.digest)
        // Foundry's Stage:/Cycle:/Token: lines are untouched (and not repeated by the Alloy block)
        const linesWith = (text: string, prefix: string) => text.split("\n").filter((l) => l.startsWith(prefix))
        for (const prefix of ["Stage:", "Cycle:", "Token:"]) {
          expect(linesWith(prompt, prefix), `${prefix} lines`).toEqual(linesWith(originalPrompt, prefix))
        }
        expect(linesWith(prompt, "Stage:")).toEqual([`Stage: ${STAGE}`])
        expect(linesWith(prompt, "Cycle:")).toEqual([`Cycle: ${CYCLE}`])

        // 2. the Foundry stand-in closed the stage (sanity of the double)
        expect(existsSync(path.join(dotFoundry, "active-stage.json"))).toBe(false)
        expect(parseJson(readFileSync(path.join(dotFoundry, "last-stage.json"), "utf8"), "last-stage.json")).toMatchObject({
          cycle: CYCLE,
          stage: STAGE,
          summary,
        })

        // 3. Alloy's run record for this stage run
        const recordsDir = path.join(sb.project, ".alloy", "runs", "records")
        expect(existsSync(recordsDir), `${recordsDir} was not created\n${describeRun(res)}`).toBe(true)
        // the orchestrate hook also records what Foundry finalised in the sample's WORK files; this stage run has exactly one record
        const files = readdirSync(recordsDir).filter((f) => f.endsWith(".json"))
        const mine = files.map((f) => parseJson(readFileSync(path.join(recordsDir, f), "utf8"), "run record")).filter((r) => r.summary === summary)
        expect(mine.length, `run records: ${files.join(",")}`).toBe(1)
        const record = mine[0]!
        const shown = JSON.stringify(record, null, 2)
        expect(record, `run record:\n${shown}`).toMatchObject({
          cycle: CYCLE,
          stage: STAGE,
          summary,
          pin: { brief_id: proj.briefId, digest: proj.digest },
        })

        const eventsFile = path.join(sb.project, ".alloy", "runs", "events.jsonl")
        expect(existsSync(eventsFile), `${eventsFile} was not written`).toBe(true)
        const lines = readFileSync(eventsFile, "utf8").split("\n").filter(Boolean)
        expect(lines.length).toBeGreaterThan(0)
        const runEvents = lines.map((l) => parseJson(l, "events.jsonl line"))
        expect(
          runEvents.some((e) => e.cycle === CYCLE && e.stage === STAGE),
          `no event names ${CYCLE} / ${STAGE}:\n${lines.join("\n")}`,
        ).toBe(true)
      },
      E2E_TIMEOUT,
    )

    it(
      "run: a tampered pinned bundle blocks the forge dispatch (fail closed, onPinFailure block)",
      async () => {
        const { mock, sb } = await setup({
          tamper: true,
          alloyOptions: { hooks: true, onPinFailure: "block" },
          script: [{ tool: "foundry_orchestrate", args: {} }],
        })
        const res = await runPrompt(sb, "Run the next Foundry stage of the draft-release-note cycle.")
        console.log(`[e2e] run orchestrate, tampered: opencode run ${res.ms} ms`)
        expect(res.timedOut, describeRun(res)).toBe(false)
        completedToolUse(parseJsonEvents(res.stdout), "foundry_orchestrate", res)

        const sent = mock!.toolResults().find((r) => r.tool === "foundry_orchestrate")
        expect(sent, `no foundry_orchestrate result reached the model\n${describeRun(res)}`).toBeDefined()
        const result = parseJson(sent!.content, "foundry_orchestrate result sent to the model")
        expect(result.action, sent!.content).toBe("blocked")
        expect(result.cycle).toBe(CYCLE)
        expect(result, "a blocked result carries no stage prompt (and so no token)").not.toHaveProperty("prompt")
        expect(sent!.content).toContain("digest_mismatch")
      },
      E2E_TIMEOUT,
    )

    it(
      "run: with the options tuple {hooks:false} the dispatch reaches the model unchanged and no run record is written",
      async () => {
        const { mock, sb } = await setup({
          alloyOptions: { hooks: false },
          script: [
            { tool: "foundry_orchestrate", args: {} },
            { tool: "foundry_stage_end", args: { summary: "no hooks" } },
          ],
        })
        const dotFoundry = path.join(sb.project, ".foundry")
        mkdirSync(dotFoundry, { recursive: true })
        writeFileSync(path.join(dotFoundry, "active-stage.json"), readFileSync(path.join(FIXTURES_DIR, "active-stage.json")))
        rmSync(path.join(sb.project, ".alloy", "runs"), { recursive: true, force: true })

        const res = await runPrompt(sb, "Run the next Foundry stage of the draft-release-note cycle.")
        console.log(`[e2e] run orchestrate+stage_end, hooks off: opencode run ${res.ms} ms`)
        expect(res.timedOut, describeRun(res)).toBe(false)
        const events = parseJsonEvents(res.stdout)
        completedToolUse(events, "foundry_orchestrate", res)
        completedToolUse(events, "foundry_stage_end", res)
        // the alloy tools are still there (only the hooks are off)
        const offered = mock!.chatRequests().flatMap((r) => (r.body.tools ?? []).map((t) => t.function?.name))
        expect(offered).toContain("alloy_brief_resolve")

        const fixture = JSON.parse(readFileSync(path.join(FIXTURES_DIR, "dispatch.forge.json"), "utf8")) as unknown
        const sent = mock!.toolResults().find((r) => r.tool === "foundry_orchestrate")
        expect(sent?.content, "foundry_orchestrate result as the model saw it").toBe(JSON.stringify(fixture))
        const recordsDir = path.join(sb.project, ".alloy", "runs", "records")
        expect(existsSync(recordsDir) ? readdirSync(recordsDir).filter((f) => f.endsWith(".json")) : []).toEqual([])
      },
      E2E_TIMEOUT,
    )
  },
)
