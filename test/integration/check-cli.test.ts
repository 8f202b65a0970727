// `opencode-alloy check`: the check gates of intents run in the project root, bounded in time and
// output, without a shell unless the criterion asks for one; `--record` writes each run as evidence
// that the verdict counts (and nothing else proves a check gate); refused on flow branches; lint
// warns about a check that neither a Foundry validator nor a recorded run covers.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { RunRecordSchema, type RunRecord } from "../../src/core/run-record.js"
import { runCli } from "../helpers/cli.js"
import { git, gitInitCommitAll } from "../helpers/git.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { withEnv } from "../helpers/env.js"
import { createHash } from "node:crypto"

const intent = (id: string, criteria: string) => `---
id: ${id}
title: Checks of ${id}
status: active
goal: The project's own checks prove what they claim for ${id}.
acceptance_criteria:
${criteria}---
`

const OK = intent(
  "checks-ok",
  `  - id: AC-1
    text: The smoke script exits 0.
    evidence:
      kind: check
      command: node scripts/ok.mjs
  - id: AC-2
    text: The argument script sees its words as written.
    evidence:
      kind: check
      command: node scripts/argv.mjs a;b '$(touch pwned-1)' $(touch pwned-2) "x y" \`touch pwned-3\` && touch pwned-4
  - id: AC-3
    text: A shell check may use a redirect when it asks for a shell.
    evidence:
      kind: check
      command: echo shell-ran > shell-out.txt
      shell: true
  - id: AC-4
    text: Unquoted globs are matched against the project's files, quoted ones are not.
    evidence:
      kind: check
      command: node scripts/argv-glob.mjs scripts/o*.mjs 'scripts/*.mjs' nothing/*.x
`,
)

const BAD = intent(
  "checks-bad",
  `  - id: AC-1
    text: The failing script exits 0.
    evidence:
      kind: check
      command: node scripts/fail.mjs
  - id: AC-2
    text: The slow script ends within a second.
    evidence:
      kind: check
      command: node scripts/sleep.mjs
      timeout: 1
`,
)

const NOISY = intent(
  "checks-noisy",
  `  - id: AC-1
    text: The noisy script stays quiet.
    evidence:
      kind: check
      command: node scripts/noisy.mjs
`,
)

const SCRIPTS: Record<string, string> = {
  "ok.mjs": `console.log("all good")\n`,
  "argv.mjs": `import { writeFileSync } from "node:fs"\nwriteFileSync("argv.json", JSON.stringify(process.argv.slice(2)))\n`,
  "argv-glob.mjs": `import { writeFileSync } from "node:fs"\nwriteFileSync("argv-glob.json", JSON.stringify(process.argv.slice(2)))\n`,
  "fail.mjs": `console.error("boom: the thing is broken")\nprocess.exit(3)\n`,
  "sleep.mjs": `setTimeout(() => {}, 60_000)\n`,
  "noisy.mjs": `process.stdout.write("x".repeat(200_000))\n`,
}

let p: PinnedProject
beforeEach(async () => {
  p = await makePinnedProject()
  const alloy = path.join(p.dir, ".alloy")
  writeFileSync(path.join(alloy, "intents", "checks-ok.md"), OK)
  writeFileSync(path.join(alloy, "intents", "checks-bad.md"), BAD)
  writeFileSync(path.join(alloy, "intents", "checks-noisy.md"), NOISY)
  const recipe = path.join(alloy, "briefs", `${p.briefId}.md`)
  writeFileSync(recipe, readFileSync(recipe, "utf8").replace("intents:\n  - release-note-voice\n", "intents:\n  - release-note-voice\n  - checks-ok\n  - checks-bad\n  - checks-noisy\n"))
  mkdirSync(path.join(p.dir, "scripts"), { recursive: true })
  for (const [f, text] of Object.entries(SCRIPTS)) writeFileSync(path.join(p.dir, "scripts", f), text)
  buildBrief(p.ctx, p.briefId)
  pinBrief(p.ctx, { cycle: p.cycle, brief_id: p.briefId })
})
afterEach(() => p.cleanup())

type CheckJson = {
  ok: boolean
  passed: number
  failed: number
  recorded: number
  results: Array<{
    criterion: string
    passed: boolean
    command: string
    not_recorded?: string
    recorded: Array<{ cycle: string; digest: string; run_id: string }>
    commands: Array<{
      argv?: string[]
      exit_code: number | null
      timed_out?: boolean
      output_over_limit?: boolean
      output_bytes: number
      tail: string
      stdout_sha256: string
      stderr_sha256: string
      duration_ms: number
    }>
  }>
}

const records = (): RunRecord[] => {
  const dir = path.join(p.dir, ".alloy", "runs", "records")
  if (!existsSync(dir)) return []
  return readdirSync(dir).map((f) => RunRecordSchema.parse(JSON.parse(readFileSync(path.join(dir, f), "utf8"))))
}

async function verdicts(intentId: string): Promise<Record<string, string>> {
  const r = await runCli(p.dir, "report", "--json")
  const model = r.json<{ intents: Array<{ id: string; criteria: Array<{ ref: string; verdict: string; reason: string }> }> }>()
  return Object.fromEntries(model.intents.find((i) => i.id === intentId)!.criteria.map((c) => [c.ref, c.verdict]))
}

// each test drives several CLI runs that start node processes: give them room on a loaded machine
describe("check: running the check gates", { timeout: 60_000 }, () => {
  it("a passing check passes, exits 0, records nothing without --record, and the gate stays unproven", async () => {
    const r = await runCli(p.dir, "check", "checks-ok", "--json")
    expect(r.code).toBe(0)
    const j = r.json<CheckJson>()
    expect(j.results.map((x) => [x.criterion, x.passed])).toEqual([
      ["checks-ok#AC-1", true],
      ["checks-ok#AC-2", true],
      ["checks-ok#AC-3", true],
      ["checks-ok#AC-4", true],
    ])
    const ok = j.results[0]!.commands[0]!
    expect(ok.exit_code).toBe(0)
    expect(ok.tail).toBe("all good\n")
    expect(ok.output_bytes).toBe(9)
    expect(ok.stdout_sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(j.recorded).toBe(0)
    expect(records().filter((x) => x.stage === "check")).toEqual([])
    expect((await verdicts("checks-ok"))["checks-ok#AC-1"]).toBe("unproven")
    const text = await runCli(p.dir, "check", "checks-ok")
    expect(text.out).toContain("PASS  checks-ok#AC-1  node scripts/ok.mjs")
    expect(text.out).toContain("not recorded: add --record")
  })

  it("no shell unless asked: ;, $(...), quotes, backquotes and && are passed to the program as words; shell: true gets a shell", async () => {
    const r = await runCli(p.dir, "check", "checks-ok", "--json")
    expect(r.code).toBe(0)
    expect(JSON.parse(readFileSync(path.join(p.dir, "argv.json"), "utf8"))).toEqual(["a;b", "$(touch pwned-1)", "$(touch", "pwned-2)", "x y", "`touch", "pwned-3`", "&&", "touch", "pwned-4"])
    for (const n of [1, 2, 3, 4]) expect(existsSync(path.join(p.dir, `pwned-${n}`))).toBe(false)
    const argv = r.json<CheckJson>().results[1]!.commands[0]!.argv
    expect(argv?.[0]).toBe("node")
    expect(readFileSync(path.join(p.dir, "shell-out.txt"), "utf8")).toBe("shell-ran\n")
    expect(r.json<CheckJson>().results[2]!.commands[0]!.argv).toBeUndefined()
    expect(JSON.parse(readFileSync(path.join(p.dir, "argv-glob.json"), "utf8"))).toEqual(["scripts/ok.mjs", "scripts/*.mjs", "nothing/*.x"])
  })

  it("a failing check fails with its exit code and the tail of its output; a check past its timeout is stopped and fails", async () => {
    const r = await runCli(p.dir, "check", "checks-bad", "--json")
    expect(r.code).toBe(1)
    const [fail, slow] = r.json<CheckJson>().results
    expect(fail).toMatchObject({ criterion: "checks-bad#AC-1", passed: false })
    expect(fail!.commands[0]).toMatchObject({ exit_code: 3 })
    expect(fail!.commands[0]!.tail).toContain("boom: the thing is broken")
    expect(slow).toMatchObject({ criterion: "checks-bad#AC-2", passed: false })
    expect(slow!.commands[0]).toMatchObject({ exit_code: null, timed_out: true })
    expect(slow!.commands[0]!.duration_ms).toBeLessThan(30_000)
    const text = await runCli(p.dir, "check", "checks-bad")
    expect(text.out).toContain("FAIL  checks-bad#AC-1  node scripts/fail.mjs")
    expect(text.out).toContain("| boom: the thing is broken")
    expect(text.out).toContain("timed out")
  })

  it("output is capped: past --max-output the check is stopped and fails; a record keeps only a short tail and a digest", async () => {
    const r = await runCli(p.dir, "check", "checks-noisy", "--max-output", "1000", "--record", "--json")
    expect(r.code).toBe(1)
    const c = r.json<CheckJson>().results[0]!.commands[0]!
    expect(c).toMatchObject({ exit_code: null, output_over_limit: true, output_bytes: 1000 })
    const rec = records().find((x) => x.stage === "check")!
    expect(rec.check!.commands[0]!.tail.length).toBeLessThanOrEqual(2048)
    expect(readFileSync(path.join(p.dir, ".alloy", "runs", "records", `${rec.idempotency_key}.json`)).length).toBeLessThan(8_000)
    // uncapped, the whole output is read, hashed, and still only its tail is kept
    const all = await runCli(p.dir, "check", "checks-noisy", "--record", "--json")
    const whole = all.json<CheckJson>().results[0]!.commands[0]!
    expect(whole).toMatchObject({ exit_code: 0, output_bytes: 200_000 })
    expect(whole.tail.length).toBe(2048)
  })

  it("a secret the check prints is not kept: not in its output tail, its record, or the report", async () => {
    const secret = "s3cr3t-value-0123456789"
    writeFileSync(path.join(p.dir, "scripts", "ok.mjs"), `console.log("deploying with", process.env.ALLOY_TEST_DEPLOY_TOKEN)\nconsole.log("Authorization: Bearer abcdefghijklmnop")\n`)
    const printed = `deploying with ${secret}\nAuthorization: Bearer abcdefghijklmnop\n`
    const r = await withEnv({ ALLOY_TEST_DEPLOY_TOKEN: secret }, () => runCli(p.dir, "check", "checks-ok", "--record", "--json"))
    const c = r.json<CheckJson>().results[0]!.commands[0]!
    expect(c.tail).toBe("deploying with [redacted]\nAuthorization: [redacted]\n")
    // the hash is of what was printed, so the record still accounts for the output it does not keep
    expect(c.stdout_sha256).toBe(createHash("sha256").update(printed).digest("hex"))
    const rec = records().find((x) => x.check?.criterion === "checks-ok#AC-1")!
    expect(rec.check!.commands[0]).toMatchObject({ tail: c.tail, tail_redacted: 2 })
    const stored = readdirSync(path.join(p.dir, ".alloy", "runs", "records")).map((f) => readFileSync(path.join(p.dir, ".alloy", "runs", "records", f), "utf8"))
    expect(stored.join("\n")).not.toContain(secret)
    expect(stored.join("\n")).not.toContain("abcdefghijklmnop")
    expect((await runCli(p.dir, "report", "--json")).out).not.toContain(secret)

    // a secret the 2,048-byte cut would split is removed whole, so no part of it is left at the tail's start
    writeFileSync(path.join(p.dir, "scripts", "ok.mjs"), `process.stdout.write(process.env.ALLOY_TEST_DEPLOY_TOKEN + "x".repeat(2040))\n`)
    const cut = await withEnv({ ALLOY_TEST_DEPLOY_TOKEN: secret }, () => runCli(p.dir, "check", "checks-ok", "--json"))
    const tail = cut.json<CheckJson>().results[0]!.commands[0]!.tail
    expect(tail).toMatch(/^edacted\]x{2040}$/)
  })

  it("--record writes pass/fail evidence under the pinned bundle, and the verdicts turn satisfied and failing", async () => {
    expect(await verdicts("checks-ok")).toEqual({ "checks-ok#AC-1": "unproven", "checks-ok#AC-2": "unproven", "checks-ok#AC-3": "unproven", "checks-ok#AC-4": "unproven" })
    const ok = await runCli(p.dir, "check", "checks-ok", "--record", "--json")
    expect(ok.code).toBe(0)
    const j = ok.json<CheckJson>()
    expect(j.recorded).toBe(4)
    expect(j.results[0]!.recorded).toEqual([expect.objectContaining({ cycle: p.cycle, digest: p.ctx.store.readRef(p.briefId) })])
    const rec = records().find((x) => x.check?.criterion === "checks-ok#AC-1")!
    expect(rec).toMatchObject({ stage: "check", source: "cli", cycle: p.cycle, pin: { brief_id: p.briefId, digest: p.ctx.store.readRef(p.briefId) } })
    expect(rec.check!.commands[0]).toMatchObject({ command: "node scripts/ok.mjs", exit_code: 0, tail: "all good\n" })
    expect(rec.capabilities).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(await verdicts("checks-ok")).toEqual({ "checks-ok#AC-1": "satisfied", "checks-ok#AC-2": "satisfied", "checks-ok#AC-3": "satisfied", "checks-ok#AC-4": "satisfied" })

    const bad = await runCli(p.dir, "check", "checks-bad", "--record")
    expect(bad.code).toBe(1)
    expect(await verdicts("checks-bad")).toEqual({ "checks-bad#AC-1": "failing", "checks-bad#AC-2": "failing" })
    const report = await runCli(p.dir, "report", "--json")
    const ac1 = report.json<{ intents: Array<{ id: string; criteria: Array<{ ref: string; reason: string }> }> }>().intents.find((i) => i.id === "checks-bad")!.criteria[0]!
    expect(ac1.reason).toContain("exit 3")
    await runCli(p.dir, "report", "--html", "report.html")
    const html = readFileSync(path.join(p.dir, "report.html"), "utf8")
    expect(html).toContain("check failed")
    expect(html).toContain("check passed")

    // the latest recorded run decides: the script is fixed, the check run again, the gate is satisfied
    writeFileSync(path.join(p.dir, "scripts", "fail.mjs"), "process.exit(0)\n")
    await new Promise((r) => setTimeout(r, 5))
    await runCli(p.dir, "check", "checks-bad", "--record")
    expect((await verdicts("checks-bad"))["checks-bad#AC-1"]).toBe("satisfied")
  })

  it("a cycle whose pin is behind the brief's build gets its record under the pinned digest: stale until re-pinned", async () => {
    const pinned = p.ctx.store.readRef(p.briefId)!
    const file = path.join(p.dir, ".alloy", "intents", "checks-ok.md")
    writeFileSync(file, readFileSync(file, "utf8").replace("title: Checks of checks-ok", "title: Checks of checks-ok, again"))
    buildBrief(p.ctx, p.briefId)
    expect(p.ctx.store.readRef(p.briefId)).not.toBe(pinned)
    const r = await runCli(p.dir, "check", "checks-ok", "--record", "--json")
    expect(r.json<CheckJson>().results[0]!.recorded.map((x) => x.digest)).toEqual([pinned])
    expect((await verdicts("checks-ok"))["checks-ok#AC-1"]).toBe("stale")
    pinBrief(p.ctx, { cycle: p.cycle, brief_id: p.briefId })
    await runCli(p.dir, "check", "checks-ok", "--record")
    expect((await verdicts("checks-ok"))["checks-ok#AC-1"]).toBe("satisfied")
  })

  it("a record of a check whose command is not the bundle's proves nothing", async () => {
    await runCli(p.dir, "check", "checks-ok", "--record")
    const rec = records().find((x) => x.check?.criterion === "checks-ok#AC-1")!
    const file = path.join(p.dir, ".alloy", "runs", "records", `${rec.idempotency_key}.json`)
    writeFileSync(file, JSON.stringify({ ...rec, check: { ...rec.check!, command: "true" } }))
    expect((await verdicts("checks-ok"))["checks-ok#AC-1"]).toBe("unproven")
  })

  it("is refused on Foundry's work/* and dry-run/* branches with the usual code and fix", async () => {
    gitInitCommitAll(p.dir)
    for (const branch of ["work/x", "dry-run/release-notes/r1"]) {
      git(p.dir, ["switch", "-q", "-c", branch])
      const r = await runCli(p.dir, "check", "--record", "--json")
      expect(r.code).not.toBe(0)
      expect(`${r.out}${r.err}`).toContain("work_branch")
      expect(`${r.out}${r.err}`).toContain("git switch main")
      git(p.dir, ["switch", "-q", "main"])
    }
    expect(records().filter((x) => x.stage === "check")).toEqual([])
  })

  it("an unknown intent is refused as a usage error, with the intent a slip meant", async () => {
    const r = await runCli(p.dir, "check", "no-such-intent", "--json")
    expect(r.code).toBe(2)
    expect(`${r.out}${r.err}`).toContain("intent_not_found")
    const slip = await runCli(p.dir, "check", "release-note-vocie")
    expect(slip.code).toBe(2)
    expect(slip.err).toContain("did you mean release-note-voice?")
  })
})

describe("lint: check_never_run", { timeout: 60_000 }, () => {
  const neverRun = async () => {
    const r = await runCli(p.dir, "intent", "lint", "checks-ok", "--json")
    const text = r.out
    return [...text.matchAll(/check_never_run[^\n]*/g)].length
      ? (JSON.parse(text) as { entries: Array<{ warnings: Array<{ code: string; message: string }> }> }).entries.flatMap((e) =>
          e.warnings.filter((w) => w.code === "check_never_run").map((w) => w.message),
        )
      : []
  }

  it("warns on a check no Foundry validator runs and no recorded run covers, until a run is recorded", async () => {
    const before = await neverRun()
    expect(before.some((m) => m.startsWith("checks-ok#AC-1"))).toBe(true)
    await runCli(p.dir, "check", "checks-ok")
    expect((await neverRun()).some((m) => m.startsWith("checks-ok#AC-1"))).toBe(true)
    await runCli(p.dir, "check", "checks-ok", "--record")
    expect(await neverRun()).toEqual([])
  })

  it("a build does not warn it (the check is recorded under a build, so a strict build must not wait for one)", async () => {
    const r = await runCli(p.dir, "brief", "build", p.briefId, "--strict", "--json")
    expect(r.out).not.toContain("check_never_run")
  })

  it("does not warn on a check bound to a Foundry validator", async () => {
    const r = await runCli(p.dir, "intent", "lint", "release-note-voice", "--json")
    expect(r.out).not.toContain("check_never_run")
  })
})
