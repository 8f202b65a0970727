// Test double of run-era Foundry's tool SET and stage mechanics, loaded by the real OpenCode
// runtime in the e2e tests (plain ESM). It is NOT Foundry: it serves the recorded tool names and
// argument shapes of contracts/generations/run/ and does what Alloy depends on:
//   foundry_run({flow, goal, inputs?})  writes WORK.md {flow, cycle, goal}, writes the forge stage
//        prompt to .foundry/dispatch-prompts/<id>.txt and spawns
//        `opencode run --attach <serverUrl> --agent foundry-forge --dir <project> --file <prompt>`
//        against the SAME server, waits (bounded), then answers {"action":"done", ...} with the
//        child's exit code and the stage output lines it collected
//   foundry_continue()                  {"action":"done"} (reads WORK.md)
//   foundry_stage_output({data})        appends to .foundry/stage-outputs/<sessionID>.jsonl
//   foundry_stage_begin / foundry_stage_end  minimal stage bookkeeping
// Its config hook registers the five fixed agents.
// $FOUNDRY_STANDIN_MUTATE: "rename" serves foundry_stage_output as foundry_stage_result;
// "schema" makes foundry_run's goal optional and adds a `mode` field (what a Foundry upgrade could do).
import { tool } from "@opencode-ai/plugin"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"

const AGENTS = ["foundry-guide", "foundry-admin", "foundry-forge", "foundry-appraise", "foundry-assay"]
const CHILD_TIMEOUT_MS = 60_000

function log(entry) {
  const file = process.env.FOUNDRY_STANDIN_LOG
  if (file) appendFileSync(file, JSON.stringify({ t: Date.now(), ...entry }) + "\n")
}

function firstCycle(directory, flow) {
  try {
    const text = readFileSync(path.join(directory, "foundry", "flows", `${flow}.md`), "utf8")
    const m = /starting-cycles:\s*\n\s*-\s*([a-z0-9-]+)/.exec(text) ?? /starting-cycles:\s*\[\s*([a-z0-9-]+)/.exec(text)
    if (m) return m[1]
  } catch {
    /* fall through */
  }
  return process.env.FOUNDRY_STANDIN_CYCLE || "draft-release-note"
}

function forgePrompt(cycle, cwd) {
  return [
    "You are a Foundry stage agent. Invoke the forge skill and follow its instructions exactly.",
    "",
    `Stage: forge:${cycle}`,
    `Cycle: ${cycle}`,
    `Token file: ${cycle}.token`,
    `Working directory: ${cwd}`,
    "",
    "Your FIRST tool call MUST be foundry_stage_begin({stage, cycle, tokenFile}) using the values above.",
    "Your LAST tool call MUST be foundry_stage_end().",
  ].join("\n")
}

function runChild(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.env.OPENCODE_BIN || "opencode", args, { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d.toString()))
    child.stderr.on("data", (d) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS)
    child.on("error", (e) => {
      clearTimeout(timer)
      resolve({ code: -1, stdout, stderr: stderr + String(e) })
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** @type {import("@opencode-ai/plugin").Plugin} */
export default async function FoundryRunEraStandIn({ directory, serverUrl }) {
  const mutate = process.env.FOUNDRY_STANDIN_MUTATE || ""
  log({ kind: "plugin.init", generation: "run", directory, serverUrl: String(serverUrl) })
  const respond = (name, args, result) => {
    const text = JSON.stringify(result)
    log({ kind: "tool", tool: name, args, output: text })
    return text
  }
  const outputName = mutate === "rename" ? "foundry_stage_result" : "foundry_stage_output"

  return {
    async config(config) {
      config.agent = config.agent ?? {}
      for (const name of AGENTS) {
        config.agent[name] = {
          mode: name === "foundry-guide" ? "primary" : "all",
          description: `Foundry stand-in agent ${name}`,
          prompt: `You are the ${name} agent.`,
          ...(name === "foundry-forge" || name === "foundry-appraise" ? { tools: { foundry_run: false, foundry_continue: false } } : {}),
        }
      }
    },
    tool: {
      foundry_run: tool({
        description: "Foundry stand-in: start a run of a flow.",
        args:
          mutate === "schema"
            ? {
                flow: tool.schema.string().describe("The flow ID to run"),
                goal: tool.schema.string().optional().describe("The goal for this run"),
                inputs: tool.schema.object({}).optional().describe("Optional input artefacts for the start cycle"),
                mode: tool.schema.string().optional(),
              }
            : {
                flow: tool.schema.string().describe("The flow ID to run"),
                goal: tool.schema.string().describe("The goal for this run"),
                inputs: tool.schema.object({}).optional().describe("Optional input artefacts for the start cycle"),
              },
        async execute(args) {
          if (existsSync(path.join(directory, "WORK.md"))) {
            return respond("foundry_run", args, { error: "foundry_run: WORK.md already exists. Use foundry_continue() to advance an existing run." })
          }
          const cycle = firstCycle(directory, args.flow)
          writeFileSync(path.join(directory, "WORK.md"), `---\nflow: ${args.flow}\ncycle: ${cycle}\ngoal: ${JSON.stringify(args.goal ?? "")}\nstages: []\n---\n`)
          const promptDir = path.join(directory, ".foundry", "dispatch-prompts")
          mkdirSync(promptDir, { recursive: true })
          const promptFile = path.join(promptDir, `${randomUUID()}.txt`)
          writeFileSync(promptFile, forgePrompt(cycle, directory))
          const childArgs = [
            "run",
            "--attach",
            String(serverUrl),
            "--agent",
            "foundry-forge",
            "--dir",
            directory,
            "--format",
            "json",
            "--file",
            promptFile,
            "--",
            "Run the stage in the attached prompt.",
          ]
          log({ kind: "spawn", args: childArgs })
          const child = await runChild(childArgs, process.env)
          log({ kind: "child", code: child.code, stdout: child.stdout.slice(0, 4000), stderr: child.stderr.slice(-4000) })
          // then the appraise stage: one foundry-appraise session with the recorded wrapped appraiser prompt
          if (process.env.FOUNDRY_STANDIN_APPRAISE === "1") {
            const appraiseFile = path.join(promptDir, `${randomUUID()}.txt`)
            writeFileSync(appraiseFile, readFileSync(new URL("../../../contracts/generations/run/prompts/appraise.txt", import.meta.url), "utf8"))
            const appraiseArgs = [
              "run",
              "--attach",
              String(serverUrl),
              "--agent",
              "foundry-appraise",
              "--dir",
              directory,
              "--format",
              "json",
              "--file",
              appraiseFile,
              "--",
              "Appraise as the attached prompt says.",
            ]
            log({ kind: "spawn", args: appraiseArgs })
            const a = await runChild(appraiseArgs, process.env)
            log({ kind: "child", agent: "foundry-appraise", code: a.code, stdout: a.stdout.slice(0, 4000), stderr: a.stderr.slice(-4000) })
          }
          const outDir = path.join(directory, ".foundry", "stage-outputs")
          const lines = existsSync(outDir)
            ? readdirSync(outDir)
                .filter((f) => f.endsWith(".jsonl"))
                .flatMap((f) => readFileSync(path.join(outDir, f), "utf8").split("\n").filter(Boolean))
            : []
          const runId = randomUUID()
          mkdirSync(path.join(directory, ".foundry", "attestations"), { recursive: true })
          appendFileSync(path.join(directory, ".foundry", "attestations", `${runId}.jsonl`), JSON.stringify({ stage: `forge:${cycle}`, child_exit: child.code }) + "\n")
          return respond("foundry_run", args, { action: child.code === 0 ? "done" : "violation", cycle, run_id: runId, child_exit: child.code, stage_outputs: lines.length })
        },
      }),
      foundry_continue: tool({
        description: "Foundry stand-in: advance the run.",
        args: {},
        async execute(args) {
          return respond("foundry_continue", args, { action: "done" })
        },
      }),
      [outputName]: tool({
        description: "Foundry stand-in: store structured output for the active stage.",
        args: { data: tool.schema.object({}).passthrough().describe("The JSON data to validate against the active stage schema") },
        async execute(args, context) {
          const dir = path.join(directory, ".foundry", "stage-outputs")
          mkdirSync(dir, { recursive: true })
          appendFileSync(path.join(dir, `${context.sessionID}.jsonl`), JSON.stringify(args.data) + "\n")
          return respond(outputName, args, { ok: true, count: 1 })
        },
      }),
      foundry_stage_begin: tool({
        description: "Foundry stand-in: open a stage.",
        args: { stage: tool.schema.string(), cycle: tool.schema.string(), tokenFile: tool.schema.string() },
        async execute(args) {
          return respond("foundry_stage_begin", args, { ok: true })
        },
      }),
      foundry_stage_end: tool({
        description: "Foundry stand-in: close the active stage.",
        args: {},
        async execute(args) {
          return respond("foundry_stage_end", args, { ok: true })
        },
      }),
    },
  }
}
