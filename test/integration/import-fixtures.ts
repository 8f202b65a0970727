/**
 * Synthetic, realistic evidence data on top of the sample project (makePinnedProject):
 *
 * - the example brief is built as it ships (digest D0, "older"), then a second intent,
 *   `release-note-accessibility`, joins the brief: rebuilt (D1, current) and re-pinned;
 * - snapshot A: a dry run of draft-release-note under D0 (20 May): gate items for voice AC-2 (open)
 *   and AC-3 (resolved);
 * - snapshot B: a dry run under D1 (27 May): quench fails then passes, voice AC-2 resolved, the
 *   accessibility AC-1 item superseded and raised again (open), accessibility AC-3 wont-fix, and a
 *   human item naming AC-4 left open by human-appraise;
 * - the sample's own WORK files (25 May, under D1 through the work-tree pin): the
 *   `law:customer-benefit-first` item, which the example intent declares as AC-2's law.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { stringify } from "yaml"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { sha256Hex } from "../../src/core/digest.js"

export const A11Y_INTENT = `---
id: release-note-accessibility
title: Release notes work with assistive technology
status: active
goal: A customer using a screen reader gets the same information from a release note as everyone else.
acceptance_criteria:
  - id: AC-1
    text: Every link in the note has text that says where it goes.
    evidence:
      kind: law
      passing: Link texts name their destination ("the new checkout page").
      failing: A link reads "here", "this" or a bare URL.
  - id: AC-2
    text: The accessibility lead has listened to the note with a screen reader.
    evidence:
      kind: human
      who: the accessibility lead
  - id: AC-3
    text: No emoji carries meaning on its own.
    evidence:
      kind: law
---

Screen-reader users hear every character; decoration that is only visual becomes noise.
`

export const NOTE_PATH = "release-notes/2026-05-checkout-redesign.md"
export const NOTE_V1 = "# A faster checkout\n\nOur CHK-1423 squad moved the checkout-svc form into one page with a new layout and more fields removed.\n"
export const NOTE_FINAL = "# A faster checkout\n\nYou can now pay in one step: checkout fits on a single page. Nothing to do on your side — it is live by 28 May.\n"

const V1 = sha256Hex("v1")
const V2 = sha256Hex("v2")
const V3 = sha256Hex("v3")

export interface EvidenceProject extends PinnedProject {
  /** the older build (the example brief as shipped) */
  readonly olderDigest: string
  readonly snapshotA: string
  readonly snapshotB: string
}

type Transition = { state: string; stage: string; timestamp: string; reason?: string }
function item(id: string, tag: string, text: string, source: string, version: string, history: Transition[], file = NOTE_PATH) {
  // Foundry keeps history newest first
  return { id, file, tag, text, source, history: [...history].reverse().map((h) => ({ ...h, cycle: "draft-release-note" })), artefact_version: version }
}

const C = "draft-release-note"
const S = (base: string) => `${base}:${C}`

function historyEntries(day: string, stages: Array<{ stage: string; at: string; comment: string; changed?: string[]; version?: string; open: number }>) {
  const out: Array<Record<string, unknown>> = []
  let seq = 0
  let forges = 0
  for (const s of stages) {
    const ts = `${day}T${s.at}Z`
    out.push({
      cycle: C,
      stage: "sort",
      iteration: forges,
      comment: `route ${s.stage}`,
      timestamp: ts.replace(/\.(\d+)Z$/, (_, ms) => `.${String(Math.max(0, Number(ms) - 4)).padStart(3, "0")}Z`),
      seq: seq++,
      open_feedback: s.open,
      route: s.stage,
    })
    const e: Record<string, unknown> = { cycle: C, stage: s.stage, iteration: forges, comment: s.comment, timestamp: ts, seq: seq++, open_feedback: s.open, changed_files: s.changed ?? [] }
    if (s.stage.startsWith("forge")) {
      e["artefact_version"] = s.version
      e["contract_passed"] = true
      forges++
    }
    out.push(e)
  }
  return out
}

function traceLines(day: string, digest: string, begins: Array<{ stage: string; at: string }>): string {
  const lines: unknown[] = []
  for (const b of begins) {
    const ts = `${day}T${b.at}Z`
    lines.push({ ts, tool: "foundry_stage_begin", args: { stage: b.stage, cycle: C, token: "eyJ...elided" }, result: { ok: true }, duration_ms: 4 })
    if (b.stage.startsWith("forge")) {
      lines.push({
        ts,
        tool: "foundry_config_cycle",
        args: { cycleId: C },
        result: { frontmatter: { id: C, name: "Draft release note", "output-type": "release-note", alloy: { brief_id: "release-note-voice", digest } }, body: "## Cycle" },
        duration_ms: 2,
      })
    }
  }
  return lines.map((l) => JSON.stringify(l)).join("\n") + "\n"
}

function newFilePatch(p: string, content: string): string {
  const lines = content.replace(/\n$/, "").split("\n")
  return `diff --git a/${p} b/${p}\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/${p}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join("\n")}\n`
}

function writeSnapshot(dir: string, parts: { readme: Record<string, unknown>; message: string; work: string; history: unknown; feedback: unknown; diff: string; trace: string }): void {
  mkdirSync(path.join(dir, "work"), { recursive: true })
  const fm = Object.entries(parts.readme)
    .map(([k, v]) => `${k}: ${v === null ? "null" : typeof v === "string" && k === "goal" ? JSON.stringify(v) : String(v)}`)
    .join("\n")
  writeFileSync(path.join(dir, "README.md"), `---\n${fm}\n---\n\n# Dry-run snapshot\n\n${parts.message}\n`)
  writeFileSync(path.join(dir, "work", "WORK.md"), parts.work)
  writeFileSync(path.join(dir, "work", "WORK.history.yaml"), stringify(parts.history))
  writeFileSync(path.join(dir, "work", "WORK.feedback.yaml"), stringify(parts.feedback, { lineWidth: 0 }))
  writeFileSync(path.join(dir, "diff.patch"), parts.diff)
  writeFileSync(path.join(dir, "trace.jsonl"), parts.trace)
}

const WORK_MD = `---\nflow: release-notes\ncycle: ${C}\nstages:\n  - forge:${C}\n  - quench:${C}\n  - appraise:${C}\n  - human-appraise:${C}\nmax-iterations: 3\n---\n# Goal\n\nWrite the customer-facing release note for the checkout redesign.\n`

export const GATE = {
  voice2: "law:alloy--release-note-voice--ac-2",
  voice3: "law:alloy--release-note-voice--ac-3",
  a11y1: "law:alloy--release-note-accessibility--ac-1",
  a11y3: "law:alloy--release-note-accessibility--ac-3",
}

export async function makeEvidenceProject(): Promise<EvidenceProject> {
  const p = await makePinnedProject()
  const olderDigest = p.digest
  // the accessibility intent joins the brief: a new build becomes current, and the cycle is re-pinned to it
  writeFileSync(path.join(p.dir, ".alloy", "intents", "release-note-accessibility.md"), A11Y_INTENT)
  const recipe = path.join(p.dir, ".alloy", "briefs", "release-note-voice.md")
  const recipeText = readFileSync(recipe, "utf8")
  const withA11y = recipeText.replace("intents:\n  - release-note-voice\n", "intents:\n  - release-note-voice\n  - release-note-accessibility\n")
  if (withA11y === recipeText) throw new Error("fixture: the example brief no longer lists its intents as expected")
  writeFileSync(recipe, withA11y)
  const built = buildBrief(p.ctx, "release-note-voice")
  pinBrief(p.ctx, { cycle: C, brief_id: "release-note-voice" })
  const digest = built.digest

  // ---- snapshot A: 20 May, under the older build --------------------------------------------------
  const dayA = "2026-05-20"
  const snapshotA = path.join(p.dir, ".snapshots", "dry-run-config-voice-release-notes-checkout-01JVXA0000000000000000000A")
  writeSnapshot(snapshotA, {
    readme: {
      branch: "dry-run/config-voice/release-notes-checkout",
      parent: "config/voice",
      flow: "release-notes",
      goal: "Checkout redesign note",
      startedAt: `${dayA}T09:00:00.000Z`,
      finishedAt: `${dayA}T09:20:00.000Z`,
      exitReason: "unknown",
    },
    message: "First dry run of the voice brief.",
    work: WORK_MD,
    history: historyEntries(dayA, [
      { stage: S("forge"), at: "09:02:00.000", comment: "Drafted the note.", changed: [NOTE_PATH], version: V1, open: 0 },
      { stage: S("quench"), at: "09:02:05.000", comment: `${NOTE_PATH}: 0 issues found`, open: 0 },
      { stage: S("appraise"), at: "09:05:00.000", comment: "2 issue(s) found by appraisers", open: 2 },
      { stage: S("forge"), at: "09:10:00.000", comment: "Addressed the action wording.", changed: [NOTE_PATH], version: V2, open: 2 },
      { stage: S("appraise"), at: "09:15:00.000", comment: "0 issue(s) found by appraisers", open: 1 },
    ]),
    feedback: {
      items: [
        item("01JVXA00000000000000000001", GATE.voice2, "The note opens with layout mechanics, not the shopper's gain.", S("appraise"), V1, [
          { state: "open", stage: S("appraise"), timestamp: `${dayA}T09:04:59.000Z` },
        ]),
        item("01JVXA00000000000000000002", GATE.voice3, "The note does not say whether the shopper must do anything.", S("appraise"), V1, [
          { state: "open", stage: S("appraise"), timestamp: `${dayA}T09:04:59.500Z` },
          { state: "actioned", stage: S("forge"), timestamp: `${dayA}T09:09:00.000Z` },
          { state: "resolved", stage: S("appraise"), timestamp: `${dayA}T09:14:59.000Z`, reason: "approved" },
        ]),
      ],
    },
    diff: newFilePatch(NOTE_PATH, NOTE_V1),
    trace: traceLines(dayA, olderDigest, [
      { stage: S("forge"), at: "09:00:30.000" },
      { stage: S("forge"), at: "09:06:00.000" },
    ]),
  })

  // ---- snapshot B: 27 May, under the current build ------------------------------------------------
  const dayB = "2026-05-27"
  const snapshotB = path.join(p.dir, ".snapshots", "dry-run-config-a11y-release-notes-checkout-01JWB00000000000000000000B")
  writeSnapshot(snapshotB, {
    readme: {
      branch: "dry-run/config-a11y/release-notes-checkout",
      parent: "config/a11y",
      flow: "release-notes",
      goal: "Checkout redesign note, accessible",
      startedAt: `${dayB}T10:00:00.000Z`,
      finishedAt: `${dayB}T10:12:00.000Z`,
      exitReason: "unknown",
    },
    message: "Dry run after adding the accessibility intent.",
    work: WORK_MD,
    history: historyEntries(dayB, [
      { stage: S("forge"), at: "10:00:40.000", comment: "Drafted release-notes/2026-05-checkout-redesign.md.", changed: [NOTE_PATH], version: V1, open: 0 },
      { stage: S("quench"), at: "10:00:50.000", comment: `${NOTE_PATH}: 1 issues found`, open: 1 },
      { stage: S("forge"), at: "10:02:00.000", comment: "Cut the note to 95 words; actioned 1 feedback item.", changed: [NOTE_PATH], version: V2, open: 1 },
      { stage: S("quench"), at: "10:02:05.000", comment: `${NOTE_PATH}: 0 issues found`, open: 0 },
      { stage: S("appraise"), at: "10:04:00.000", comment: "3 issue(s) found by appraisers", open: 3 },
      { stage: S("forge"), at: "10:06:00.000", comment: "Benefit first, link text fixed; one wont-fix.", changed: [NOTE_PATH], version: V3, open: 3 },
      { stage: S("quench"), at: "10:06:05.000", comment: `${NOTE_PATH}: 0 issues found`, open: 3 },
      { stage: S("appraise"), at: "10:08:00.000", comment: "1 issue(s) found by appraisers", open: 2 },
      { stage: S("human-appraise"), at: "10:11:00.000", comment: "The product owner wants a calmer title.", open: 3 },
    ]),
    feedback: {
      items: [
        item("01JWB000000000000000000001", "law:word-limit:count-words", "177 words; a release note must be 150 words or fewer.", S("quench"), V1, [
          { state: "open", stage: S("quench"), timestamp: `${dayB}T10:00:49.000Z` },
          { state: "actioned", stage: S("forge"), timestamp: `${dayB}T10:01:50.000Z` },
          { state: "resolved", stage: "sort", timestamp: `${dayB}T10:02:01.000Z`, reason: `superseded by forge revision ${V2}` },
        ]),
        item("01JWB000000000000000000002", GATE.voice2, "The first sentence describes the layout; lead with the quicker checkout.", S("appraise"), V2, [
          { state: "open", stage: S("appraise"), timestamp: `${dayB}T10:03:59.000Z` },
          { state: "actioned", stage: S("forge"), timestamp: `${dayB}T10:05:50.000Z` },
          { state: "resolved", stage: S("appraise"), timestamp: `${dayB}T10:07:59.000Z`, reason: "approved: the note now opens with the benefit" },
        ]),
        item("01JWB000000000000000000003", GATE.a11y1, 'The link text reads "here".', S("appraise"), V2, [
          { state: "open", stage: S("appraise"), timestamp: `${dayB}T10:03:59.100Z` },
          { state: "actioned", stage: S("forge"), timestamp: `${dayB}T10:05:51.000Z` },
          { state: "resolved", stage: "sort", timestamp: `${dayB}T10:07:58.000Z`, reason: `superseded by forge revision ${V3}` },
        ]),
        item("01JWB000000000000000000004", GATE.a11y3, "The title uses a rocket emoji as the only sign that the change is new.", S("appraise"), V2, [
          { state: "open", stage: S("appraise"), timestamp: `${dayB}T10:03:59.200Z` },
          { state: "wont-fix", stage: S("forge"), timestamp: `${dayB}T10:05:52.000Z`, reason: "Marketing requires the emoji; the sentence after it says the same in words." },
        ]),
        item("01JWB000000000000000000005", GATE.a11y1, 'The link now reads "this page": still not where it goes.', S("appraise"), V3, [
          { state: "open", stage: S("appraise"), timestamp: `${dayB}T10:07:59.500Z` },
        ]),
        item("01JWB000000000000000000006", "human", "AC-4: drop the exclamation mark from the title before we publish.", S("human-appraise"), V3, [
          { state: "open", stage: S("human-appraise"), timestamp: `${dayB}T10:10:30.000Z` },
        ]),
      ],
    },
    diff: newFilePatch(NOTE_PATH, NOTE_FINAL),
    trace: traceLines(dayB, digest, [
      { stage: S("forge"), at: "10:00:10.000" },
      { stage: S("forge"), at: "10:01:00.000" },
      { stage: S("forge"), at: "10:04:30.000" },
      { stage: S("human-appraise"), at: "10:09:00.000" },
    ]),
  })
  return { ...p, digest, olderDigest, snapshotA, snapshotB }
}

/** Expected verdicts of the full scenario (sample WORK files + both snapshots). */
export const EXPECTED = {
  "release-note-voice#AC-1": "satisfied",
  "release-note-voice#AC-2": "satisfied",
  "release-note-voice#AC-3": "stale",
  "release-note-voice#AC-4": "failing",
  "release-note-voice#AC-5": "satisfied",
  "release-note-accessibility#AC-1": "failing",
  "release-note-accessibility#AC-2": "unproven",
  "release-note-accessibility#AC-3": "waived",
} as const
