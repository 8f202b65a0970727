/**
 * Builds are reproducible (ALLOY.md §3, issue #4): two separate `git clone`s of one repository,
 * one checked out with LF and one with CRLF line endings (`core.autocrlf=true`; the test checks
 * the files really have CRLF), build the same bundles byte for byte, and each verifies its pin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { makeProject, writeExampleSources, type TestProject } from "../helpers/project.js"
import { runCli } from "../helpers/cli.js"
import { git } from "../helpers/git.js"

const EXTRA = `---
id: checkout-copy
title: Checkout copy is calm and exact — «no surprises»
status: active
goal: >
  Shoppers see the total, delivery cost and
  delivery date before they pay.
context: |
  Copy is read on phones.
  Line two of a literal block, with a trailing space here:${" "}
constraints:
  - "Prices include VAT: the total never changes after the summary."
acceptance_criteria:
  - id: AC-1
    text: The summary shows the total, delivery cost and date.
    evidence:
      - { kind: law }
      - { kind: human, who: "the café owner" }
---

Body with café, naïve and a tab:\tend.
`

let source: TestProject
let root: string
const clones: Record<"lf" | "crlf", string> = { lf: "", crlf: "" }

async function build(cwd: string, id: string): Promise<{ digest: string; bytes: Buffer }> {
  const r = await runCli(cwd, ...["brief", "build", id, "--json"])
  expect(r.code, r.out).toBe(0)
  const digest = (JSON.parse(r.out) as { builds: Array<{ digest: string }> }).builds[0]!.digest
  return { digest, bytes: readFileSync(path.join(cwd, ".alloy", "objects", "sha256", `${digest.slice(7)}.json`)) }
}

beforeAll(() => {
  source = makeProject("alloy-repro-")
  writeExampleSources(source.dir)
  writeFileSync(path.join(source.dir, ".alloy", "intents", "checkout-copy.md"), EXTRA)
  writeFileSync(
    path.join(source.dir, ".alloy", "briefs", "two-intents.md"),
    "---\nid: two-intents\nintents: [release-note-voice, checkout-copy]\nformation: { flow: release-notes }\n---\nNotes\nover two lines.\n",
  )
  git(source.dir, ["init", "-q"])
  git(source.dir, ["config", "core.autocrlf", "false"])
  git(source.dir, ["add", "-A"])
  git(source.dir, ["commit", "-q", "-m", "sources"])
  root = mkdtempSync(path.join(os.tmpdir(), "alloy-clones-"))
  clones.lf = path.join(root, "lf")
  clones.crlf = path.join(root, "crlf")
  git(root, ["-c", "core.autocrlf=false", "clone", "-q", source.dir, clones.lf])
  git(root, ["-c", "core.autocrlf=true", "clone", "-q", "--config", "core.autocrlf=true", source.dir, clones.crlf])
})

afterAll(() => {
  source?.cleanup()
  if (root) rmSync(root, { recursive: true, force: true })
})

describe("reproducible builds across clones", () => {
  it("the CRLF clone really has CRLF line endings, the LF clone has none", () => {
    for (const f of [".alloy/intents/release-note-voice.md", ".alloy/intents/checkout-copy.md", ".alloy/briefs/release-note-voice.md", "foundry/cycles/draft-release-note.md"]) {
      const crlf = readFileSync(path.join(clones.crlf, f), "utf8")
      const lf = readFileSync(path.join(clones.lf, f), "utf8")
      expect(crlf.includes("\r\n"), `${f} has CRLF`).toBe(true)
      expect(crlf.replace(/\r\n/g, "").includes("\n"), `${f} has only CRLF`).toBe(false)
      expect(lf.includes("\r"), `${f} has no CR`).toBe(false)
    }
  })

  for (const id of ["release-note-voice", "two-intents"]) {
    it(`${id}: same digest and the same object bytes in both clones and in the source`, async () => {
      const a = await build(clones.lf, id)
      const b = await build(clones.crlf, id)
      const s = await build(source.dir, id)
      expect(b.digest).toBe(a.digest)
      expect(s.digest).toBe(a.digest)
      expect(b.bytes.equals(a.bytes)).toBe(true)
      // no CR, no timestamps of this run, nothing machine-specific in the hashed object
      const text = a.bytes.toString("utf8")
      expect(text).not.toContain("\\r")
      expect(text).not.toContain(root)
      expect(text).not.toMatch(new RegExp(`${new Date().getUTCFullYear()}-\\d\\d-\\d\\dT`))
      // building twice changes nothing
      expect((await build(clones.crlf, id)).digest).toBe(a.digest)
    })
  }

  it("each clone pins and verifies; the CRLF cycle file keeps its CRLF line endings", async () => {
    for (const dir of [clones.lf, clones.crlf]) {
      expect((await runCli(dir, ...["pin", "draft-release-note", "release-note-voice"])).code).toBe(0)
      expect((await runCli(dir, ...["verify"])).code).toBe(0)
    }
    const crlf = readFileSync(path.join(clones.crlf, "foundry", "cycles", "draft-release-note.md"), "utf8")
    expect(crlf.replace(/\r\n/g, "").includes("\n")).toBe(false)
    const lf = readFileSync(path.join(clones.lf, "foundry", "cycles", "draft-release-note.md"), "utf8")
    expect(crlf.replace(/\r\n/g, "\n")).toBe(lf)
  })

  it("a changed intent gives a new digest", async () => {
    const file = path.join(clones.crlf, ".alloy", "intents", "checkout-copy.md")
    const before = (await build(clones.crlf, "two-intents")).digest
    writeFileSync(file, readFileSync(file, "utf8").replace("delivery date", "delivery day"))
    expect((await build(clones.crlf, "two-intents")).digest).not.toBe(before)
  })
})
