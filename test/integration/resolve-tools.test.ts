import { describe, expect, it } from "vitest"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { flipByte, makeProject, writeExampleSources, type PinnedProject, scratch, setAlloyLine } from "../helpers/project.js"
import { loadPlugin } from "../helpers/plugin.js"
import { buildBrief } from "../../src/service/build.js"

const tmp = scratch()

describe("resolver tools through the plugin entry", () => {
  it("registers the three resolver tools with described arguments", async () => {
    const p = await tmp.pinned()
    const plugin = await loadPlugin(p.dir)
    for (const name of ["alloy_brief_resolve", "alloy_prompt_pack_resolve", "alloy_gate_overlay_resolve"]) {
      const def = plugin.hooks.tool?.[name]
      expect(def, name).toBeDefined()
      expect(def!.description.length).toBeGreaterThan(80)
      for (const arg of ["brief_id", "digest", "cycle"]) expect((def!.args[arg] as { description?: string } | undefined)?.description, `${name}.${arg}`).toBeTruthy()
    }
  })

  it("alloy_brief_resolve by cycle and by explicit pin returns the verified brief", async () => {
    const p = await tmp.pinned()
    const plugin = await loadPlugin(p.dir)
    const byCycle = await plugin.tool("alloy_brief_resolve", { cycle: "draft-release-note" })
    expect(byCycle.json).toMatchObject({ ok: true, brief_id: p.briefId, digest: p.digest, verified: true, stale: false })
    expect(byCycle.json["pinned_by"]).toEqual({ kind: "cycle", id: "draft-release-note", file: "foundry/cycles/draft-release-note.md" })
    expect(byCycle.json["text"]).toMatch(/^# Formation Brief: Customer-facing release notes/)
    const intents = byCycle.json["intents"] as Array<{ acceptance_criteria: Array<{ ref: string }> }>
    expect(intents[0]!.acceptance_criteria.map((c) => c.ref)).toEqual(["AC-1", "AC-2", "AC-3", "AC-4", "AC-5"].map((a) => `release-note-voice#${a}`))
    const explicit = await plugin.tool("alloy_brief_resolve", { brief_id: p.briefId, digest: p.digest })
    expect(explicit.json["text"]).toBe(byCycle.json["text"])
    expect(explicit.json["pinned_by"]).toEqual({ kind: "explicit" })
  })

  it("alloy_prompt_pack_resolve accepts a base stage and Foundry's <base>:<alias> form", async () => {
    const p = await tmp.pinned()
    const plugin = await loadPlugin(p.dir)
    const forge = await plugin.tool("alloy_prompt_pack_resolve", { cycle: "draft-release-note", stage: "forge:draft-release-note" })
    expect(forge.json).toMatchObject({ ok: true, stage: "forge:draft-release-note", pack: "forge" })
    expect(forge.json["text"]).toContain("Acceptance criteria you must meet")
    expect(forge.json["text"]).toContain("translate every engineering term")
    const appraise = await plugin.tool("alloy_prompt_pack_resolve", { brief_id: p.briefId, digest: p.digest, stage: "appraise" })
    expect(appraise.json["text"]).toContain("## alloy--release-note-voice--ac-2")
    expect(appraise.json["text"]).toMatch(/Passing: .*\n\nFailing: /)
    const human = await plugin.tool("alloy_prompt_pack_resolve", { cycle: "draft-release-note", stage: "human-appraise:draft-release-note" })
    expect(human.json["text"]).toContain("- [ ] **release-note-voice#AC-4**")
    const bad = await plugin.tool("alloy_prompt_pack_resolve", { cycle: "draft-release-note", stage: "polish" })
    expect(bad.json).toMatchObject({ ok: false, code: "invalid_stage" })
  })

  it("alloy_gate_overlay_resolve lists gates with the criterion each proves, filtered by stage", async () => {
    const p = await tmp.pinned()
    const plugin = await loadPlugin(p.dir)
    const all = await plugin.tool("alloy_gate_overlay_resolve", { cycle: "draft-release-note" })
    const gates = all.json["gates"] as Array<Record<string, string>>
    expect(gates.map((g) => [g["kind"], g["criterion"]])).toEqual([
      ["check", "release-note-voice#AC-1"],
      ["law", "release-note-voice#AC-2"],
      ["law", "release-note-voice#AC-3"],
      ["human", "release-note-voice#AC-4"],
      ["artefact", "release-note-voice#AC-5"],
    ])
    expect(gates[0]!["command"]).toContain("word-limit.mjs")
    expect(gates[1]!["law_id"]).toBe("alloy--release-note-voice--ac-2")
    const appraise = await plugin.tool("alloy_gate_overlay_resolve", { cycle: "draft-release-note", stage: "appraise:draft-release-note" })
    expect((appraise.json["gates"] as unknown[]).length).toBe(2)
  })

  it("reports stale with the newer digest when the brief was rebuilt after pinning", async () => {
    const p = await tmp.pinned()
    const f = path.join(p.dir, ".alloy/intents/release-note-voice.md")
    writeFileSync(f, readFileSync(f, "utf8").replace("mostly on phones", "mostly on phones and tablets"))
    const rebuilt = buildBrief(p.ctx, p.briefId)
    expect(rebuilt.digest).not.toBe(p.digest)
    const plugin = await loadPlugin(p.dir)
    const r = await plugin.tool("alloy_brief_resolve", { cycle: "draft-release-note" })
    expect(r.json).toMatchObject({ ok: true, digest: p.digest, stale: true, current_digest: rebuilt.digest })
  })

  describe("fails closed with a stable code", () => {
    const cases: Array<[string, (p: PinnedProject) => void, Record<string, unknown> | undefined, string, RegExp]> = [
      ["a flipped byte in the object", (p) => flipByte(p.objectPath, 100), undefined, "digest_mismatch", /does not hash to the pinned digest/],
      ["the object deleted", (p) => rmSync(p.objectPath), undefined, "object_missing", /is missing/],
      ["a wrong digest pinned", (p) => setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: release-note-voice, digest: "sha256:${"0".repeat(64)}" }`), undefined, "object_missing", /missing/],
      ["brief_id ../x", (p) => setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: ../x, digest: "sha256:${"0".repeat(64)}" }`), undefined, "invalid_id", /never a path|not a brief id/],
      ["a malformed block", (p) => setAlloyLine(p.dir, p.cycle, "alloy: 42"), undefined, "malformed", /must be a mapping/],
      ["the placeholder digest", (p) => setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: release-note-voice, digest: "sha256:TBD" }`), undefined, "invalid_digest", /sha256:TBD/],
      ["an unknown brief", (p) => setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: nope, digest: "sha256:${"0".repeat(64)}" }`), undefined, "brief_not_found", /does not exist/],
      [
        "a digest of another brief",
        (p) => setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: other, digest: "${p.digest}" }`),
        undefined,
        "brief_id_mismatch",
        /is a build of brief "release-note-voice"/,
      ],
      ["an unpinned cycle", () => undefined, { cycle: "condense-changelog-entry" }, "not_pinned", /has no `alloy` block/],
      ["an explicit bad digest", () => undefined, { brief_id: "release-note-voice", digest: "sha256:xyz" }, "invalid_digest", /not a digest/],
      ["an explicit path as brief id", () => undefined, { brief_id: "../../etc/passwd", digest: `sha256:${"0".repeat(64)}` }, "invalid_id", /never paths/],
      ["no arguments", () => undefined, {}, "usage", /name a pin/],
    ]
    for (const [name, mutate, args, code, re] of cases) {
      it(name, async () => {
        const p = await tmp.pinned()
        mutate(p)
        const plugin = await loadPlugin(p.dir)
        for (const tool of ["alloy_brief_resolve", "alloy_prompt_pack_resolve", "alloy_gate_overlay_resolve"]) {
          const r = await plugin.tool(tool, { ...(args ?? { cycle: "draft-release-note" }), ...(tool === "alloy_prompt_pack_resolve" ? { stage: "forge" } : {}) })
          expect(r.json, tool).toMatchObject({ ok: false, code })
          expect(r.json["error"]).toMatch(re)
          expect(r.json["error"]).toMatch(new RegExp(`^${tool}: `))
          expect(r.json).not.toHaveProperty("text")
          expect(r.text).not.toMatch(/\n\s+at /) // no stack trace
        }
      })
    }
  })

  it("works before .alloy exists: a clear not_pinned / object_missing error", async () => {
    const p = makeProject()
    tmp.defer(p.cleanup)
    const plugin = await loadPlugin(p.dir)
    const r = await plugin.tool("alloy_brief_resolve", { cycle: "draft-release-note" })
    expect(r.json).toMatchObject({ ok: false, code: "invalid_digest" })
    writeExampleSources(p.dir)
    const r2 = await plugin.tool("alloy_brief_resolve", { brief_id: "release-note-voice" })
    expect(r2.json).toMatchObject({ ok: false, code: "not_pinned" })
  })
})
