// Pinned forge/assay dispatch through the REAL plugin hooks: the Alloy block is appended after
// Foundry's own prompt (and its flow-memory extras), Foundry's lines stay byte-for-byte, the cycle
// comes from the `Cycle:` line (never the stage alias), unpinned cycles pass through untouched.
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import { packFor } from "../../src/core/formation.js"
import type { Bundle } from "../../src/core/bundle.js"
import { AlloyContext } from "../../src/service/context.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { resolveTarget } from "../../src/service/resolve.js"
import { readEvents } from "../../src/store/outbox.js"
import { scratch, type PinnedProject } from "../helpers/project.js"
import { isolateEnv } from "../helpers/env.js"
import { loadPlugin, type Json } from "../helpers/plugin.js"
import { compact, forgeDispatch, forgeFor } from "../helpers/recordings.js"
import { setAlloyLine } from "../helpers/project.js"

const RESOLVE_LINE = "The full Formation Brief (goal, context, constraints, every acceptance criterion with its evidence) is available from: "

function expectedBlock(bundle: Bundle, pin: { brief_id: string; digest: string }, stage: string, staleLine?: string): string {
  return [
    "## Alloy",
    "",
    `Pinned brief: ${pin.brief_id} @ ${pin.digest} (verified: the bundle's bytes hash to this digest)`,
    ...(staleLine ? [staleLine] : []),
    "",
    packFor(bundle, undefined, stage).text.trim(),
    "",
    `${RESOLVE_LINE}alloy_brief_resolve({ "brief_id": "${pin.brief_id}", "digest": "${pin.digest}" })`,
  ].join("\n")
}

const linesWith = (text: string, prefix: string) => text.split("\n").filter((l) => l.startsWith(prefix))

let p: PinnedProject
let bundle: Bundle
isolateEnv()
const tmp = scratch()

beforeEach(async () => {
  p = await tmp.pinned()
  bundle = resolveTarget(new AlloyContext(p.dir), { cycle: p.cycle }).bundle
})

describe("dispatch (forge) for a pinned cycle", () => {
  it("appends exactly one Alloy block after Foundry's prompt and adds the verified pin; nothing else changes", async () => {
    const d = await loadPlugin(p.dir)
    const original = forgeDispatch()
    const out = await d.after("foundry_orchestrate", compact(original))
    const pin = { brief_id: p.briefId, digest: p.digest }
    const expected = {
      ...original,
      prompt: `${original.prompt}\n\n${expectedBlock(bundle, pin, "forge:draft-release-note")}`,
      alloy: { brief_id: p.briefId, digest: p.digest, verified: true, stale: false },
    }
    expect(out).toBe(JSON.stringify(expected))
    // the pack is real content from the pinned bundle: constraints and the gate law ids
    const prompt = (JSON.parse(out) as Json).prompt as string
    expect(prompt).toContain("The note is at most 150 words, title included.")
    expect(prompt).toContain("alloy--release-note-voice--ac-2")
    expect(d.logs).toEqual([])
  })

  it("keeps Foundry's prompt as an exact prefix and its Stage:/Cycle:/Token: lines and FIRST/LAST rules unchanged", async () => {
    const d = await loadPlugin(p.dir)
    const original = forgeDispatch()
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(original))) as Json
    const prompt = res.prompt as string
    expect(prompt.startsWith(original.prompt)).toBe(true)
    for (const prefix of ["Stage:", "Cycle:", "Token:", "Working directory:", "File patterns", "Your FIRST", "Your LAST"]) {
      expect(linesWith(prompt, prefix), prefix).toEqual(linesWith(original.prompt, prefix))
    }
    // every other key is untouched, in Foundry's order, with alloy last
    expect(Object.keys(res)).toEqual([...Object.keys(original), "alloy"])
    for (const k of Object.keys(original)) if (k !== "prompt") expect(res[k], k).toEqual(original[k])
    const added = prompt.slice(original.prompt.length)
    expect(added.startsWith("\n\n## Alloy\n")).toBe(true)
    // the block says nothing about the order of tool calls
    expect(added).not.toMatch(/\b(first|last) (tool )?call\b/i)
    expect(added).not.toMatch(/foundry_stage_(begin|end)/)
  })

  it("puts the Alloy block after Foundry's flow-memory extras", async () => {
    const d = await loadPlugin(p.dir)
    const base = forgeDispatch()
    const memory = "## Flow memory\n\nVisible entity types: `change` — an engineering change brief.\n\nUse foundry_memory_query to read them."
    const withMemory = { ...base, prompt: `${base.prompt}\n\n${memory}` }
    const out = await d.after("foundry_orchestrate", compact(withMemory))
    const pin = { brief_id: p.briefId, digest: p.digest }
    expect(out).toBe(
      JSON.stringify({
        ...withMemory,
        prompt: `${withMemory.prompt}\n\n${expectedBlock(bundle, pin, "forge:draft-release-note")}`,
        alloy: { brief_id: p.briefId, digest: p.digest, verified: true, stale: false },
      }),
    )
    const prompt = (JSON.parse(out) as Json).prompt as string
    expect(prompt.indexOf("## Flow memory")).toBeLessThan(prompt.indexOf("## Alloy"))
  })

  it("takes the cycle from the Cycle: line, not from the stage alias", async () => {
    const d = await loadPlugin(p.dir)
    // alias differs from the cycle id: still the pinned cycle
    const aliased = forgeFor({ stage: "forge:write-note", cycle: "draft-release-note" })
    const out = JSON.parse(await d.after("foundry_orchestrate", compact(aliased))) as Json
    expect(out.prompt).toBe(`${aliased.prompt}\n\n${expectedBlock(bundle, { brief_id: p.briefId, digest: p.digest }, "forge:write-note")}`)
    // the alias names the pinned cycle but the Cycle: line an unpinned one: untouched
    const other = compact(forgeFor({ stage: "forge:draft-release-note", cycle: "condense-changelog-entry" }))
    expect(await d.after("foundry_orchestrate", other)).toBe(other)
  })

  it("falls back to WORK.md's cycle when the prompt has no Cycle: line", async () => {
    const d = await loadPlugin(p.dir)
    const noCycle = forgeFor({ cycle: null })
    expect(noCycle.prompt).not.toMatch(/^Cycle:/m)
    const out = JSON.parse(await d.after("foundry_orchestrate", compact(noCycle))) as Json
    expect(out.prompt).toBe(`${noCycle.prompt}\n\n${expectedBlock(bundle, { brief_id: p.briefId, digest: p.digest }, "forge:draft-release-note")}`)
    // and WORK.md naming an unpinned cycle leaves it alone
    const work = path.join(p.dir, "WORK.md")
    writeFileSync(work, readFileSync(work, "utf8").replace("cycle: draft-release-note", "cycle: condense-changelog-entry"))
    const again = compact(forgeFor({ cycle: null }))
    expect(await d.after("foundry_orchestrate", again)).toBe(again)
  })

  it("an assay dispatch gets the assay pack", async () => {
    const d = await loadPlugin(p.dir)
    const assay = forgeFor({ stage: "assay:draft-release-note" })
    const out = JSON.parse(await d.after("foundry_orchestrate", compact(assay))) as Json
    expect(out.prompt).toBe(`${assay.prompt}\n\n${expectedBlock(bundle, { brief_id: p.briefId, digest: p.digest }, "assay:draft-release-note")}`)
  })

  it("leaves a dispatch for an unpinned cycle byte-for-byte untouched", async () => {
    const d = await loadPlugin(p.dir)
    const text = compact(forgeFor({ stage: "forge:condense-changelog-entry", cycle: "condense-changelog-entry" }))
    expect(await d.after("foundry_orchestrate", text)).toBe(text)
    expect(readEvents(p.dir).events.filter((e) => e.cycle === "condense-changelog-entry")).toEqual([])
  })

  it("a cycle pinned through its flow gets the flow's brief", async () => {
    const ctx = new AlloyContext(p.dir)
    pinBrief(ctx, { flow: "release-notes", brief_id: p.briefId })
    const d = await loadPlugin(p.dir)
    const cond = forgeFor({ stage: "forge:condense-changelog-entry", cycle: "condense-changelog-entry" })
    const out = JSON.parse(await d.after("foundry_orchestrate", compact(cond))) as Json
    expect(out.prompt).toBe(`${cond.prompt}\n\n${expectedBlock(bundle, { brief_id: p.briefId, digest: p.digest }, "forge:condense-changelog-entry")}`)
  })

  it("records a dispatch event for the pinned stage", async () => {
    const d = await loadPlugin(p.dir)
    await d.after("foundry_orchestrate", compact(forgeDispatch()))
    const events = readEvents(p.dir).events
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ kind: "dispatch", cycle: p.cycle, stage: "forge:draft-release-note", pin: { brief_id: p.briefId, digest: p.digest } })
  })

  it("rewrites a result only once, even when the hook runs twice on it (plugin loaded twice)", async () => {
    const d1 = await loadPlugin(p.dir)
    const d2 = await loadPlugin(p.dir)
    const once = await d1.after("foundry_orchestrate", compact(forgeDispatch()))
    expect(await d2.after("foundry_orchestrate", once)).toBe(once)
  })
})

describe("stale pins and the pin cache", () => {
  function editIntentGoal(dir: string, goal: string): void {
    const file = path.join(dir, ".alloy", "intents", "release-note-voice.md")
    const text = readFileSync(file, "utf8")
    writeFileSync(file, text.replace(/^goal: .*$/m, `goal: ${goal}`))
  }

  it("a stale pin (a newer build exists) is not an error: the pinned build is used and the block says so", async () => {
    const d = await loadPlugin(p.dir)
    const fresh = JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))) as Json
    expect(fresh.alloy.stale).toBe(false)

    const ctx = new AlloyContext(p.dir)
    editIntentGoal(p.dir, "A rewritten goal that only the newer build knows about.")
    const rebuilt = buildBrief(ctx, p.briefId)
    expect(rebuilt.digest).not.toBe(p.digest)

    const original = forgeDispatch()
    const out = await d.after("foundry_orchestrate", compact(original))
    const staleLine =
      `Stale pin: a newer build of ${p.briefId} exists (${rebuilt.digest}). This stage runs on the pinned build, exactly as pinned; ` +
      `to move the cycle to the newer build, re-pin it on the base branch (\`opencode-alloy pin ${p.cycle} ${p.briefId}\`).`
    expect(out).toBe(
      JSON.stringify({
        ...original,
        prompt: `${original.prompt}\n\n${expectedBlock(bundle, { brief_id: p.briefId, digest: p.digest }, "forge:draft-release-note", staleLine)}`,
        alloy: { brief_id: p.briefId, digest: p.digest, verified: true, stale: true, current_digest: rebuilt.digest },
      }),
    )
    expect(out).not.toContain("A rewritten goal")
  })

  it("re-pinning the cycle (the cycle file changes) is picked up by the next dispatch", async () => {
    const d = await loadPlugin(p.dir)
    await d.after("foundry_orchestrate", compact(forgeDispatch()))
    const ctx = new AlloyContext(p.dir)
    editIntentGoal(p.dir, "A goal for the second build.")
    const rebuilt = buildBrief(ctx, p.briefId)
    pinBrief(ctx, { cycle: p.cycle, brief_id: p.briefId })
    const out = JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))) as Json
    expect(out.alloy).toEqual({ brief_id: p.briefId, digest: rebuilt.digest, verified: true, stale: false })
    expect(out.prompt).toContain("A goal for the second build.")
  })

  it("editing the pin by hand to an unpinned state is picked up too (cache invalidated by the cycle file)", async () => {
    const d = await loadPlugin(p.dir)
    await d.after("foundry_orchestrate", compact(forgeDispatch()))
    const cycleFile = path.join(p.dir, "foundry", "cycles", "draft-release-note.md")
    writeFileSync(cycleFile, readFileSync(cycleFile, "utf8").replace(/^alloy:.*\n/m, ""))
    const text = compact(forgeDispatch())
    expect(await d.after("foundry_orchestrate", text)).toBe(text)
    setAlloyLine(p.dir, "draft-release-note", `alloy: { brief_id: ${p.briefId}, digest: "${p.digest}" }`)
    expect((JSON.parse(await d.after("foundry_orchestrate", text)) as Json).alloy.digest).toBe(p.digest)
  })
})
