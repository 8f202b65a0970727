// Fail closed through the REAL plugin hooks: every kind of pin failure turns a pinned cycle's
// dispatch / dispatch_multi / human_appraise into a `blocked` result naming the cycle, the problem
// and the fix (default), or passes it through with a marked warning and no unverified content
// (onPinFailure: "warn"). Each block is recorded as a stage_blocked event.
import { createHash } from "node:crypto"
import { rmSync, symlinkSync, writeFileSync, mkdtempSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { AlloyContext } from "../../src/service/context.js"
import { buildBrief } from "../../src/service/build.js"
import { readEvents } from "../../src/store/outbox.js"
import { flipByte, makeProject, scratch, setAlloyLine, writeExampleSources, type PinnedProject } from "../helpers/project.js"
import { isolateEnv } from "../helpers/env.js"
import { loadPlugin, type Json } from "../helpers/plugin.js"
import { appraiseDispatch, compact, forgeDispatch, otherAction } from "../helpers/recordings.js"

isolateEnv()
const tmp = scratch()

const ZERO = `sha256:${"0".repeat(64)}`

interface Failure {
  name: string
  code: string
  /** break the project; returns the pin the cycle now carries (null when unreadable) */
  setup(p: PinnedProject): { brief_id: string | null; digest: string | null }
  /** a phrase the reason must contain (the fix) */
  fix: RegExp
}

const FAILURES: Failure[] = [
  {
    name: "a tampered byte in the object",
    code: "digest_mismatch",
    setup: (p) => (flipByte(p.objectPath, 10), { brief_id: p.briefId, digest: p.digest }),
    fix: /Fix: .*(restore|rebuild)/,
  },
  {
    name: "a deleted object",
    code: "object_missing",
    setup: (p) => (rmSync(p.objectPath), { brief_id: p.briefId, digest: p.digest }),
    fix: /Fix: .*git checkout -- \.alloy\/objects\/sha256\//,
  },
  {
    name: "a wrong digest (no such object)",
    code: "object_missing",
    setup: (p) => (setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: ${p.briefId}, digest: "${ZERO}" }`), { brief_id: p.briefId, digest: ZERO }),
    fix: /Fix: .*opencode-alloy (brief build|pin)/,
  },
  {
    name: "a digest that is not a digest",
    code: "invalid_digest",
    setup: (p) => (setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: ${p.briefId}, digest: "sha256:TBD" }`), { brief_id: null, digest: null }),
    fix: /Fix: .*opencode-alloy pin draft-release-note release-note-voice/,
  },
  {
    name: "a brief id that is a path",
    code: "invalid_id",
    setup: (p) => (setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: "../x", digest: "${p.digest}" }`), { brief_id: null, digest: null }),
    fix: /Fix: .*alloy\.brief_id/,
  },
  {
    name: "a malformed block (alloy: 42)",
    code: "malformed",
    setup: (p) => (setAlloyLine(p.dir, p.cycle, "alloy: 42"), { brief_id: null, digest: null }),
    fix: /Fix: .*opencode-alloy pin draft-release-note/,
  },
  {
    name: "a block without a digest",
    code: "malformed",
    setup: (p) => (setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: ${p.briefId} }`), { brief_id: null, digest: null }),
    fix: /Fix: .*opencode-alloy pin/,
  },
  {
    name: "a brief id that does not match the object",
    code: "brief_id_mismatch",
    setup: (p) => (setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: other-brief, digest: "${p.digest}" }`), { brief_id: "other-brief", digest: p.digest }),
    fix: /Fix: .*opencode-alloy pin/,
  },
  {
    name: "a brief that does not exist",
    code: "brief_not_found",
    setup: (p) => (setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: no-such-brief, digest: "${ZERO}" }`), { brief_id: "no-such-brief", digest: ZERO }),
    fix: /Fix: .*brief/,
  },
  {
    // anyone can write an object made to be expensive and pin it: it is refused in bounded time, by
    // where it first differs, not after zod has worded each of its faults (which ran out of memory)
    name: "an object of 200,000 bad values, pinned under its own digest",
    code: "malformed",
    setup: (p) => {
      const bytes = Buffer.from(`{"$type":"alloy.bundle/v1","intents":[${Array<string>(200_000).fill("1").join(",")}]}`)
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`
      writeFileSync(path.join(path.dirname(p.objectPath), `${digest.slice(7)}.json`), bytes)
      setAlloyLine(p.dir, p.cycle, `alloy: { brief_id: ${p.briefId}, digest: "${digest}" }`)
      return { brief_id: p.briefId, digest }
    },
    fix: /brief: does not match the schema \(the object holds more than 100,000 values.*Fix: rebuild the brief/,
  },
  {
    name: "an object that is a symlink leading out of .alloy/",
    code: "unsafe_path",
    setup: (p) => {
      const outside = mkdtempSync(path.join(os.tmpdir(), "alloy-outside-"))
      tmp.defer(() => rmSync(outside, { recursive: true, force: true }))
      const target = path.join(outside, "object.json")
      writeFileSync(target, "{}")
      rmSync(p.objectPath)
      symlinkSync(target, p.objectPath)
      return { brief_id: p.briefId, digest: p.digest }
    },
    fix: /Fix: .*symlink/,
  },
]

const ACTIONS: Array<[string, () => Json, string, string | null]> = [
  ["dispatch", forgeDispatch, "forge:draft-release-note", null],
  ["dispatch_multi", appraiseDispatch, "appraise:draft-release-note", null],
  ["human_appraise", () => otherAction("human_appraise"), "human-appraise:draft-release-note", "release-notes/2026-05-checkout-redesign.md"],
]

describe("fail closed (onPinFailure: block, the default)", () => {
  for (const f of FAILURES) {
    it(`${f.name} → blocked (${f.code}) for every action kind, with a stage_blocked event`, async () => {
      const p = await tmp.pinned()
      const pin = f.setup(p)
      const d = await loadPlugin(p.dir)
      for (const [action, make, stage, artefact] of ACTIONS) {
        const original = make()
        const out = await d.after("foundry_orchestrate", compact(original))
        const res = JSON.parse(out) as Json
        expect(Object.keys(res), action).toEqual(["action", "cycle", "artefact_file", "reason", "alloy"])
        expect(res, action).toEqual({
          action: "blocked",
          cycle: "draft-release-note",
          artefact_file: artefact,
          reason: expect.stringMatching(/^Alloy: cycle draft-release-note[ :].+\. Fix: /),
          alloy: {
            code: f.code,
            brief_id: pin.brief_id,
            digest: pin.digest,
            stage,
            resume: expect.stringMatching(/^once `opencode-alloy verify` passes, call foundry_orchestrate\(\) with no arguments/),
          },
        })
        // the reason says how to resume for this stage kind; a refused appraisal is never to be answered with lastResults: []
        expect(res.reason, action).toContain(`. Then: ${res.alloy.resume}`)
        if (action === "dispatch_multi") expect(res.reason).toContain("Do NOT answer with lastResults: []")
        expect(res.reason, action).toMatch(f.fix)
        expect(out, action).toBe(JSON.stringify(res))
        // nothing of the agent's task survives: no prompt, no token
        expect(out).not.toContain("Token:")
        expect(out).not.toContain(original.token ?? "no token")
      }
      const blocked = readEvents(p.dir).events.filter((e) => e.kind === "stage_blocked")
      expect(blocked.map((e) => e.stage)).toEqual(ACTIONS.map((a) => a[2]))
      expect(blocked.every((e) => e.code === f.code && e.cycle === "draft-release-note")).toBe(true)
    })
  }

  it("the sample project as shipped (digest sha256:TBD) blocks its pinned cycle", async () => {
    const p = makeProject()
    tmp.defer(p.cleanup)
    const d = await loadPlugin(p.dir)
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))) as Json
    expect(res.action).toBe("blocked")
    expect(res.alloy.code).toBe("invalid_digest")
    expect(res.reason).toBe(
      'Alloy: cycle draft-release-note (foundry/cycles/draft-release-note.md): key `alloy.digest` is "sha256:TBD", not "sha256:" + 64 lowercase hex characters. ' +
        "Fix: run `opencode-alloy pin draft-release-note release-note-voice` to write the current digest. " +
        "Then: once `opencode-alloy verify` passes, call foundry_orchestrate() with no arguments to get this stage's dispatch again; do not start the stage meanwhile",
    )
  })

  it("a pinned cycle in a project without .alloy/ is blocked (object_missing)", async () => {
    const p = await tmp.pinned()
    rmSync(path.join(p.dir, ".alloy"), { recursive: true, force: true })
    const d = await loadPlugin(p.dir)
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))) as Json
    expect(res.alloy.code).toBe("object_missing")
    expect(res.reason).toMatch(/no \.alloy\/ folder/)
  })

  it("a cycle pinned only through ambiguous flows is blocked (ambiguous_pin)", async () => {
    const p = await tmp.pinned()
    const ctx = new AlloyContext(p.dir)
    for (const [flow, digest] of [
      ["alpha", p.digest],
      ["beta", ZERO],
    ]) {
      writeFileSync(
        path.join(p.dir, "foundry", "flows", `${flow}.md`),
        `---\nid: ${flow}\nname: ${flow}\nstarting-cycles:\n  - condense-changelog-entry\nalloy: { brief_id: ${p.briefId}, digest: "${digest}" }\n---\n\n## Cycles\n`,
      )
    }
    void ctx
    const d = await loadPlugin(p.dir)
    const dispatch = forgeDispatch()
    const cond = { ...dispatch, stage: "forge:condense-changelog-entry", prompt: (dispatch.prompt as string).replace("Cycle: draft-release-note", "Cycle: condense-changelog-entry") }
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(cond))) as Json
    expect(res).toMatchObject({ action: "blocked", cycle: "condense-changelog-entry", alloy: { code: "ambiguous_pin" } })
    expect(res.reason).toMatch(/Fix: pin the cycle itself: `opencode-alloy pin condense-changelog-entry <brief-id>`/)
  })

  it("recovers as soon as the pin verifies again (no stale cached failure)", async () => {
    const p = await tmp.pinned()
    const d = await loadPlugin(p.dir)
    const good = `alloy: { brief_id: ${p.briefId}, digest: "${p.digest}" }`
    setAlloyLine(p.dir, p.cycle, "alloy: 42")
    expect(JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))).action).toBe("blocked")
    setAlloyLine(p.dir, p.cycle, good)
    expect(JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))).action).toBe("dispatch")
    flipByte(p.objectPath, 20)
    expect(JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))).alloy.code).toBe("digest_mismatch")
    flipByte(p.objectPath, 20)
    expect(JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))).alloy.verified).toBe(true)
  })
})

describe("onPinFailure: warn", () => {
  for (const mode of ["option", "env"] as const) {
    it(`(${mode}) passes Foundry's result through with a marked warning and nothing from the unverified bundle`, async () => {
      const p = await tmp.pinned()
      flipByte(p.objectPath, 10)
      if (mode === "env") process.env.ALLOY_ON_PIN_FAILURE = "warn"
      const d = await loadPlugin(p.dir, mode === "option" ? { onPinFailure: "warn" } : {})

      const forge = forgeDispatch()
      const res = JSON.parse(await d.after("foundry_orchestrate", compact(forge))) as Json
      const reason = res.alloy.warning as string
      expect(reason).toMatch(/^Alloy: cycle draft-release-note \(foundry\/cycles\/draft-release-note\.md\): object .* does not hash to the pinned digest.*\. Fix: /)
      expect(res).toEqual({
        ...forge,
        prompt: `${forge.prompt}\n\n## Alloy (warning: pin not verified)\n\nThis cycle is pinned to an Alloy brief, but the pinned bundle could not be verified, so no Alloy context is included. ${reason}`,
        alloy: { code: "digest_mismatch", brief_id: p.briefId, digest: p.digest, stage: "forge:draft-release-note", verified: false, warning: reason },
      })
      expect(res.prompt).not.toContain("150 words")
      expect(res.prompt).not.toContain("Pinned brief:")

      const multi = appraiseDispatch()
      const m = JSON.parse(await d.after("foundry_orchestrate", compact(multi))) as Json
      expect(m.tasks).toEqual(multi.tasks)
      expect(m.alloy).toMatchObject({ code: "digest_mismatch", verified: false, stage: "appraise:draft-release-note" })

      const human = otherAction("human_appraise")
      const h = JSON.parse(await d.after("foundry_orchestrate", compact(human))) as Json
      expect(h).toEqual({ ...human, context: { ...human.context, alloy: expect.objectContaining({ code: "digest_mismatch", verified: false }) } })
      expect(h.context.alloy.signoffs).toBeUndefined()

      expect(readEvents(p.dir).events.filter((e) => e.kind === "stage_blocked")).toEqual([])
      expect(d.logs.some((l) => l.level === "warn" && /did not verify \(digest_mismatch\)/.test(l.message))).toBe(true)
    })
  }

  it("warn mode still injects normally when the pin verifies", async () => {
    const p = await tmp.pinned()
    const d = await loadPlugin(p.dir, { onPinFailure: "warn" })
    const res = JSON.parse(await d.after("foundry_orchestrate", compact(forgeDispatch()))) as Json
    expect(res.alloy).toEqual({ brief_id: p.briefId, digest: p.digest, verified: true, stale: false })
  })
})

describe("a newer build is not a failure", () => {
  it("stale pins are never blocked", async () => {
    const p = await tmp.pinned()
    writeExampleSources(p.dir) // no change: same sources, same digest
    const ctx = new AlloyContext(p.dir)
    const file = path.join(p.dir, ".alloy", "briefs", "release-note-voice.md")
    writeFileSync(file, `${(await import("node:fs")).readFileSync(file, "utf8")}\nOne more line of notes.\n`)
    expect(buildBrief(ctx, p.briefId).digest).not.toBe(p.digest)
    const d = await loadPlugin(p.dir)
    for (const [, make] of ACTIONS) {
      const res = JSON.parse(await d.after("foundry_orchestrate", compact(make()))) as Json
      expect(res.action).not.toBe("blocked")
      expect((res.alloy ?? res.context.alloy).stale).toBe(true)
    }
  })
})
