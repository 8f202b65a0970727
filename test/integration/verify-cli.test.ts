import { beforeAll, describe, expect, it } from "vitest"
import { readFileSync, rmSync, writeFileSync, existsSync } from "node:fs"
import { execFileSync, spawnSync } from "node:child_process"
import path from "node:path"
import { flipByte, makeProject, REPO_ROOT, type PinnedProject, scratch, setAlloyLine } from "../helpers/project.js"
import { BIN, runCli } from "../helpers/cli.js"
import { git, gitInitCommitAll } from "../helpers/git.js"

const tmp = scratch()

const CYCLE = "foundry/cycles/draft-release-note.md"
describe("opencode-alloy verify", () => {
  it("passes on a freshly pinned project (exit 0) and reports JSON", async () => {
    const p = await tmp.pinned()
    const r = await runCli(p.dir, "verify")
    expect(r.code).toBe(0)
    expect(r.out).toContain(`ok      cycle draft-release-note: release-note-voice @ ${p.digest}`)
    expect(r.out).toContain("1 pin checked: 1 ok, 0 stale, 0 failed; 1 cycle(s) without a pin")
    const j = await runCli(p.dir, "verify", "--json")
    expect(JSON.parse(j.out)).toMatchObject({ ok: true, checked: 1, failed: 0, unpinned: ["condense-changelog-entry"] })
  })

  const failures: Array<[string, (p: PinnedProject) => void, string, RegExp, RegExp]> = [
    ["one flipped byte in the object", (p) => flipByte(p.objectPath, 42), "digest_mismatch", /does not hash to the pinned digest/, /rebuild|restore/],
    ["the object deleted", (p) => rmSync(p.objectPath), "object_missing", /is missing/, /git checkout -- \.alloy\/objects\/sha256\//],
    [
      "a wrong digest pinned",
      (p) => setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: release-note-voice, digest: "sha256:${"1".repeat(64)}" }`),
      "object_missing",
      /sha256:1111/,
      /opencode-alloy pin draft-release-note release-note-voice/,
    ],
    ["brief_id ../x", (p) => setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: ../x, digest: "sha256:${"1".repeat(64)}" }`), "invalid_id", /alloy\.brief_id/, /opencode-alloy pin draft-release-note/],
    ["a malformed alloy block", (p) => setAlloyLine(p.dir, p.cycle, "alloy: [release-note-voice]"), "malformed", /key `alloy` must be a mapping/, /opencode-alloy pin draft-release-note/],
    [
      "a digest that is not a digest",
      (p) => setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: release-note-voice, digest: "sha256:TBD" }`),
      "invalid_digest",
      /alloy\.digest/,
      /opencode-alloy pin draft-release-note release-note-voice/,
    ],
  ]
  for (const [name, mutate, code, problem, fix] of failures) {
    it(`exits 1 naming the cycle, the problem and the fix: ${name}`, async () => {
      const p = await tmp.pinned()
      mutate(p)
      const r = await runCli(p.dir, "verify")
      expect(r.code).toBe(1)
      const line = r.out.split("\n").find((l) => l.startsWith("FAIL"))!
      expect(line).toMatch(/^FAIL +cycle draft-release-note[ :]/)
      expect(line).toContain(`[${code}]`)
      expect(line.match(/cycle draft-release-note/g)).toHaveLength(1)
      expect(line).toMatch(problem)
      const fixLine = r.out.split("\n").find((l) => l.trim().startsWith("fix:"))!
      expect(fixLine).toMatch(fix)
      const j = JSON.parse((await runCli(p.dir, "verify", "--json")).out)
      expect(j.ok).toBe(false)
      expect(j.pins[0]).toMatchObject({ id: "draft-release-note", status: "error", code })
    })
  }

  it("fails when a cycle in a brief's formation lost its pin (e.g. a config rebuild dropped the block)", async () => {
    const p = await tmp.pinned()
    const f = path.join(p.dir, CYCLE)
    writeFileSync(f, readFileSync(f, "utf8").replace(/^alloy:.*\n/m, ""))
    const r = await runCli(p.dir, "verify")
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^FAIL +cycle draft-release-note \(foundry\/cycles\/draft-release-note\.md\) is in the formation of brief release-note-voice .*\[not_pinned\]$/m)
    expect(r.out).toContain("fix: opencode-alloy pin draft-release-note release-note-voice")
    // pinned through its flow instead: satisfied
    expect((await runCli(p.dir, "pin", "--flow", "release-notes", "release-note-voice")).code).toBe(0)
    expect((await runCli(p.dir, "verify")).code).toBe(0)
  })

  it("treats a stale pin as ok, and as a failure with --strict", async () => {
    const p = await tmp.pinned()
    const f = path.join(p.dir, ".alloy/intents/release-note-voice.md")
    writeFileSync(f, readFileSync(f, "utf8").replace("mostly on phones", "mostly on small phones"))
    expect((await runCli(p.dir, "brief", "build", "release-note-voice")).code).toBe(0)
    const r = await runCli(p.dir, "verify")
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^stale +cycle draft-release-note/m)
    expect((await runCli(p.dir, "verify", "--strict")).code).toBe(1)
  })

  it("verifies a flow-level pin, and exits 2 outside a Foundry project or on bad usage", async () => {
    const p = await tmp.pinned()
    expect((await runCli(p.dir, "pin", "--flow", "release-notes", "release-note-voice")).code).toBe(0)
    const r = await runCli(p.dir, "verify", "--json")
    expect(JSON.parse(r.out).pins.map((x: { kind: string; status: string }) => `${x.kind}:${x.status}`)).toEqual(["cycle:ok", "flow:ok"])
    const outside = await runCli(path.join(p.dir, "release-notes"), "verify")
    expect(outside.code).toBe(2)
    expect(outside.err).toContain("there is no foundry/ folder here")
    expect((await runCli(p.dir, "verify", "--nope")).code).toBe(2)
    expect((await runCli(p.dir, "frobnicate")).code).toBe(2)
  })
})

describe("opencode-alloy pin", () => {
  it("writes the alloy block keeping every other byte, and is idempotent", async () => {
    const p = makeProject()
    tmp.defer(p.cleanup)
    const before = readFileSync(path.join(p.dir, CYCLE), "utf8")
    expect((await runCli(p.dir, "init")).code).toBe(0)
    const { writeExampleSources } = await import("../helpers/project.js")
    writeExampleSources(p.dir)
    const b = await runCli(p.dir, "brief", "build", "release-note-voice", "--json")
    const digest = JSON.parse(b.out).builds[0].digest as string
    const r = await runCli(p.dir, "pin", "draft-release-note", "release-note-voice")
    expect(r.code).toBe(0)
    expect(r.out).toContain(`Pinned release-note-voice @ ${digest}`)
    const after = readFileSync(path.join(p.dir, CYCLE), "utf8")
    expect(after).toBe(before.replace('digest: "sha256:TBD"', `digest: "${digest}"`))
    const again = await runCli(p.dir, "pin", "draft-release-note", "release-note-voice")
    expect(again.out).toContain("nothing changed")
    expect(readFileSync(path.join(p.dir, CYCLE), "utf8")).toBe(after)
  })

  it("refuses on a Foundry work/* branch with a clear message, writing nothing", async () => {
    const p = await tmp.pinned()
    gitInitCommitAll(p.dir, "base")
    git(p.dir, ["checkout", "-qb", "work/release-notes-checkout"])
    const before = readFileSync(path.join(p.dir, CYCLE), "utf8")
    const r = await runCli(p.dir, "pin", "draft-release-note", "release-note-voice")
    expect(r.code).toBe(2)
    expect(r.err).toContain("Foundry flow branch 'work/release-notes-checkout'")
    expect(r.err).toMatch(/fix: switch to the base branch .*config\/\*/)
    expect(readFileSync(path.join(p.dir, CYCLE), "utf8")).toBe(before)
  })

  it("refuses to pin a brief that does not verify", async () => {
    const p = await tmp.pinned()
    flipByte(p.objectPath, 3)
    const r = await runCli(p.dir, "pin", "draft-release-note", "release-note-voice")
    expect(r.code).toBe(1)
    expect(r.err).toContain("does not hash to the pinned digest")
  })
})

describe("the built binary", () => {
  beforeAll(() => {
    if (!existsSync(BIN)) execFileSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: "ignore" })
  })
  it("runs verify as CI would: exit codes 0 and 1, no stack trace", async () => {
    const p = await tmp.pinned()
    const ok = spawnSync(process.execPath, [BIN, "verify"], { cwd: p.dir, encoding: "utf8", timeout: 20000 })
    expect(ok.status).toBe(0)
    flipByte(p.objectPath, 7)
    const bad = spawnSync(process.execPath, [BIN, "verify", "--json"], { cwd: p.dir, encoding: "utf8", timeout: 20000 })
    expect(bad.status).toBe(1)
    expect(JSON.parse(bad.stdout).pins[0].code).toBe("digest_mismatch")
    const usage = spawnSync(process.execPath, [BIN, "pin", "../../x"], { cwd: p.dir, encoding: "utf8", timeout: 20000 })
    expect(usage.status).toBe(2)
    expect(usage.stderr).not.toMatch(/\n\s+at /)
  })
})

describe("Foundry version", () => {
  it("verify warns (but passes) when foundry/VERSION is a protocol Alloy does not know; 3.6 and 3.7 are known", async () => {
    const p = await tmp.pinned()
    writeFileSync(path.join(p.dir, "foundry", "VERSION"), "3.9.0")
    const r = await runCli(p.dir, "verify")
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^warning foundry\/VERSION is "3\.9\.0"; Alloy knows Foundry 3\.6, 3\.7 and the foundry_run era/m)
    for (const v of ["3.6.2", "3.7.0"]) {
      writeFileSync(path.join(p.dir, "foundry", "VERSION"), v)
      expect((await runCli(p.dir, "verify")).out).not.toContain("warning")
    }
  })
})
