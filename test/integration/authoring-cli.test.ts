/**
 * Authoring through the CLI only (issue #4): on a copy of the sample project, from nothing to a
 * verified pin with `main()` and a captured Io; rebuild and re-pin after a change; lint with
 * --strict; errors with stable codes; and every write refused on a Foundry flow branch.
 */
import { afterEach, describe, expect, it } from "vitest"

import { createHash } from "node:crypto"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { runCli, type CliResult } from "../helpers/cli.js"
import { EXAMPLE_ALLOY_DIR } from "../../src/demo/example-project.js"
import { makeProject, type TestProject } from "../helpers/project.js"
import { snapshotTree } from "../helpers/tree.js"
import { git, gitInitCommitAll } from "../helpers/git.js"

const BRIEF = "release-note-voice"
const CYCLE = "draft-release-note"
const INTENT_SRC = path.join(EXAMPLE_ALLOY_DIR, "intents", `${BRIEF}.md`)

let project: TestProject | undefined
afterEach(() => {
  project?.cleanup()
  project = undefined
})

const cli = (argv: string[], cwd = project!.dir): Promise<CliResult> => runCli(cwd, ...argv)

describe("CLI: brief build --all", () => {
  it("builds every brief in .alloy/briefs/; names or --all, not both; nothing to build is not an error", async () => {
    project = makeProject("alloy-cli-")
    await cli(["intent", "new", BRIEF, "--from", path.relative(project.dir, INTENT_SRC)])
    const none = await cli(["brief", "build", "--all"])
    expect(none.code, none.err).toBe(0)
    expect(none.out).toContain("No briefs in .alloy/briefs/ to build")
    expect((await cli(["brief", "build", "--all", "--json"])).json()).toMatchObject({ ok: true, builds: [] })
    await cli(["brief", "new", BRIEF, "--intent", BRIEF, "--cycle", CYCLE])
    await cli(["brief", "new", "second-brief", "--intent", BRIEF, "--cycle", CYCLE])
    const all = await cli(["brief", "build", "--all", "--json"])
    expect(all.code, all.err).toBe(0)
    expect((all.json()["builds"] as Array<{ brief_id: string }>).map((b) => b.brief_id)).toEqual([BRIEF, "second-brief"])
    const both = await cli(["brief", "build", BRIEF, "--all"])
    expect(both.code).toBe(2)
    expect(both.err).toContain("give brief ids or --all, not both")
    const neither = await cli(["brief", "build"])
    expect(neither.code).toBe(2)
    expect(neither.err).toContain("or pass --all")
  })
})

describe("CLI: from nothing to a verified pin", () => {
  it("intent new (template and --from), brief new, build, pin, verify, status", async () => {
    project = makeProject("alloy-cli-")
    const cyclePath = path.join(project.dir, "foundry", "cycles", `${CYCLE}.md`)
    const cycleBefore = readFileSync(cyclePath, "utf8")

    // the sample cycle carries a placeholder pin: verify fails until a real one is written
    expect((await cli(["verify"])).code).toBe(1)
    expect(existsSync(path.join(project.dir, ".alloy"))).toBe(false)

    // a template to edit: valid, draft, with placeholders lint reports
    const tpl = await cli(["intent", "new", "checkout-copy", "--title", "Checkout copy"])
    expect(tpl.code).toBe(0)
    expect(tpl.out).toContain("Wrote .alloy/intents/checkout-copy.md")
    expect(readFileSync(path.join(project.dir, ".alloy", "intents", "checkout-copy.md"), "utf8")).toContain('title: "Checkout copy"\n')
    const lintTpl = await cli(["intent", "lint", "checkout-copy", "--strict"])
    expect(lintTpl.code).toBe(1)
    expect(lintTpl.out).toContain("[placeholder_text]")
    expect((await cli(["intent", "lint", "checkout-copy"])).code).toBe(0) // warnings alone pass without --strict

    // the real intent from a file
    const created = await cli(["intent", "new", BRIEF, "--from", path.relative(project.dir, INTENT_SRC)])
    expect(created.code, created.err).toBe(0)
    // writing counts the lint hints and says where to read them; `intent lint` prints them
    expect(created.err).toContain("1 hint (criterion_unstructured): `opencode-alloy intent lint` shows it")
    expect(created.err).not.toContain("info [criterion_unstructured]")
    expect((await cli(["intent", "lint", BRIEF])).out).toContain("info [criterion_unstructured]")
    expect(readFileSync(path.join(project.dir, ".alloy", "intents", `${BRIEF}.md`), "utf8")).toContain("status: active")

    const list = await cli(["intent", "list", "--json"])
    expect((list.json()["intents"] as Array<{ id: string }>).map((i) => i.id)).toEqual(["checkout-copy", BRIEF])
    const show = await cli(["intent", "show", BRIEF])
    expect(show.out).toContain(`${BRIEF} (active): Release notes speak to customers, not engineers`)
    expect(show.out).toContain("in no brief yet")

    const bn = await cli(["brief", "new", BRIEF, "--intent", BRIEF, "--flow", "release-notes", "--cycle", CYCLE, "--title", "Customer-facing release notes"])
    expect(bn.code, bn.err).toBe(0)
    expect(bn.out).toContain(`Wrote .alloy/briefs/${BRIEF}.md`)

    const dry = await cli(["brief", "build", BRIEF, "--dry-run", "--json"])
    expect(dry.code).toBe(0)
    const dryDigest = (dry.json()["builds"] as Array<{ digest: string }>)[0]!.digest
    expect(existsSync(path.join(project.dir, ".alloy", "refs", "briefs", BRIEF))).toBe(false)

    const build = await cli(["brief", "build", BRIEF])
    expect(build.code, build.err).toBe(0)
    const digest = readFileSync(path.join(project.dir, ".alloy", "refs", "briefs", BRIEF), "utf8").trim()
    expect(digest).toBe(dryDigest)
    expect(build.out).toContain(`${BRIEF} @ ${digest} (first build)`)
    const object = path.join(project.dir, ".alloy", "objects", "sha256", `${digest.slice(7)}.json`)
    expect(createHash("sha256").update(readFileSync(object)).digest("hex")).toBe(digest.slice(7))
    expect((await cli(["brief", "build", BRIEF])).out).toContain("(unchanged)")

    const pin = await cli(["pin", CYCLE, BRIEF])
    expect(pin.code, pin.err).toBe(0)
    const cycleAfter = readFileSync(cyclePath, "utf8")
    expect(cycleAfter).toContain(`digest: "${digest}"`)
    // only the pin line changed
    expect(cycleAfter.split("\n").filter((l, i) => l !== cycleBefore.split("\n")[i])).toHaveLength(1)

    const verify = await cli(["verify"])
    expect(verify.code, verify.out).toBe(0)
    expect(verify.out).toContain(`ok      cycle ${CYCLE}: ${BRIEF} @ ${digest}`)

    const status = (await cli(["status", "--json"])).json() as { briefs: Array<Record<string, unknown>>; unpinned_cycles: string[]; intents: Array<{ id: string; briefs: string[] }> }
    const b = status.briefs.find((x) => x["id"] === BRIEF)!
    expect(b["digest"]).toBe(digest)
    expect(b["needs_build"]).toBe(false)
    expect(b["pins"]).toEqual([{ kind: "cycle", id: CYCLE, file: `foundry/cycles/${CYCLE}.md`, brief_id: BRIEF, digest, state: "current" }])
    expect(status.intents.find((i) => i.id === BRIEF)!.briefs).toEqual([BRIEF])
    expect(status.unpinned_cycles).toEqual(["condense-changelog-entry"])
    const text = await cli(["status"])
    expect(text.out).toMatch(/release-note-voice {2}sha256:[0-9a-f]{12}… {2}up to date/)
    expect(text.out).toContain(`pinned by cycle ${CYCLE} (foundry/cycles/${CYCLE}.md)`)

    const bs = await cli(["brief", "show", BRIEF])
    expect(bs.out).toContain(`build: ${digest} (up to date)`)
  })

  it("a changed intent gives a new digest; the pin is behind until re-pinned", async () => {
    project = makeProject("alloy-cli-")
    await cli(["intent", "new", BRIEF, "--from", path.relative(project.dir, INTENT_SRC)])
    await cli(["brief", "new", BRIEF, "--intent", BRIEF, "--cycle", CYCLE])
    await cli(["brief", "build", BRIEF])
    await cli(["pin", CYCLE, BRIEF])
    const first = readFileSync(path.join(project.dir, ".alloy", "refs", "briefs", BRIEF), "utf8").trim()

    const file = path.join(project.dir, ".alloy", "intents", `${BRIEF}.md`)
    writeFileSync(file, readFileSync(file, "utf8").replace("at most 150 words", "at most 120 words"))
    let s = (await cli(["status", "--json"])).json() as { briefs: Array<{ needs_build: boolean; source_digest: string }> }
    expect(s.briefs[0]!.needs_build).toBe(true)
    expect((await cli(["status"])).out).toContain("sources changed since the last build")
    // status names the command to run, with the brief, not a template
    expect((await cli(["status"])).out).toContain(`1 brief changed since the last build: \`opencode-alloy brief build ${BRIEF}\``)

    const rebuilt = await cli(["brief", "build", BRIEF])
    const second = readFileSync(path.join(project.dir, ".alloy", "refs", "briefs", BRIEF), "utf8").trim()
    expect(second).not.toBe(first)
    expect(rebuilt.out).toContain(`(was ${first})`)
    expect(existsSync(path.join(project.dir, ".alloy", "objects", "sha256", `${first.slice(7)}.json`))).toBe(true) // old objects stay

    s = (await cli(["status", "--json"])).json() as never
    const pins = (s as unknown as { briefs: Array<{ pins: Array<{ state: string; digest: string }> }> }).briefs[0]!.pins
    expect(pins).toMatchObject([{ state: "behind", digest: first }])
    expect((await cli(["status"])).out).toContain("BEHIND")
    expect((await cli(["verify"])).code).toBe(0) // still resolves exactly what it pinned
    expect((await cli(["verify", "--strict"])).code).toBe(1)

    expect((await cli(["pin", CYCLE, BRIEF])).code).toBe(0)
    s = (await cli(["status", "--json"])).json() as never
    expect((s as unknown as { briefs: Array<{ pins: Array<{ state: string; digest: string }> }> }).briefs[0]!.pins).toMatchObject([{ state: "current", digest: second }])
  })
})

describe("CLI: lint, strict and dry runs", () => {
  it("brief build --strict fails on warnings and writes nothing; without it the warnings are printed", async () => {
    project = makeProject("alloy-cli-")
    const vague = readFileSync(INTENT_SRC, "utf8").replace("The note is saved as one Markdown file under release-notes/.", "The note looks nice.")
    writeFileSync(path.join(path.dirname(project.dir), "vague.md"), vague)
    expect((await cli(["intent", "new", BRIEF, "--from", "../vague.md"])).code).toBe(0)
    expect((await cli(["brief", "new", BRIEF, "--intent", BRIEF, "--cycle", CYCLE])).code).toBe(0)
    const before = snapshotTree(project.dir)

    const strict = await cli(["brief", "build", BRIEF, "--strict"])
    expect(strict.code).toBe(1)
    expect(strict.err).toContain("[criterion_vague] .alloy/intents/release-note-voice.md acceptance_criteria[4].text")
    expect(strict.err).toContain("nothing was written")
    const sj = await cli(["brief", "build", BRIEF, "--strict", "--json"])
    expect(sj.code).toBe(1)
    expect(sj.json()).toMatchObject({ ok: false, code: "lint_failed" })
    expect(snapshotTree(project.dir)).toEqual(before)

    const dry = await cli(["brief", "build", BRIEF, "--dry-run"])
    expect(dry.code).toBe(0)
    expect(dry.out).toMatch(/dry run: nothing written/)
    expect(snapshotTree(project.dir)).toEqual(before)

    const lint = await cli(["intent", "lint"])
    expect(lint.code).toBe(0)
    expect(lint.out).toContain("1 intent and 1 brief checked: 0 errors, 1 warning")

    const plain = await cli(["brief", "build", BRIEF])
    expect(plain.code).toBe(0)
    expect(plain.err).toContain("[criterion_vague]")
    expect(plain.out).toMatch(/release-note-voice @ sha256:[0-9a-f]{64} \(first build\)/)
  })

  it("reports clashing constraints between two intents of one brief", async () => {
    project = makeProject("alloy-cli-")
    const other = `---\nid: long-form\ntitle: Long form\nstatus: active\ngoal: Notes explain every change.\nconstraints:\n  - Every note is at least 300 words.\nacceptance_criteria:\n  - id: AC-1\n    text: The note has 300 words or more.\n    evidence: {kind: law}\n---\n`
    writeFileSync(path.join(path.dirname(project.dir), "long-form.md"), other)
    await cli(["intent", "new", BRIEF, "--from", path.relative(project.dir, INTENT_SRC)])
    await cli(["intent", "new", "long-form", "--from", "../long-form.md"])
    expect((await cli(["brief", "new", "both", "--intent", BRIEF, "--intent", "long-form"])).code).toBe(0)
    const lint = await cli(["intent", "lint", "--json"])
    const entries = lint.json()["entries"] as Array<{ kind: string; id: string; warnings: Array<{ code: string; message: string }> }>
    const brief = entries.find((e) => e.kind === "brief" && e.id === "both")!
    expect(brief.warnings.map((w) => w.code)).toContain("constraint_clash")
    expect(brief.warnings.find((w) => w.code === "constraint_clash")!.message).toContain('no value satisfies both "at most 150 words" and "at least 300 words"')
  })

  it("reports a hand-edited recipe that names a cycle Foundry does not have", async () => {
    project = makeProject("alloy-cli-")
    await cli(["intent", "new", BRIEF, "--from", path.relative(project.dir, INTENT_SRC)])
    writeFileSync(path.join(project.dir, ".alloy", "briefs", "typo.md"), `---\nid: typo\nintents: [${BRIEF}]\nformation: { flow: release-notes, cycles: [draft-releese-note] }\n---\n`)
    const lint = await cli(["intent", "lint"])
    expect(lint.code).toBe(0)
    expect(lint.out).toContain("warning [formation_unknown] .alloy/briefs/typo.md formation.cycles[0]: brief typo names cycle draft-releese-note")
    expect((await cli(["intent", "lint", "--strict"])).code).toBe(1)
    expect((await cli(["brief", "build", "typo", "--strict"])).code).toBe(1)
  })
})

describe("CLI: errors", () => {
  it("gives stable codes and exit codes, and writes nothing", async () => {
    project = makeProject("alloy-cli-")
    const before = snapshotTree(project.dir)
    const bad = await cli(["intent", "new", "../escape", "--json"])
    expect(bad.code).toBe(2)
    expect(bad.json()).toMatchObject({ ok: false, code: "invalid_id" })
    expect((await cli(["intent", "new"])).code).toBe(2)
    expect((await cli(["intent", "frobnicate"])).code).toBe(2)
    expect((await cli(["intent", "new", "x", "--from", "does-not-exist.md"])).code).toBe(2)
    expect((await cli(["brief", "new", "x"])).code).toBe(2)
    const missing = await cli(["brief", "new", "x", "--intent", "nope", "--json"])
    expect(missing.json()).toMatchObject({ ok: false, code: "intent_not_found" })
    expect(String(missing.json()["error"])).toContain("intent nope does not exist")
    expect(snapshotTree(project.dir)).toEqual(before)

    await cli(["intent", "new", BRIEF, "--from", path.relative(project.dir, INTENT_SRC)])
    const again = await cli(["intent", "new", BRIEF, "--json"])
    expect(again.json()).toMatchObject({ ok: false, code: "already_exists" })
    const cyc = await cli(["brief", "new", "x", "--intent", BRIEF, "--cycle", "no-such-cycle", "--json"])
    expect(cyc.json()).toMatchObject({ ok: false, code: "invalid_recipe" })
    expect(String(cyc.json()["error"])).toContain("cycle no-such-cycle is not in foundry/cycles/")
    const nb = await cli(["brief", "build", "nope", "--json"])
    expect(nb.json()).toMatchObject({ ok: false, code: "brief_not_found" })
  })

  it("help lists the authoring commands", async () => {
    const h = await cli(["--help"], process.cwd())
    for (const s of ["intent new <id>", "intent lint", "brief new <id> --intent", "brief build <id>... | --all [--strict] [--dry-run]", "status [--json]", "demo [--keep]"]) expect(h.out).toContain(s)
  })
})

describe("CLI: Foundry flow branches", () => {
  for (const branch of ["work/release-notes-x", "dry-run/config-alloy/release-notes-try"]) {
    it(`refuses every write on ${branch} with work_branch, and still reads`, async () => {
      project = makeProject("alloy-cli-")
      await cli(["intent", "new", BRIEF, "--from", path.relative(project.dir, INTENT_SRC)])
      await cli(["brief", "new", BRIEF, "--intent", BRIEF, "--cycle", CYCLE])
      gitInitCommitAll(project.dir, "base")
      git(project.dir, ["checkout", "-q", "-b", branch])
      const before = snapshotTree(project.dir)
      const writes = [
        ["init"],
        ["intent", "new", "another"],
        ["intent", "new", "another", "--from", path.relative(project.dir, INTENT_SRC)],
        ["brief", "new", "another", "--intent", BRIEF],
        ["brief", "build", BRIEF],
        ["pin", CYCLE, BRIEF],
      ]
      for (const argv of writes) {
        const r = await cli([...argv, "--json"])
        expect(r.code, argv.join(" ")).toBe(2)
        expect(r.json(), argv.join(" ")).toMatchObject({ ok: false, code: "work_branch" })
        expect(String(r.json()["error"])).toContain(branch)
        expect(String(r.json()["fix"])).toMatch(/base branch.*config\/\*/)
      }
      expect(snapshotTree(project.dir)).toEqual(before)
      for (const argv of [["status"], ["intent", "list"], ["intent", "lint"], ["brief", "show", BRIEF], ["brief", "build", BRIEF, "--dry-run"]]) {
        expect((await cli(argv)).code, argv.join(" ")).toBe(0)
      }
      expect((await cli(["status"])).out).toContain(`branch ${branch} (a Foundry flow branch`)
      expect(snapshotTree(project.dir)).toEqual(before)
    })
  }
})
