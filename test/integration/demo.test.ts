/**
 * The demo (the README's main command): runs in-process and as the built binary, with no model
 * and no network, prints a walkthrough of every step, exits 0, and removes its temp folder
 * unless --keep. It must fail (exit 1, saying why) when the hooks inject nothing.
 */
import { describe, expect, it } from "vitest"

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { main } from "../../src/cli/main.js"
import { withEnv } from "../helpers/env.js"
import { BIN, runBin } from "../helpers/cli.js"
import { runDemo } from "../../src/demo/demo.js"
import type { Io } from "../../src/cli/io.js"

import { skipNote } from "../helpers/skip.js"

function io(): Io & { lines: string[]; errs: string[] } {
  const lines: string[] = []
  const errs: string[] = []
  return { lines, errs, out: (s) => lines.push(s), err: (s) => errs.push(s), cwd: process.cwd(), json: false, color: false }
}

const workingCopy = (out: string) => /^Working copy: (.+)$/m.exec(out)?.[1]

function expectWalkthrough(out: string): void {
  const headings = [...out.matchAll(/^== (\d+)\. /gm)].map((m) => Number(m[1]))
  expect(headings).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
  for (const s of [
    "$ opencode-alloy intent new release-note-voice --from ../drafts/release-note-voice.md",
    "$ opencode-alloy brief build release-note-voice",
    "$ opencode-alloy pin draft-release-note release-note-voice",
    "ok: verify: every pin resolves",
    "ok: Foundry's prompt is an exact prefix",
    "| ## Alloy",
    "| Pinned brief: release-note-voice @ sha256:",
    "| **Acceptance criteria you must meet**",
    "ok: appraisers: each of the 2 appraiser prompts also grades 1 Alloy law (alloy--release-note-voice--ac-3)",
    "ok: one run record written for the stage run: .alloy/runs/records/",
    "$type alloy.run/v1; stage forge:draft-release-note; outcome ok",
    "ok: a repeated stage_end result exports nothing new",
    '"action": "blocked"',
    "ok: verify exits 1",
    "$ opencode-alloy import worktree",
    "ok: the recorded stage runs are imported; importing again adds nothing",
    "        AC-1   satisfied ",
    "        AC-2   failing   ",
    "ok: AC-1 (at most 150 words) is satisfied",
    "ok: AC-2 (benefit first) is failing",
    "ok: the same verdicts, with every observation and its provenance, as one HTML page:",
    "Where everything went",
    "Demo complete: every step did what it should.",
  ]) {
    expect(out).toContain(s)
  }
  expect(out).not.toContain("FAILED")
  // the example project holds what its intent names: the word-limit check is a script it has
  expect(out).not.toContain("check_file_missing")
  // paths in the walkthrough are project-relative (only the working copy line names the temp folder)
  const dir = workingCopy(out)!
  expect(out.split(dir).length - 1).toBeLessThanOrEqual(2)
}

describe("demo", () => {
  it("runs in-process, exits 0 and removes its working copy", async () => {
    const o = io()
    const code = await runDemo(o, main)
    const out = o.lines.join("\n")
    expect(code, `${out}\n${o.errs.join("\n")}`).toBe(0)
    expectWalkthrough(out)
    expect(existsSync(workingCopy(out)!)).toBe(false)
    expect(out).toContain("Removed the working copy.")
    // the HTML report outlives the working copy, in a folder of its own that the output names
    const report = /^ {4}(\/.*alloy-report\.html)$/m.exec(out)?.[1]
    expect(report).toBeDefined()
    try {
      expect(readFileSync(report!, "utf8")).toContain("AC-2")
    } finally {
      rmSync(path.dirname(report!), { recursive: true, force: true })
    }
  })

  it("--keep keeps the working copy with everything the walkthrough lists", async () => {
    const o = io()
    const tmp = mkdtempSync(path.join(os.tmpdir(), "alloy-demo-test-"))
    try {
      const code = await runDemo(o, main, { keep: true, tmpDir: tmp })
      const out = o.lines.join("\n")
      expect(code, out).toBe(0)
      const dir = workingCopy(out)!
      expect(dir.startsWith(tmp)).toBe(true)
      expect(out).toContain(`Kept the working copy: ${dir}`)
      expect(existsSync(path.join(dir, ".alloy", "intents", "release-note-voice.md"))).toBe(true)
      expect(readdirSync(path.join(dir, ".alloy", "runs", "records")).filter((n) => n.endsWith(".json"))).toHaveLength(7)
      expect(readFileSync(path.join(dir, "alloy-report.html"), "utf8")).toContain("<html")
      expect(out).not.toContain("(missing)")
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  it("fails, saying why, when the hooks inject nothing", async () => {
    const o = io()
    // a failed run still writes its report (to show what it saw): into a folder this test removes
    const tmp = mkdtempSync(path.join(os.tmpdir(), "alloy-demo-test-"))
    try {
      const code = await withEnv({ ALLOY_HOOKS: "off" }, () => runDemo(o, main, { tmpDir: tmp }))
      expect(code).toBe(1)
      expect(o.lines.join("\n")).toContain("FAILED: the hook did not inject anything")
      expect(o.errs.join("\n")).toMatch(/opencode-alloy demo: \d+ steps? failed/)
      expect(readdirSync(tmp).filter((n) => n.startsWith("alloy-demo-"))).toEqual([])
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  it.skipIf(!existsSync(BIN))(`runs from the built CLI with a bare environment (\`opencode-alloy demo\`)${skipNote(existsSync(BIN) ? undefined : "needs the built CLI (npm run build)")}`, async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), "alloy-demo-home-"))
    try {
      const r = await runBin(["demo"], { cwd: home, timeoutMs: 60_000, bareEnv: true, env: { HOME: home, TMPDIR: home } })
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0)
      expectWalkthrough(r.stdout)
      expect(readdirSync(home).filter((n) => n.startsWith("alloy-demo-"))).toEqual([])
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
