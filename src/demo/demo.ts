/**
 * `opencode-alloy demo`: the whole story on a copy of the embedded example project, in a temp
 * folder, with no model and no network. It writes an intent and a brief with the CLI, builds and
 * pins the bundle, replays a recorded Foundry forge dispatch through the real plugin's hooks to
 * show what the forge agent sees, exports a stage result the way `foundry_stage_end` would, and
 * shows the fail-closed path when the pinned object is tampered with, then imports the recorded
 * run's evidence so the criteria get verdicts (one satisfied, one failing, the rest unproven) and
 * writes the HTML report. Exit code 0 when every step did what it should, 1 otherwise.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync, copyFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { Hooks, PluginInput } from "@opencode-ai/plugin"
import { AlloyPlugin } from "../plugin/plugin.js"
import { AlloyContext } from "../service/context.js"
import { saveBrief } from "../service/briefs.js"
import { parseRecipe } from "../core/recipe.js"
import type { Io } from "../cli/io.js"
import { copyExampleProject, EXAMPLE_ALLOY_DIR, EXAMPLE_PROJECT_DIR, recordingsDir } from "./example-project.js"
import { git, gitCommitAll, gitInit, hasGit } from "./git.js"

export const DEMO_BRIEF = "release-note-voice"
export const DEMO_INTENT = "release-note-voice"
export const DEMO_CYCLE = "draft-release-note"
export const DEMO_FLOW = "release-notes"
export const DEMO_WORK_BRANCH = "work/release-notes-checkout-redesign"

/** The CLI entry (`main` from src/cli/main.ts), passed in so this module never imports it (no import cycle). */
export type CliRunner = (argv: string[], io: { out(s: string): void; err(s: string): void; cwd: string }) => Promise<number>

export interface DemoOptions {
  /** keep the temp folder (its path is printed) */
  readonly keep?: boolean
  /** example Foundry project to copy (default: the embedded examples/acme-shop) */
  readonly from?: string
  /** where to make the temp folder (default: the OS temp dir) */
  readonly tmpDir?: string
}

interface Captured {
  readonly code: number
  readonly out: string[]
  readonly err: string[]
}

const WORK_FILES = ["WORK.md", "WORK.feedback.yaml", "WORK.history.yaml"] as const

class Walkthrough {
  failures: string[] = []
  private step = 0
  constructor(private readonly io: Io) {}

  heading(title: string): void {
    this.step++
    this.io.out(`\n== ${this.step}. ${title} ${"=".repeat(Math.max(3, 72 - title.length))}`)
  }
  say(text = ""): void {
    this.io.out(text)
  }
  block(text: string, indent = "    "): void {
    for (const line of text.replace(/\r\n/g, "\n").trimEnd().split("\n")) this.io.out(line ? `${indent}${line}` : indent.trimEnd())
  }
  ok(what: string): void {
    this.io.out(`  ok: ${what}`)
  }
  fail(what: string): void {
    this.failures.push(what)
    this.io.out(`  FAILED: ${what}`)
  }
  check(cond: boolean, good: string, bad: string): boolean {
    if (cond) this.ok(good)
    else this.fail(bad)
    return cond
  }
}

/** Run the demo. Prints a walkthrough to `io.out`; returns the exit code. */
export async function runDemo(io: Io, main: CliRunner, opts: DemoOptions = {}): Promise<number> {
  const w = new Walkthrough(io)
  const tmp = mkdtempSync(path.join(opts.tmpDir ?? os.tmpdir(), "alloy-demo-"))
  const dir = path.join(tmp, "acme-shop")
  const rel = (p: string) => path.relative(dir, p).split(path.sep).join("/")

  const cli = async (argv: string[], show = true): Promise<Captured> => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), cwd: dir })
    if (show) {
      w.say(`  $ opencode-alloy ${argv.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(" ")}`)
      if (out.length) w.block(out.join("\n"))
      if (err.length) w.block(err.join("\n"))
      if (code !== 0) w.say(`    (exit code ${code})`)
    }
    return { code, out, err }
  }

  w.say("Alloy demo: write an intent, build and pin a bundle, and watch a Foundry run use it.")
  w.say("No model and no network: Foundry's tool results are replayed from recordings of a real run.")
  w.say(`Working copy: ${dir}`)
  w.say(`(a copy of the example project ${path.basename(opts.from ?? EXAMPLE_PROJECT_DIR)}; ${opts.keep ? "kept afterwards (--keep)" : "removed at the end; pass --keep to look around"})`)

  try {
    // ---- 1. project --------------------------------------------------------------------
    w.heading("The example Foundry project")
    // recordings are read from the package, not from the project tree
    copyExampleProject(dir, opts.from ? { from: opts.from } : {})
    if (!existsSync(path.join(dir, ".gitignore"))) writeFileSync(path.join(dir, ".gitignore"), ".foundry/\n.snapshots/\nnode_modules/\n")
    w.say(`  Flow ${DEMO_FLOW}: cycle ${DEMO_CYCLE} turns a change brief into a customer-facing release note.`)
    w.say(`  Its definition, foundry/cycles/${DEMO_CYCLE}.md, already opts in to Alloy with a placeholder pin:`)
    const cycleFile = path.join(dir, "foundry", "cycles", `${DEMO_CYCLE}.md`)
    w.block(
      readFileSync(cycleFile, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("alloy:"))
        .join("\n"),
    )

    const withGit = hasGit()
    const parked = new Map<string, Buffer>()
    if (withGit) {
      // the base branch has no WORK files; they belong to the flow branch
      for (const f of WORK_FILES) {
        const p = path.join(dir, f)
        if (existsSync(p)) {
          parked.set(f, readFileSync(p))
          unlinkSync(p)
        }
      }
      const init = gitInit(dir)
      const commit = init.ok ? gitCommitAll(dir, "acme-shop: Foundry project") : init
      if (w.check(commit.ok, "git repository on branch main with the project committed", `git init/commit failed: ${commit.stderr.trim().split("\n")[0]}`)) {
        /* reported */
      }
    } else {
      w.say("  (git is not installed: the branch steps are skipped; everything else runs the same)")
    }

    // ---- 2. intent -----------------------------------------------------------------------
    w.heading("Write the intent (what the work is for)")
    const draftsDir = path.join(tmp, "drafts")
    mkdirSync(draftsDir, { recursive: true })
    const draft = path.join(draftsDir, `${DEMO_INTENT}.md`)
    copyFileSync(path.join(EXAMPLE_ALLOY_DIR, "intents", `${DEMO_INTENT}.md`), draft)
    w.say("  A product owner's intent record, drafted outside the repository:")
    w.block(readFileSync(draft, "utf8"))
    const created = await cli(["intent", "new", DEMO_INTENT, "--from", path.relative(dir, draft).split(path.sep).join("/")])
    w.check(created.code === 0 && existsSync(path.join(dir, ".alloy", "intents", `${DEMO_INTENT}.md`)), `intent written to .alloy/intents/${DEMO_INTENT}.md`, "intent new failed")
    const lint = await cli(["intent", "lint", "--strict"])
    w.check(lint.code === 0, "no lint warnings (criteria have evidence and measurable terms; no open questions)", "intent lint --strict reported problems")

    // ---- 3. brief ------------------------------------------------------------------------
    w.heading("Write the brief recipe (which intents, which formation)")
    const briefNew = await cli(["brief", "new", DEMO_BRIEF, "--intent", DEMO_INTENT, "--flow", DEMO_FLOW, "--cycle", DEMO_CYCLE, "--title", "Customer-facing release notes"])
    w.check(briefNew.code === 0, `recipe written to .alloy/briefs/${DEMO_BRIEF}.md`, "brief new failed")
    // stage notes, as an author would add them by editing the file
    const example = parseRecipe(readFileSync(path.join(EXAMPLE_ALLOY_DIR, "briefs", `${DEMO_BRIEF}.md`), "utf8"), "examples/alloy/briefs/release-note-voice.md")
    saveBrief(new AlloyContext(dir), { id: DEMO_BRIEF, stages: example.stages, notes: example.body }, "upsert")
    w.say(`  Then the author adds notes for the ${Object.keys(example.stages).join(" and ")} stages by editing the recipe:`)
    w.block(readFileSync(path.join(dir, ".alloy", "briefs", `${DEMO_BRIEF}.md`), "utf8"))

    // ---- 4. build and pin ----------------------------------------------------------------
    w.heading("Build the bundle and pin it into the cycle")
    const build = await cli(["brief", "build", DEMO_BRIEF])
    const ctx = new AlloyContext(dir)
    const digest = ctx.store.readRef(DEMO_BRIEF)
    w.check(build.code === 0 && digest !== undefined, `bundle built: ${digest}`, "brief build failed")
    const again = await cli(["brief", "build", DEMO_BRIEF, "--dry-run"], false)
    w.check(again.code === 0 && again.out.join("\n").includes(digest ?? "?"), "building again gives the same digest (deterministic: no clocks, no model)", "a second build gave a different digest")
    const pin = await cli(["pin", DEMO_CYCLE, DEMO_BRIEF])
    w.check(pin.code === 0, `pinned in foundry/cycles/${DEMO_CYCLE}.md`, "pin failed")
    w.say("  The cycle's frontmatter now carries the digest (nothing else in the file changed):")
    w.block(
      readFileSync(cycleFile, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("alloy:") || /^\s+(brief_id|digest):/.test(l))
        .join("\n"),
    )
    const verify = await cli(["verify"])
    w.check(verify.code === 0, "verify: every pin resolves to bytes that hash to its digest (the CI gate)", "verify failed")
    await cli(["status"])

    let onWorkBranch = false
    if (withGit) {
      const c = gitCommitAll(dir, `alloy: pin ${DEMO_BRIEF}`)
      const b = c.ok ? git(dir, ["checkout", "-q", "-b", DEMO_WORK_BRANCH]) : c
      for (const [f, bytes] of parked) writeFileSync(path.join(dir, f), bytes)
      const s = b.ok ? gitCommitAll(dir, `[${DEMO_CYCLE}] setup: configure stages and limits`) : b
      onWorkBranch = w.check(s.ok, `committed on main, then started the flow on branch ${DEMO_WORK_BRANCH}`, `git commit/checkout failed: ${s.stderr.trim().split("\n")[0]}`)
    }
    if (onWorkBranch) {
      w.say("  On a flow branch Foundry stops the flow if files it did not write appear, so Alloy refuses to author there:")
      const refused = await cli(["intent", "new", "another-idea"])
      w.check(
        refused.code === 2 && refused.err.join("\n").includes(DEMO_WORK_BRANCH) && !existsSync(path.join(dir, ".alloy", "intents", "another-idea.md")),
        "refused with code work_branch; nothing written",
        "intent new was not refused on the work branch",
      )
    }

    // ---- 5. dispatch -----------------------------------------------------------------------
    w.heading("Replay Foundry's forge dispatch through the plugin")
    const recordings = recordingsDir(opts.from ?? EXAMPLE_PROJECT_DIR)
    const dispatch = JSON.stringify(JSON.parse(readFileSync(path.join(recordings, "dispatch.forge.json"), "utf8")))
    const plugin = await loadDemoPlugin(dir)
    w.say(`  foundry_orchestrate returned a forge dispatch for cycle ${DEMO_CYCLE} (recorded). The plugin's`)
    w.say("  tool.execute.after hook sees it before the agent does.")
    const forge = await afterHook(plugin, "foundry_orchestrate", dispatch)
    const original = (JSON.parse(dispatch) as { prompt: string }).prompt
    const rewritten = parseJson(forge)
    const prompt = typeof rewritten?.["prompt"] === "string" ? (rewritten["prompt"] as string) : original
    if (forge === dispatch || prompt === original) {
      w.fail("the hook did not inject anything: the forge agent would see Foundry's prompt only (are the hooks disabled, e.g. ALLOY_HOOKS=off?)")
    } else {
      const added = prompt.startsWith(original) ? prompt.slice(original.length).replace(/^\n+/, "") : prompt
      w.check(prompt.startsWith(original), "Foundry's prompt is an exact prefix: its Stage:, Cycle: and Token: lines are untouched", "Foundry's own prompt text was changed")
      w.say(`  What the forge agent sees after Foundry's ${original.split("\n").length} lines (the Alloy block):`)
      w.say("    ---------------------------------------------------------------------------")
      w.block(added, "    | ")
      w.say("    ---------------------------------------------------------------------------")
      w.check(added.includes(digest ?? "?"), "the block names the pinned digest it was verified against", "the block does not name the pinned digest")
    }
    const multiFile = path.join(recordings, "dispatch_multi.appraise.json")
    if (existsSync(multiFile)) {
      const multi = JSON.stringify(JSON.parse(readFileSync(multiFile, "utf8")))
      const res = parseJson(await afterHook(plugin, "foundry_orchestrate", multi))
      const tasks = Array.isArray(res?.["tasks"]) ? (res!["tasks"] as Array<{ prompt?: string }>) : []
      const laws = [...new Set(tasks.flatMap((t) => (typeof t.prompt === "string" ? (t.prompt.match(/^## alloy--[a-z0-9-]+$/gm) ?? []) : [])).map((l) => l.slice(3)))]
      w.check(
        laws.length > 0,
        `appraisers: each of the ${tasks.length} appraiser prompts also grades ${laws.length} Alloy law${laws.length === 1 ? "" : "s"} (${laws.join(", ")}), in Foundry's own law format (a criterion that names a Foundry law the prompt already has is graded by that law: one gate per criterion)`,
        "the appraiser prompts got no Alloy laws",
      )
    }

    // ---- 6. stage end ----------------------------------------------------------------------
    w.heading("Export the stage result (foundry_stage_end)")
    const foundryDir = path.join(dir, ".foundry")
    const active = path.join(foundryDir, "active-stage.json")
    const recordedResults = JSON.parse(readFileSync(path.join(recordings, "stage-and-feedback-tool-results.json"), "utf8")) as Record<string, unknown>
    const stageEnd = recordedResults["foundry_stage_end"] as { ok: boolean; summary: string }
    if (!existsSync(active)) {
      mkdirSync(foundryDir, { recursive: true })
      writeFileSync(active, JSON.stringify({ cycle: DEMO_CYCLE, stage: `forge:${DEMO_CYCLE}`, tokenHash: "0".repeat(64), baseSha: "0".repeat(40), startedAt: "2026-05-25T10:05:34.023Z" }, null, 2))
    }
    const activeStage = JSON.parse(readFileSync(active, "utf8")) as { cycle: string; stage: string; baseSha?: string }
    w.say(`  The forge agent calls foundry_stage_end({summary}). Before it runs, .foundry/active-stage.json names the open stage (${activeStage.stage}).`)
    // the orchestrate hook has already recorded what Foundry finalised in the WORK files; stage_end adds this stage run
    const before = new Set(listRecords(dir))
    await beforeHook(plugin, "foundry_stage_end", "demo-stage-end-1", { summary: stageEnd.summary })
    // what Foundry's stage_end does: write last-stage.json, delete active-stage.json
    writeFileSync(path.join(foundryDir, "last-stage.json"), JSON.stringify({ cycle: activeStage.cycle, stage: activeStage.stage, baseSha: activeStage.baseSha, summary: stageEnd.summary }, null, 2))
    unlinkSync(active)
    const endOut = JSON.stringify(stageEnd)
    const after = await afterHook(plugin, "foundry_stage_end", endOut, "demo-stage-end-1")
    w.check(after === endOut, "Foundry's stage_end result is returned unchanged", "the stage_end result was changed")
    const records = listRecords(dir)
    const added = records.filter((r) => !before.has(r))
    if (w.check(added.length === 1, `one run record written for the stage run: ${added[0] ? rel(added[0]) : "-"}`, `expected one new run record in .alloy/runs/records/, found ${added.length}`)) {
      w.block(recordSummary(readFileSync(added[0]!, "utf8")))
    }
    await afterHook(plugin, "foundry_stage_end", endOut, "demo-stage-end-1")
    w.check(listRecords(dir).length === records.length, "a repeated stage_end result exports nothing new (exactly once per stage run)", "a repeated stage_end wrote a second record")

    // ---- 7. tamper ----------------------------------------------------------------------------
    w.heading("Tamper with the pinned object: fail closed")
    if (digest) {
      const object = path.join(dir, ".alloy", "objects", "sha256", `${digest.slice("sha256:".length)}.json`)
      const bytes = readFileSync(object)
      const at = bytes.indexOf(Buffer.from("150 words"))
      const tampered = Buffer.from(bytes)
      if (at >= 0) tampered.write("500", at, "utf8")
      else tampered[10] = tampered[10]! ^ 1
      chmodSync(object, 0o644)
      writeFileSync(object, tampered)
      w.say(`  Someone edits ${rel(object)} to allow "${at >= 0 ? "500 words" : "a flipped byte"}". The bytes no longer hash to the pinned digest.`)
      const plugin2 = await loadDemoPlugin(dir)
      const blocked = parseJson(await afterHook(plugin2, "foundry_orchestrate", dispatch))
      if (
        w.check(
          blocked?.["action"] === "blocked",
          "the forge dispatch becomes a `blocked` action: no agent runs on unverified context",
          `the dispatch was not blocked (action: ${String(blocked?.["action"])})`,
        )
      ) {
        w.block(JSON.stringify({ action: blocked!["action"], ...(blocked!["cycle"] ? { cycle: blocked!["cycle"] } : {}), reason: blocked!["reason"] }, null, 2))
      }
      const bad = await cli(["verify"])
      w.check(bad.code === 1, "verify exits 1, so CI stops the merge", "verify did not fail on the tampered object")
      writeFileSync(object, bytes)
      chmodSync(object, 0o444)
    }

    // ---- 8. evidence -----------------------------------------------------------------------------
    w.heading("Replay the recorded run's evidence: verdicts")
    w.say("  The recorded flow went on: quench ran the word-limit validator, forge revised the note, quench ran")
    w.say("  again, and the appraisers judged it. Foundry left all of it in the WORK files; import turns it into")
    w.say("  run records (with the recorded times), and every acceptance criterion gets a verdict from evidence:")
    const imported = await cli(["import", "worktree"])
    const count = listRecords(dir).length
    const twice = await cli(["import", "worktree"], false)
    w.check(
      imported.code === 0 && twice.code === 0 && listRecords(dir).length === count,
      "the recorded stage runs are imported; importing again adds nothing",
      "import worktree failed, or a second import added records",
    )
    const report = await cli(["report"])
    const verdicts = criterionVerdicts((await cli(["report", "--json"], false)).out.join("\n"))
    w.check(
      report.code === 0 && verdicts.get("AC-1") === "satisfied",
      "AC-1 (at most 150 words) is satisfied: the last quench run of the word-limit validator found nothing",
      `AC-1 is ${verdicts.get("AC-1") ?? "missing"}, not satisfied`,
    )
    w.check(verdicts.get("AC-2") === "failing", "AC-2 (benefit first) is failing: an appraiser's feedback on its law is still open", `AC-2 is ${verdicts.get("AC-2") ?? "missing"}, not failing`)
    w.check(
      verdicts.get("AC-4") === "unproven",
      "AC-4 (the product owner approves) stays unproven: silence is not evidence; `evidence signoff` records it",
      `AC-4 is ${verdicts.get("AC-4") ?? "missing"}, not unproven`,
    )
    // the report outlives the working copy: it is what the reader opens next
    const reportDir = opts.keep ? dir : mkdtempSync(path.join(opts.tmpDir ?? os.tmpdir(), "alloy-report-"))
    const html = path.join(reportDir, "alloy-report.html")
    const wrote = await cli(["report", "--html", html], false)
    if (w.check(wrote.code === 0 && existsSync(html), "the same verdicts, with every observation and its provenance, as one HTML page:", "report --html failed")) {
      w.say(`    ${html}`)
    }

    // ---- 9. summary -----------------------------------------------------------------------------
    w.heading("Where everything went")
    const listing = [
      [`.alloy/intents/${DEMO_INTENT}.md`, "the intent record (authored, committed)"],
      [`.alloy/briefs/${DEMO_BRIEF}.md`, "the brief recipe (authored, committed)"],
      [digest ? `.alloy/objects/sha256/${digest.slice(7)}.json` : ".alloy/objects/sha256/", "the bundle: brief + prompt packs + gate overlay (built, immutable)"],
      [`.alloy/refs/briefs/${DEMO_BRIEF}`, "the brief's current digest"],
      [`foundry/cycles/${DEMO_CYCLE}.md`, "the pin (alloy: brief_id + digest)"],
      [".alloy/runs/records/", `${listRecords(dir).length} run records: the forge stage's from the hook, the recorded run's from import (git-ignored outbox)`],
      [".alloy/runs/events.jsonl", "run events (git-ignored)"],
      ...(opts.keep ? [["alloy-report.html", "the HTML report of verdicts and evidence"] as [string, string]] : []),
    ] as Array<[string, string]>
    const width = Math.max(...listing.map(([p]) => p.length))
    for (const [p, what] of listing) w.say(`  ${p.padEnd(width)}  ${what}${existsSync(path.join(dir, p)) ? "" : " (missing)"}`)
    w.say("")
    w.say("Next, in your own Foundry project (on the base branch, where .alloy/ is committed):")
    w.say("  npx opencode-alloy intent new <id>            then edit .alloy/intents/<id>.md")
    w.say("  npx opencode-alloy brief new <id> --intent <id> --cycle <cycle-id>")
    w.say("  npx opencode-alloy brief build <id> && npx opencode-alloy pin <cycle-id> <id>")
    w.say('  git add .alloy foundry && git commit -m "alloy: pin <id>", then run the flow as usual.')
    w.say('Or, in OpenCode with the plugin installed, ask: "use the alloy-wizard skill to write an intent for <cycle>".')
  } catch (e) {
    w.fail(`the demo stopped: ${(e as Error)?.message ?? String(e)}`)
  } finally {
    if (opts.keep) w.say(`\nKept the working copy: ${dir}`)
    else {
      rmSync(tmp, { recursive: true, force: true })
      w.say("\nRemoved the working copy.")
    }
  }
  if (w.failures.length) {
    io.err(`opencode-alloy demo: ${w.failures.length} step${w.failures.length === 1 ? "" : "s"} failed:\n${w.failures.map((f) => `  - ${f}`).join("\n")}`)
    return 1
  }
  w.say("Demo complete: every step did what it should.")
  return 0
}

// ---- plugin plumbing ------------------------------------------------------------------------

async function loadDemoPlugin(dir: string): Promise<Hooks> {
  const client = { app: { log: async () => ({ data: true }) } }
  const input = {
    client,
    directory: dir,
    worktree: dir,
    project: { id: "alloy-demo" },
    serverUrl: new URL("http://127.0.0.1:1"),
    $: undefined,
    experimental_workspace: { register() {} },
  } as unknown as PluginInput
  return AlloyPlugin(input, { hooks: true, skills: false })
}

let calls = 0

async function afterHook(hooks: Hooks, tool: string, output: string, callID = `demo-call-${++calls}`): Promise<string> {
  const o = { title: "", output, metadata: {} as Record<string, unknown> }
  await hooks["tool.execute.after"]?.({ tool, sessionID: "ses_demo", callID, args: {} } as never, o as never)
  return o.output
}

async function beforeHook(hooks: Hooks, tool: string, callID: string, args: Record<string, unknown>): Promise<void> {
  await hooks["tool.execute.before"]?.({ tool, sessionID: "ses_demo", callID } as never, { args } as never)
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** One line about a run record instead of the whole JSON: what ran, under which bundle, with what result. */
function recordSummary(text: string): string {
  const r = parseJson(text) ?? {}
  const pin = r["pin"] as { brief_id?: string; digest?: string } | undefined
  const fb = r["feedback"] as { by_state?: Record<string, number> } | undefined
  const open = fb?.by_state?.["open"] ?? 0
  return [
    `$type ${String(r["$type"])}; stage ${String(r["stage"])}; outcome ${String(r["outcome"])}`,
    `pin ${pin?.brief_id ?? "-"} @ ${pin?.digest ? `${pin.digest.slice(0, 19)}…` : "-"}`,
    `feedback at the end of the stage: ${open} open item${open === 1 ? "" : "s"}`,
  ].join("\n")
}

/** Verdict per criterion id from `report --json`. */
function criterionVerdicts(json: string): Map<string, string> {
  const out = new Map<string, string>()
  const intents = (parseJson(json)?.["intents"] ?? []) as Array<{ criteria?: Array<{ id?: string; verdict?: string }> }>
  for (const i of intents) for (const c of i.criteria ?? []) if (c.id && c.verdict) out.set(c.id, c.verdict)
  return out
}

function listRecords(dir: string): string[] {
  const d = path.join(dir, ".alloy", "runs", "records")
  try {
    return readdirSync(d)
      .filter((n) => n.endsWith(".json") && !n.startsWith("."))
      .sort()
      .map((n) => path.join(d, n))
  } catch {
    return []
  }
}
