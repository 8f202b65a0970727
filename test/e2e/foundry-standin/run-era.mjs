// Test double of a later ("run era") Foundry generation's tool OUTPUTS, loaded by the real OpenCode
// runtime in the bridge e2e tests. It is NOT Foundry: it registers foundry_run / foundry_continue,
// which in that generation run a state machine inside the tool until a terminal action
// ({action:"done", flow, artefact} | {action:"violation", details, recoverable} | {action:"prompt_user", ...}).
// When $FOUNDRY_STANDIN_LOG is set, every call is appended there as one JSON line.
//
// The shapes it plays, as read in Foundry's run-era source (its human-appraise stage handlers,
// its continue tool, its stage-output tool and its attestation writer):
//   prompt_user      {action:"prompt_user", stage:"human-appraise", artefact, feedback:[…items], goal}:
//                    the run waits on a person; the tool has returned, the agent's turn ends
//   foundry_continue {} (no arguments): reads the human-appraise stage outputs from
//                    .foundry/stage-outputs/*.jsonl — {verdict:"approved"} or {verdict:"rejected",
//                    feedback?} (per deadlocked item {itemId, verdict:"resolved"|"rejected", feedback?});
//                    none yet: prompt_user again; approved: the run goes on (here: done)
//   foundry_stage_output({data}) appends data as one line to .foundry/stage-outputs/<sessionID>.jsonl
//   attestations     .foundry/attestations/<run-id>.jsonl (run id: a ULID): one
//                    foundry-stage-attestation/v1 line per stage and a foundry-cycle-attestation/v1
//                    seal, each with _hash = sha256 hex of the canonical JSON of its other fields
// A goal containing "[appraise]" makes foundry_run stop at a human appraisal (always-human-appraise).
import { tool } from "@opencode-ai/plugin"
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs"
import { createHash } from "node:crypto"
import path from "node:path"

function log(entry) {
  const file = process.env.FOUNDRY_STANDIN_LOG
  if (file) appendFileSync(file, JSON.stringify({ t: Date.now(), ...entry }) + "\n")
}

// canonical JSON as Foundry's attestation hashing defines it: keys sorted, no spaces
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : canonical(x))).join(",")}]`
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`
  }
  return JSON.stringify(v)
}
const hashed = (o) => ({ ...o, _hash: createHash("sha256").update(canonical(o)).digest("hex") })

const RUN_ID = "01JKVT7Z8Q3WN0GJM2TYBR4AA"
const ARTEFACT = "release-notes/2026-05-checkout-redesign.md"

function attest(directory, cycle) {
  const dir = path.join(directory, ".foundry", "attestations")
  mkdirSync(dir, { recursive: true })
  const stage = { schema: "foundry-stage-attestation/v1", stage: "forge", cycle, iteration: 1, status: "actioned", changed_files: [ARTEFACT] }
  const seal = { schema: "foundry-cycle-attestation/v1", cycle: RUN_ID, stage_attestations: [stage], composite_status: "pass" }
  appendFileSync(path.join(dir, `${RUN_ID}.jsonl`), `${JSON.stringify(hashed(stage))}\n${JSON.stringify(hashed(seal))}\n`)
}

function humanOutputs(directory) {
  const dir = path.join(directory, ".foundry", "stage-outputs")
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .flatMap((f) => readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean))
    .flatMap((l) => {
      try {
        return [JSON.parse(l)]
      } catch {
        return []
      }
    })
    .filter((r) => r && typeof r.verdict === "string")
}

/** @type {import("@opencode-ai/plugin").Plugin} */
export default async function FoundryRunEraStandIn({ directory }) {
  let goal = ""
  return {
    tool: {
      foundry_run: tool({
        description: "Foundry (run era) stand-in: start a flow and run it to a terminal action.",
        args: { flow: tool.schema.string(), goal: tool.schema.string(), inputs: tool.schema.record(tool.schema.string(), tool.schema.string()).optional() },
        async execute(args, context) {
          log({ kind: "tool", tool: "foundry_run", args })
          goal = args.goal
          if (args.goal.includes("[appraise]")) {
            return JSON.stringify({ action: "prompt_user", stage: "human-appraise", artefact: ARTEFACT, feedback: [], goal: args.goal })
          }
          attest(context.directory ?? directory, "draft-release-note")
          return JSON.stringify({ action: "done", flow: args.flow, artefact: ARTEFACT })
        },
      }),
      foundry_continue: tool({
        description: "Foundry (run era) stand-in: resume the flow.",
        args: {},
        async execute(_args, context) {
          const dir = context.directory ?? directory
          const outputs = humanOutputs(dir)
          log({ kind: "tool", tool: "foundry_continue", outputs })
          if (!outputs.length) return JSON.stringify({ action: "prompt_user", stage: "human-appraise", artefact: ARTEFACT, feedback: [], goal })
          if (outputs.at(-1).verdict !== "approved") return JSON.stringify({ action: "violation", details: `human appraisal: ${outputs.at(-1).verdict}`, recoverable: true })
          attest(dir, "draft-release-note")
          return JSON.stringify({ action: "done", flow: "release-notes", artefact: ARTEFACT })
        },
      }),
      foundry_stage_output: tool({
        description: "Foundry (run era) stand-in: store structured output for the active stage.",
        args: { data: tool.schema.object({}).passthrough() },
        async execute(args, context) {
          const dir = path.join(context.directory ?? directory, ".foundry", "stage-outputs")
          mkdirSync(dir, { recursive: true })
          appendFileSync(path.join(dir, `${context.sessionID}.jsonl`), JSON.stringify(args.data) + "\n")
          log({ kind: "tool", tool: "foundry_stage_output", args })
          return JSON.stringify({ ok: true, count: 1 })
        },
      }),
    },
  }
}
