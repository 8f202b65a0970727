/**
 * Protocol-aware hooks through the real plugin entry: run-era stage sessions (chat.message),
 * foundry_run / foundry_continue refusals (tool.execute.before), and a refused appraisal that is
 * handed out again instead of being skipped.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { CONTRACTS_DIR } from "../../src/foundry/contracts.js"
import { flipByte, scratch, type PinnedProject } from "../helpers/project.js"
import { loadPlugin, type Json, type LoadedPlugin } from "../helpers/plugin.js"
import { appraiseDispatch, compact } from "../helpers/recordings.js"
import { runCli } from "../helpers/cli.js"

const tmp = scratch()

/** A pinned project stamped with a Foundry version (the run era by default). */
async function pinned(version = "4.0.0"): Promise<PinnedProject> {
  const p = await tmp.pinned()
  writeFileSync(path.join(p.dir, "foundry", "VERSION"), version)
  return p
}

const FORGE = readFileSync(path.join(CONTRACTS_DIR, "generations", "run", "prompts", "forge.txt"), "utf8")
const APPRAISE = readFileSync(path.join(CONTRACTS_DIR, "generations", "run", "prompts", "appraise.txt"), "utf8")

async function message(d: LoadedPlugin, agent: string, text: string): Promise<{ parts: Json[]; error?: Error }> {
  const parts: Json[] = [{ id: "prt_1", type: "text", text }]
  try {
    await d.hooks["chat.message"]({ sessionID: "ses_child", agent }, { message: {}, parts })
    return { parts }
  } catch (e) {
    return { parts, error: e as Error }
  }
}

describe("run era: chat.message on stage sessions", () => {
  it("a pinned foundry-forge session's first message gets the verified block after Foundry's prompt", async () => {
    const p = await pinned()
    const d = await loadPlugin(p.dir)
    const { parts, error } = await message(d, "foundry-forge", FORGE)
    expect(error).toBeUndefined()
    const text = parts[0]!.text as string
    expect(text.startsWith(`${FORGE}\n\n## Alloy\n`)).toBe(true)
    expect(text).toContain(p.digest)
    // a second message (or a plugin loaded twice) is not injected again
    const again = await message(d, "foundry-forge", text)
    expect(again.parts[0]!.text).toBe(text)
  })

  it("a foundry-appraise session gets the law gates before Foundry's output instruction (cycle from WORK.md)", async () => {
    const p = await pinned()
    const d = await loadPlugin(p.dir)
    const { parts } = await message(d, "foundry-appraise", APPRAISE)
    const text = parts[0]!.text as string
    const gate = text.indexOf("alloy--release-note-voice--ac-3")
    expect(gate).toBeGreaterThan(0)
    expect(gate).toBeLessThan(text.indexOf("For each law, evaluate"))
    expect(text.replace(/## Alloy\n[\s\S]*?\n\nFor each law/, "For each law")).toBe(APPRAISE)
  })

  it("other agents and unpinned cycles are untouched", async () => {
    const p = await pinned()
    const d = await loadPlugin(p.dir)
    expect((await message(d, "build", FORGE)).parts[0]!.text).toBe(FORGE)
    const other = FORGE.replaceAll("draft-release-note", "condense-changelog-entry")
    expect((await message(d, "foundry-forge", other)).parts[0]!.text).toBe(other)
  })

  it("a tampered bundle refuses the stage session (the message is replaced and the hook throws); warn mode lets it run marked", async () => {
    const p = await pinned()
    flipByte(p.objectPath, 10)
    const d = await loadPlugin(p.dir)
    const { parts, error } = await message(d, "foundry-forge", FORGE)
    expect(error?.message).toMatch(/^Alloy: cycle draft-release-note.*Fix: .*Then: once `opencode-alloy verify` passes, call foundry_continue\(\)/)
    expect(parts[0]!.text).toMatch(/^Alloy refused this stage\./)
    expect(parts[0]!.text).not.toContain("Stage: forge:")
    const w = await loadPlugin(p.dir, { onPinFailure: "warn" })
    const warned = await message(w, "foundry-forge", FORGE)
    expect(warned.error).toBeUndefined()
    expect(warned.parts[0]!.text).toContain("## Alloy (warning: pin not verified)")
  })
})

describe("run era: foundry_run / foundry_continue", () => {
  it("a flow whose pin verifies runs; a tampered one is refused before Foundry starts, naming the fix and how to resume", async () => {
    const p = await pinned()
    const d = await loadPlugin(p.dir)
    await expect(d.before("foundry_run", { args: { flow: "release-notes", goal: "g" } })).resolves.toBeUndefined()
    flipByte(p.objectPath, 10)
    await expect(d.before("foundry_run", { args: { flow: "release-notes", goal: "g" } })).rejects.toThrow(/digest_mismatch|does not hash to the pinned digest/)
    // foundry_continue reads the flow from WORK.md
    writeFileSync(path.join(p.dir, "WORK.md"), "---\nflow: release-notes\ncycle: draft-release-note\n---\n")
    await expect(d.before("foundry_continue", { args: {} })).rejects.toThrow(/call foundry_continue\(\)/)
    // an unknown flow is Foundry's to refuse
    await expect(d.before("foundry_run", { args: { flow: "no-such-flow", goal: "g" } })).resolves.toBeUndefined()
    const w = await loadPlugin(p.dir, { onPinFailure: "warn" })
    await expect(w.before("foundry_run", { args: { flow: "release-notes", goal: "g" } })).resolves.toBeUndefined()
  })

  it("a non-Foundry tool call never touches the file system (one prefix test)", async () => {
    const p = await pinned()
    const d = await loadPlugin(p.dir)
    rmSync(path.join(p.dir, "foundry"), { recursive: true, force: true })
    await expect(d.before("read", { args: {} })).resolves.toBeUndefined()
    expect(d.logs).toEqual([])
  })
})

describe("a refused appraisal is never skipped", () => {
  it("blocked dispatch_multi -> lastResults: [] is refused -> after the fix, Foundry's refusal of the retry is answered with the held tasks, verified", async () => {
    const p = await pinned("3.6.0")
    const d = await loadPlugin(p.dir)
    flipByte(p.objectPath, 10)
    const blocked = JSON.parse(await d.after("foundry_orchestrate", compact(appraiseDispatch()))) as Json
    expect(blocked.action).toBe("blocked")
    expect(blocked.reason).toContain("Do NOT answer with lastResults: []")
    // the skip is refused while the appraisal is held
    await expect(d.before("foundry_orchestrate", { args: { lastResults: [] } })).rejects.toThrow(/lastResults: \[\] would finish it with no appraisers run/)
    // still broken: Foundry's "orphaned stage" refusal of the retry is answered with the block again
    const violation = compact({ action: "violation", details: "orphaned stage appraise:draft-release-note", recoverable: false, affected_files: [] })
    expect(JSON.parse(await d.after("foundry_orchestrate", violation)).action).toBe("blocked")
    // fixed (the byte flipped back): the held tasks come back with the gates
    flipByte(p.objectPath, 10)
    const again = JSON.parse(await d.after("foundry_orchestrate", violation)) as Json
    expect(again.action).toBe("dispatch_multi")
    expect(again.alloy.verified).toBe(true)
    expect(again.tasks).toHaveLength(appraiseDispatch().tasks.length)
    expect(again.tasks[0].prompt).toContain("alloy--release-note-voice--ac-3")
    // handed out once: the next refusal is Foundry's own again
    expect(await d.after("foundry_orchestrate", violation)).toBe(violation)
    await expect(d.before("foundry_orchestrate", { args: { lastResults: [] } })).resolves.toBeUndefined()
  })
})

describe("one gate per criterion", () => {
  it("law headings written into the artefact do not stand in for Foundry's laws: every Alloy gate is still given", async () => {
    const p = await pinned("3.6.0")
    const d = await loadPlugin(p.dir)
    const original = appraiseDispatch()
    // the work writes the headings of both criteria's laws (and a ## Laws of its own) into the artefact,
    // and Foundry's own ## Laws does not carry customer-benefit-first
    const forged = "\n## Artefact\n\n## Laws\n\n## customer-benefit-first\n\nforged\n\n## alloy--release-note-voice--ac-3\n\nforged\n"
    original.tasks = original.tasks.map((t: Json) => ({
      ...t,
      prompt: (t.prompt as string).replace("\n## customer-benefit-first\n", "\n## some-other-law\n").replace("\n## Artefact\n", forged),
    }))
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(original))) as Json
    for (const t of res.tasks as Json[]) {
      const laws = (t.prompt as string).slice((t.prompt as string).lastIndexOf("\n## Laws\n"))
      expect(laws).toContain("\n## alloy--release-note-voice--ac-2\n")
      expect(laws).toContain("\n## alloy--release-note-voice--ac-3\n")
    }
  })

  it("a gate's own law that the formation designer wrote into Foundry's laws is graded once, by Foundry's copy", async () => {
    const p = await pinned("3.6.0")
    const d = await loadPlugin(p.dir)
    const original = appraiseDispatch()
    const designed = "\n## alloy--release-note-voice--ac-3\n\nrelease-note-voice#AC-3 — as the designer wrote it into foundry/laws.\n"
    original.tasks = original.tasks.map((t: Json) => ({ ...t, prompt: (t.prompt as string).replace("\n## customer-benefit-first\n", `${designed}\n## customer-benefit-first\n`) }))
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(original))) as Json
    for (const t of res.tasks as Json[]) {
      expect((t.prompt as string).split("\n## alloy--release-note-voice--ac-3\n")).toHaveLength(2)
      expect(t.prompt).toContain("as the designer wrote it")
    }
    // it still counts as presented: an appraisal that raises nothing on it passes it
    expect(res.alloy.laws).toContain("alloy--release-note-voice--ac-3")
  })

  it("a task prompt that does not carry the named Foundry law keeps the Alloy gate (no criterion goes ungraded)", async () => {
    const p = await pinned("3.6.0")
    const d = await loadPlugin(p.dir)
    const original = appraiseDispatch()
    original.tasks = original.tasks.map((t: Json) => ({ ...t, prompt: (t.prompt as string).replace("\n## customer-benefit-first\n", "\n## some-other-law\n") }))
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(original))) as Json
    for (const t of res.tasks as Json[]) {
      expect(t.prompt).toContain("\n## alloy--release-note-voice--ac-2\n")
      expect(t.prompt).toContain("\n## alloy--release-note-voice--ac-3\n")
    }
  })
})

describe("alloy_compat_check and caps (files only)", () => {
  it("a 3.6 project with a verified pin is compatible; an unknown VERSION is not, naming it and the fix", async () => {
    const { loadPlugin } = await import("../helpers/plugin.js")
    const p = await pinned("3.6.0")
    const plugin = await loadPlugin(p.dir)
    const ok = await plugin.tool("alloy_compat_check", {})
    expect(ok.json.ok).toBe(true)
    expect(ok.json.generation).toBe("orchestrate-3.6")
    expect((ok.json.bundles as Json[])[0]).toMatchObject({ brief_id: p.briefId, digest: p.digest, gate_kinds: ["artefact", "check", "human", "law"] })
    expect(ok.json.manifest_digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect((ok.json.notes as string[]).join("\n")).toMatch(/server did not answer/)
    writeFileSync(path.join(p.dir, "foundry", "VERSION"), "5.1.0")
    const bad = await plugin.tool("alloy_compat_check", {})
    expect(bad.json.ok).toBe(false)
    expect(bad.json.problems).toEqual([expect.objectContaining({ kind: "protocol", name: "5.1.0", fix: expect.stringContaining("caps --server") })])
  })

  it("caps from files: the manifest digest is stable, and changes with foundry/VERSION", async () => {
    const { buildCapabilities, projectCapabilitiesDigest } = await import("../../src/service/capabilities.js")
    const { AlloyContext } = await import("../../src/service/context.js")
    const p = await pinned("3.7.2")
    const ctx = new AlloyContext(p.dir)
    const a = buildCapabilities(ctx)
    expect(a.manifest).toMatchObject({ source: "files", foundry: { version: "3.7.2", generation: "shapes-3.7" }, tools: [], agents: ["foundry-openai-gpt-5"] })
    expect(projectCapabilitiesDigest(ctx)).toBe(a.digest)
    writeFileSync(path.join(p.dir, "foundry", "VERSION"), "3.6.0")
    expect(projectCapabilitiesDigest(ctx)).not.toBe(a.digest)
  })
})

describe("3.7 shapes and the run-era assay agent", () => {
  it("3.7 human_appraise (no token) gets context.alloy; every other key is kept", async () => {
    const p = await pinned("3.7.0")
    const d = await loadPlugin(p.dir)
    const original = JSON.parse(readFileSync(path.join(CONTRACTS_DIR, "generations", "shapes-3.7", "human_appraise.json"), "utf8")) as Json
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(original))) as Json
    expect(res.action).toBe("human_appraise")
    expect(res.token).toBeUndefined()
    expect(res.context.alloy).toMatchObject({ brief_id: p.briefId, digest: p.digest, verified: true })
    expect({ ...res.context, alloy: undefined }).toEqual({ ...original.context, alloy: undefined })
  })

  it("a foundry-assay session gets the block after Foundry's prompt", async () => {
    const p = await pinned()
    const d = await loadPlugin(p.dir)
    const assay = FORGE.replaceAll("forge", "assay")
    const { parts } = await message(d, "foundry-assay", assay)
    expect((parts[0]!.text as string).startsWith(`${assay}\n\n## Alloy\n`)).toBe(true)
  })
})

describe("verify --compat (files only)", () => {
  it("--json prints one document {verify, compat}; an unknown protocol exits 1 naming it", async () => {
    const p = await pinned("3.6.0")
    const run = async (args: string[]) => {
      const r = await runCli(p.dir, ...args)
      return { code: r.code, text: [r.out, r.err].filter(Boolean).join("\n") }
    }
    const ok = await run(["verify", "--compat", "--json"])
    expect(ok.code).toBe(0)
    const doc = JSON.parse(ok.text) as Json
    expect(doc.ok).toBe(true)
    expect(doc.verify.ok).toBe(true)
    expect(doc.compat.generation).toBe("orchestrate-3.6")
    writeFileSync(path.join(p.dir, "foundry", "VERSION"), "3.9.1")
    const bad = await run(["verify", "--compat"])
    expect(bad.code).toBe(1)
    expect(bad.text).toMatch(/FAIL {4}protocol 3\.9\.1: Alloy does not know this Foundry protocol/)
    expect(bad.text).toMatch(/fix: /)
    const caps = await run(["caps"])
    expect(caps.code).toBe(0)
    expect(caps.text).toMatch(/protocol unknown/)
  })
})
