// Every foundry_orchestrate action kind through the REAL plugin hooks: appraiser gates inside
// `## Laws` with the YAML output format intact, human sign-offs in the human_appraise context,
// every other action / envelope / non-JSON output / tool untouched, hooks switched off, and
// errors inside a hook isolated (result unchanged, reported once).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import { gatesFor, packFor } from "../../src/core/formation.js"
import type { Bundle } from "../../src/core/bundle.js"
import { AlloyContext } from "../../src/service/context.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { resolveTarget } from "../../src/service/resolve.js"
import { readEvents } from "../../src/store/outbox.js"
import { scratch, type PinnedProject } from "../helpers/project.js"
import { isolateEnv } from "../helpers/env.js"
import { loadPlugin, type Json } from "../helpers/plugin.js"
import { appraiseDispatch, compact, forgeDispatch, otherAction, stageToolResult } from "../helpers/recordings.js"

let p: PinnedProject
let bundle: Bundle
isolateEnv()
const tmp = scratch()

beforeEach(async () => {
  p = await tmp.pinned()
  bundle = resolveTarget(new AlloyContext(p.dir), { cycle: p.cycle }).bundle
})

const OUTPUT_TAIL_AT = (prompt: string) => prompt.lastIndexOf("\n\n## Output\n")

describe("dispatch_multi (appraisers)", () => {
  it("adds the overlay's law gates inside ## Laws of every task (one gate per criterion); the ## Output format stays the end, byte-for-byte", async () => {
    const d = await loadPlugin(p.dir)
    const original = appraiseDispatch()
    const out = await d.after("foundry_orchestrate", compact(original))
    const all = gatesFor(bundle, undefined, "appraise").filter((g) => g.kind === "law")
    expect(all.map((g) => g.law_id)).toEqual(["alloy--release-note-voice--ac-2", "alloy--release-note-voice--ac-3"])
    // AC-2 names Foundry's law customer-benefit-first, which every task prompt already carries: graded once, by that law
    for (const t of original.tasks as Json[]) expect(t.prompt).toContain("\n## customer-benefit-first\n")
    const laws = all.filter((g) => g.law_id !== "alloy--release-note-voice--ac-2")
    const lawText = laws.map((g) => g.text.trim()).join("\n\n")
    const insert = (prompt: string) => {
      const i = OUTPUT_TAIL_AT(prompt)
      return `${prompt.slice(0, i)}\n\n${lawText}${prompt.slice(i)}`
    }
    const expected = {
      ...original,
      tasks: original.tasks.map((t: Json) => ({ ...t, prompt: insert(t.prompt) })),
      alloy: { brief_id: p.briefId, digest: p.digest, verified: true, stale: false, laws: all.map((g) => g.law_id) },
    }
    expect(out).toBe(JSON.stringify(expected))

    const res = JSON.parse(out) as Json
    for (const [i, task] of (res.tasks as Json[]).entries()) {
      const before = original.tasks[i].prompt as string
      const after = task.prompt as string
      const cut = OUTPUT_TAIL_AT(before)
      // Foundry's text up to the end of its own laws is a prefix; its Output section is the exact suffix
      expect(after.startsWith(before.slice(0, cut))).toBe(true)
      expect(after.endsWith(before.slice(cut))).toBe(true)
      expect(after.slice(OUTPUT_TAIL_AT(after))).toBe(before.slice(cut))
      // the gates are Foundry-format laws, citable by id, inside ## Laws (after it, before ## Output)
      for (const g of laws) {
        const at = after.indexOf(`\n## ${g.law_id}\n`)
        expect(at, g.law_id).toBeGreaterThan(after.indexOf("\n## Laws\n"))
        expect(at).toBeLessThan(OUTPUT_TAIL_AT(after))
        expect(g.text).toMatch(/\nPassing: .+\n\nFailing: .+$/)
      }
      expect(after).not.toContain("## alloy--release-note-voice--ac-2")
      expect(task.subagent_type).toBe(original.tasks[i].subagent_type)
    }
  })

  it("law ids are accepted by Foundry's consolidation: plain YAML scalars that read back to the criterion", async () => {
    const { parse } = await import("yaml")
    const { parseGateLawId } = await import("../../src/core/ids.js")
    for (const g of gatesFor(bundle, undefined, "appraise")) {
      const answer = `- file: release-notes/2026-05-checkout-redesign.md\n  law: ${g.law_id}\n  issue: x\n  evidence: y`
      const [issue] = parse(answer) as Array<{ law: string }>
      expect(issue!.law).toBe(g.law_id)
      expect(g.law_id).not.toMatch(/[:#\s]/) // Foundry's line-scan fallback and `law:<id>` tags stay unambiguous
      expect(parseGateLawId(g.law_id!)).toEqual({ intent: "release-note-voice", ac: g.criterion.split("#")[1] })
    }
  })

  it("a prompt without a recognisable output instruction gets the gates first (never after whatever it ends with)", async () => {
    const d = await loadPlugin(p.dir)
    const original = appraiseDispatch()
    original.tasks[0].prompt = "You are an appraiser.\n\n## Laws\n\n## plain-language\n\nPlain.\n\nPassing: a\n\nFailing: b"
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(original))) as Json
    const lawText = gatesFor(bundle, undefined, "appraise")
      .map((g) => g.text.trim())
      .join("\n\n")
    expect(res.tasks[0].prompt).toBe(`${lawText}\n\n${original.tasks[0].prompt}`)
  })

  it("an unpinned cycle's appraisers are untouched", async () => {
    const d = await loadPlugin(p.dir)
    const text = compact({ ...appraiseDispatch(), stage: "appraise:condense-changelog-entry", cycle: "condense-changelog-entry" })
    expect(await d.after("foundry_orchestrate", text)).toBe(text)
  })

  it("a bundle without law gates leaves every task as it was", async () => {
    const alloy = path.join(p.dir, ".alloy")
    writeFileSync(
      path.join(alloy, "intents", "plain-voice.md"),
      '---\nid: plain-voice\ntitle: Plain voice\nstatus: active\ngoal: Notes are short.\nacceptance_criteria:\n  - id: AC-1\n    text: The note is short.\n    evidence:\n      kind: check\n      command: "true"\n---\n\nShort notes.\n',
    )
    writeFileSync(
      path.join(alloy, "briefs", "plain-voice.md"),
      "---\nid: plain-voice\ntitle: Plain\nintents:\n  - plain-voice\nformation:\n  cycles:\n    - draft-release-note\n---\n\nA brief without laws.\n",
    )
    const ctx = new AlloyContext(p.dir)
    const built = buildBrief(ctx, "plain-voice")
    pinBrief(ctx, { cycle: p.cycle, brief_id: "plain-voice" })
    const d = await loadPlugin(p.dir)
    const original = appraiseDispatch()
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(original))) as Json
    expect(res.tasks).toEqual(original.tasks)
    expect(res.alloy).toEqual({ brief_id: "plain-voice", digest: built.digest, verified: true, stale: false, laws: [] })
  })
})

describe("human_appraise", () => {
  it("adds the criteria whose evidence is a human sign-off to context.alloy; every other key is kept", async () => {
    const d = await loadPlugin(p.dir)
    const original = otherAction("human_appraise")
    const out = await d.after("foundry_orchestrate", compact(original))
    const expected = {
      ...original,
      context: {
        ...original.context,
        alloy: {
          brief_id: p.briefId,
          digest: p.digest,
          verified: true,
          stale: false,
          signoffs: [{ criterion: "release-note-voice#AC-4", text: "The product owner approves the tone before the note is published.", who: "the product owner" }],
          checklist: packFor(bundle, undefined, "human-appraise:draft-release-note").text,
        },
      },
    }
    expect(out).toBe(JSON.stringify(expected))
    expect((JSON.parse(out) as Json).token).toBe(original.token)
  })

  it("an unpinned cycle's human_appraise is untouched", async () => {
    const d = await loadPlugin(p.dir)
    const h = otherAction("human_appraise")
    const text = compact({ ...h, stage: "human-appraise:condense-changelog-entry", context: { ...h.context, cycle: "condense-changelog-entry" } })
    expect(await d.after("foundry_orchestrate", text)).toBe(text)
  })
})

describe("everything else passes through untouched", () => {
  const others = ["done", "blocked", "violation_unexpected_files", "violation_thrown", "tool_error_wrong_branch", "tool_error_failed_flow"]

  it.each(others)("foundry_orchestrate %s for a pinned cycle", async (key) => {
    const d = await loadPlugin(p.dir)
    const text = compact(otherAction(key))
    expect(await d.after("foundry_orchestrate", text)).toBe(text)
    expect(d.logs).toEqual([])
  })

  it.each([
    ["not JSON", "dispatch: forge:draft-release-note"],
    ["empty", ""],
    ["a JSON array", "[1,2]"],
    ["truncated JSON", compact(forgeDispatch()).slice(0, 200)],
    ["pretty-printed JSON of another action", JSON.stringify(otherAction("done"), null, 2)],
    ["an action Alloy does not know", compact({ action: "dispatch_all", cycle: "draft-release-note" })],
    ["a dispatch without a prompt", compact({ action: "dispatch", stage: "forge:draft-release-note" })],
  ])("foundry_orchestrate output that is %s", async (_name, text) => {
    const d = await loadPlugin(p.dir)
    expect(await d.after("foundry_orchestrate", text)).toBe(text)
  })

  it("other Foundry tools' results are untouched", async () => {
    const d = await loadPlugin(p.dir)
    for (const [tool, value] of [
      ["foundry_feedback_list", stageToolResult("foundry_feedback_list")],
      ["foundry_feedback_add", stageToolResult("foundry_feedback_add")],
      ["foundry_config_cycle", { frontmatter: { id: "draft-release-note" }, body: "## Cycle" }],
      ["foundry_workfile_get", { flow: "release-notes", cycle: "draft-release-note", goal: "g" }],
    ] as const) {
      const text = compact(value)
      expect(await d.after(tool, text), tool).toBe(text)
    }
  })

  it("a non-Foundry tool returns at once: it reads nothing but the tool name, and touches no files", async () => {
    const missing = path.join(p.dir, "no-such-project")
    const d = await loadPlugin(missing)
    const touched: string[] = []
    const spy = <T extends object>(name: string, target: T): T =>
      new Proxy(target, {
        get(t, k, r) {
          touched.push(`${name}.${String(k)}`)
          return Reflect.get(t, k, r)
        },
        set(t, k, v, r) {
          touched.push(`${name}.${String(k)}=`)
          return Reflect.set(t, k, v, r)
        },
      })
    const dispatchText = compact(forgeDispatch())
    for (const tool of ["bash", "read", "task", "alloy_brief_resolve", "edit"]) {
      touched.length = 0
      const output = spy("output", { title: "", output: dispatchText, metadata: {} })
      await d.hooks["tool.execute.after"](spy("input", { tool, sessionID: "s", callID: "c", args: {} }), output)
      await d.hooks["tool.execute.before"](spy("input", { tool, sessionID: "s", callID: "c" }), spy("output", { args: {} }))
      expect(touched, tool).toEqual(["input.tool", "input.tool"])
      expect(output.output).toBe(dispatchText)
    }
    expect(() => readFileSync(missing)).toThrow(/ENOENT/)
  })

  it("odd hook inputs never throw", async () => {
    const d = await loadPlugin(p.dir)
    const after = d.hooks["tool.execute.after"]
    const before = d.hooks["tool.execute.before"]
    await expect(after({ tool: undefined }, { output: "x" })).resolves.toBeUndefined()
    await expect(after({ tool: 42 }, { output: "x" })).resolves.toBeUndefined()
    await expect(after(undefined, undefined)).resolves.toBeUndefined()
    await expect(after({ tool: "foundry_orchestrate" }, { output: undefined })).resolves.toBeUndefined()
    await expect(after({ tool: "foundry_stage_end" }, { output: 7 })).resolves.toBeUndefined()
    await expect(before(undefined, undefined)).resolves.toBeUndefined()
    await expect(before({ tool: "foundry_stage_end" }, {})).resolves.toBeUndefined()
  })
})

describe("options: hooks off", () => {
  it("{ hooks: false } registers no tool hooks (tools stay)", async () => {
    const d = await loadPlugin(p.dir, { hooks: false })
    expect(d.hooks["tool.execute.after"]).toBeUndefined()
    expect(d.hooks["tool.execute.before"]).toBeUndefined()
    expect(Object.keys(d.hooks.tool)).toContain("alloy_brief_resolve")
    const text = compact(forgeDispatch())
    expect(await d.after("foundry_orchestrate", text)).toBe(text)
  })

  it("ALLOY_HOOKS=off switches them off, even over { hooks: true }", async () => {
    process.env.ALLOY_HOOKS = "off"
    const d = await loadPlugin(p.dir, { hooks: true })
    expect(d.hooks["tool.execute.after"]).toBeUndefined()
    const text = compact(forgeDispatch())
    expect(await d.after("foundry_orchestrate", text)).toBe(text)
    process.env.ALLOY_HOOKS = "on"
    const on = await loadPlugin(p.dir, { hooks: false })
    expect(JSON.parse(await on.after("foundry_orchestrate", text)).alloy.verified).toBe(true)
  })
})

describe("isolation", () => {
  it("3.7 is a known generation: no warning, and the dispatch is injected", async () => {
    writeFileSync(path.join(p.dir, "foundry", "VERSION"), "3.7.1")
    const d = await loadPlugin(p.dir)
    const text = compact(forgeDispatch())
    expect(JSON.parse(await d.after("foundry_orchestrate", text)).prompt).toContain("## Alloy")
    expect(d.logs).toEqual([])
  })

  it("an unknown Foundry protocol refuses pinned stages (warned once in the log), with the fix", async () => {
    writeFileSync(path.join(p.dir, "foundry", "VERSION"), "3.9.0")
    const d = await loadPlugin(p.dir)
    const text = compact(forgeDispatch())
    const res = JSON.parse(await d.after("foundry_orchestrate", text))
    expect(res.action).toBe("blocked")
    expect(res.alloy.code).toBe("unsupported_protocol")
    expect(res.reason).toMatch(/does not know this Foundry protocol \(foundry\/VERSION "3\.9\.0"\).*onPinFailure: "warn"/)
    await d.after("foundry_orchestrate", text)
    expect(d.logs.filter((l) => /^foundry\/VERSION is "3\.9\.0"; Alloy knows Foundry 3\.6, 3\.7/.test(l.message))).toHaveLength(1)
  })

  it("a cycle file Alloy cannot read blocks the stage: whether it is pinned is unknown", async () => {
    // the cycle file is a folder: Alloy cannot establish whether the cycle is pinned, so it fails closed
    const cycleFile = path.join(p.dir, "foundry", "cycles", "draft-release-note.md")
    rmSync(cycleFile)
    mkdirSync(cycleFile)
    const d = await loadPlugin(p.dir)
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))) as Json
    expect(res.action).toBe("blocked")
    expect(res.alloy.code).toBe("malformed")
    expect(res.reason).toMatch(/^Alloy: cycle draft-release-note: foundry\/cycles\/draft-release-note\.md is not a regular file\. Fix: /)
  })

  it("a broken events log does not stop the injection (reported once)", async () => {
    const runs = path.join(p.dir, ".alloy", "runs")
    rmSync(runs, { recursive: true, force: true })
    writeFileSync(runs, "not a folder")
    const d = await loadPlugin(p.dir)
    for (let i = 0; i < 2; i++) {
      const res = JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))) as Json
      expect(res.alloy.verified).toBe(true)
    }
    // once for the event, once for the live record: both name the outbox that is not a folder
    expect(d.logs.map((l) => l.level)).toEqual(["warn", "warn"])
    expect(d.logs[0]!.message).toMatch(/events\.jsonl/)
    expect(d.logs[1]!.message).toMatch(/^foundry_orchestrate \(record\) hook failed, Foundry's result is unchanged: \.alloy\/runs is not a folder/)
    expect(readFileSync(runs, "utf8")).toBe("not a folder")
    expect(readEvents(p.dir).events).toEqual([])
  })
})
