// Test double of Foundry 3.6's tool OUTPUTS, loaded by the real OpenCode runtime in the e2e tests
// (plain ESM, no build step). It is NOT Foundry: it registers only the three tools the Alloy hooks
// react to and returns the JSON text documented in the Foundry contracts (§4.2, §4.3):
//   foundry_orchestrate  -> compact JSON.stringify of fixtures/dispatch.forge.json (first call of a
//                           cycle, no args); with lastResult -> a "done" result
//   foundry_stage_begin  -> writes .foundry/active-stage.json {cycle, stage, tokenHash, baseSha, startedAt}
//   foundry_stage_end    -> requires .foundry/active-stage.json, writes .foundry/last-stage.json
//                           {cycle, stage, baseSha, summary}, deletes active-stage.json,
//                           returns {"ok":true,"summary":...}
// Failures follow Foundry's envelope: {"error":"<tool>: ..."}.
// When $FOUNDRY_STANDIN_LOG is set, every call is appended there as one JSON line.
import { tool } from "@opencode-ai/plugin"
import { createHash } from "node:crypto"
import { execFileSync } from "node:child_process"
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const DISPATCH_FORGE = JSON.parse(readFileSync(path.join(here, "fixtures", "dispatch.forge.json"), "utf8"))

function log(entry) {
  const file = process.env.FOUNDRY_STANDIN_LOG
  if (file) appendFileSync(file, JSON.stringify({ t: Date.now(), ...entry }) + "\n")
}

function headSha(directory) {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: directory, encoding: "utf8", timeout: 10000, stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return "0000000000000000000000000000000000000000"
  }
}

/** @type {import("@opencode-ai/plugin").Plugin} */
export default async function FoundryStandInPlugin({ directory }) {
  const dotFoundry = path.join(directory, ".foundry")
  const activeFile = path.join(dotFoundry, "active-stage.json")
  const lastFile = path.join(dotFoundry, "last-stage.json")
  log({ kind: "plugin.init", directory })

  const respond = (toolName, args, result) => {
    const text = JSON.stringify(result)
    log({ kind: "tool", tool: toolName, args, output: text })
    return text
  }

  return {
    tool: {
      foundry_orchestrate: tool({
        description: "Foundry stand-in: drive the cycle; returns the next action as JSON.",
        args: {
          lastResult: tool.schema.object({ ok: tool.schema.boolean(), error: tool.schema.string().optional() }).optional(),
          lastResults: tool.schema.array(tool.schema.object({ ok: tool.schema.boolean(), output: tool.schema.string().optional(), error: tool.schema.string().optional() })).optional(),
          baseBranch: tool.schema.string().optional(),
          defaultModel: tool.schema.string().optional(),
        },
        async execute(args) {
          if (args.lastResult || args.lastResults) {
            return respond("foundry_orchestrate", args, {
              action: "done",
              cycle: "draft-release-note",
              artefact_file: "release-notes/2026-05-checkout-redesign.md",
              next_cycles: ["condense-changelog-entry"],
              reason: "all stages complete — no unresolved feedback",
            })
          }
          return respond("foundry_orchestrate", args, DISPATCH_FORGE)
        },
      }),
      foundry_stage_begin: tool({
        description: "Foundry stand-in: open a stage.",
        args: {
          stage: tool.schema.string(),
          cycle: tool.schema.string(),
          token: tool.schema.string(),
        },
        async execute(args) {
          if (existsSync(activeFile)) {
            return respond("foundry_stage_begin", args, { error: "foundry_stage_begin: a stage is already active" })
          }
          const active = {
            cycle: args.cycle,
            stage: args.stage,
            tokenHash: createHash("sha256").update(args.token).digest("hex"),
            baseSha: headSha(directory),
            startedAt: new Date().toISOString(),
          }
          mkdirSync(dotFoundry, { recursive: true })
          writeFileSync(activeFile, JSON.stringify(active, null, 2))
          return respond("foundry_stage_begin", args, { ok: true, active })
        },
      }),
      foundry_stage_end: tool({
        description: "Foundry stand-in: close the active stage.",
        args: { summary: tool.schema.string() },
        async execute(args) {
          if (!existsSync(activeFile)) {
            return respond("foundry_stage_end", args, { error: "foundry_stage_end: no active stage" })
          }
          const active = JSON.parse(readFileSync(activeFile, "utf8"))
          const last = { cycle: active.cycle, stage: active.stage, baseSha: active.baseSha, summary: args.summary }
          writeFileSync(lastFile, JSON.stringify(last, null, 2))
          rmSync(activeFile, { force: true })
          rmSync(path.join(dotFoundry, ".forge-tool-calls.jsonl"), { force: true })
          return respond("foundry_stage_end", args, { ok: true, summary: args.summary })
        },
      }),
    },
  }
}
