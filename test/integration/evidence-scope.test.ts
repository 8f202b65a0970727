// Evidence counts only from the cycles a criterion applies to (core/formation.ts appliesTo): a run of
// cycle B — an appraisal citing the gate, a recorded check — never satisfies a criterion scoped to
// cycle A; the same evidence from cycle A does. `check --record` writes runs only for those cycles.
import { writeFileSync, mkdirSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { loadEvidence } from "../../src/evidence/model.js"
import { AlloyContext } from "../../src/service/context.js"
import { RUN_RECORD_TYPE, recordKey, runIdFor, type RunRecord } from "../../src/core/run-record.js"
import { writeRecord } from "../../src/store/outbox.js"
import { runCli } from "../helpers/cli.js"
import { CONDENSE_CYCLE_ID, CYCLE_ID, changelogIntent, makePinnedProject, TWO_CYCLE_SCOPE, twoCycleRecipe, type PinnedProject } from "../helpers/project.js"

const DRAFT = CYCLE_ID
const CONDENSE = CONDENSE_CYCLE_ID

const CHANGELOG_INTENT = changelogIntent("node scripts/changelog-link.mjs")
const RECIPE = twoCycleRecipe(TWO_CYCLE_SCOPE)

let p: PinnedProject
let digest: string
beforeEach(async () => {
  p = await makePinnedProject()
  writeFileSync(path.join(p.dir, ".alloy", "intents", "changelog-line.md"), CHANGELOG_INTENT)
  writeFileSync(path.join(p.dir, ".alloy", "briefs", "release-note-voice.md"), RECIPE)
  mkdirSync(path.join(p.dir, "scripts"), { recursive: true })
  writeFileSync(path.join(p.dir, "scripts", "changelog-link.mjs"), "process.exit(0)\n")
  digest = buildBrief(p.ctx, p.briefId).digest
  pinBrief(p.ctx, { cycle: DRAFT, brief_id: p.briefId })
  pinBrief(p.ctx, { cycle: CONDENSE, brief_id: p.briefId })
})
afterEach(() => p.cleanup())

let n = 0
function record(cycle: string, stage: string, extra: Partial<RunRecord>): RunRecord {
  const at = new Date(Date.UTC(2026, 4, 1, 10, 0, ++n)).toISOString()
  const key = recordKey(["scope-test", cycle, stage, n])
  return {
    $type: RUN_RECORD_TYPE,
    run_id: runIdFor(key, Date.parse(at)),
    idempotency_key: key,
    pin: { brief_id: "release-note-voice", digest },
    cycle,
    stage,
    ended_at: at,
    alloy_version: "0.0.0",
    source: "import",
    session: `${cycle}@2026-05-01T10:00:00.000Z`,
    outcome: "ok",
    ...extra,
  }
}

const appraisal = (cycle: string) =>
  record(cycle, "appraise:the-editor", {
    feedback: {
      total: 1,
      by_state: { resolved: 1 },
      by_tag: { "law:alloy--changelog-line--ac-1": 1 },
      alloy_items: [],
      items: [{ id: "f-1", file: "CHANGELOG.md", tag: "law:alloy--changelog-line--ac-1", state: "resolved", text: "one line, fine" }],
    },
  })

const checkRun = (cycle: string) =>
  record(cycle, "check", {
    source: "cli",
    session: `check@${cycle}`,
    check: {
      gate: "changelog-line#AC-2/check",
      criterion: "changelog-line#AC-2",
      command: "node scripts/changelog-link.mjs",
      commands: [{ command: "node scripts/changelog-link.mjs", shell: false, exit_code: 0, duration_ms: 5, stdout_sha256: "0".repeat(64), stderr_sha256: "0".repeat(64), output_bytes: 0, tail: "" }],
    },
  })

const verdict = (ref: string) =>
  loadEvidence(new AlloyContext(p.dir))
    .intents.flatMap((i) => i.criteria)
    .find((c) => c.ref === ref)!

describe("evidence counts only from the cycles a criterion applies to", () => {
  it("an appraisal of another cycle that resolved the gate's item proves nothing; the same appraisal of its own cycle does", () => {
    writeRecord(p.dir, appraisal(DRAFT))
    expect(verdict("changelog-line#AC-1").verdict).toBe("unproven")
    expect(verdict("changelog-line#AC-1").evidence).toEqual([])
    writeRecord(p.dir, appraisal(CONDENSE))
    expect(verdict("changelog-line#AC-1").verdict).toBe("satisfied")
  })

  it("a recorded check run of another cycle proves nothing; one of its own cycle does", () => {
    writeRecord(p.dir, checkRun(DRAFT))
    expect(verdict("changelog-line#AC-2").verdict).toBe("unproven")
    writeRecord(p.dir, checkRun(CONDENSE))
    expect(verdict("changelog-line#AC-2").verdict).toBe("satisfied")
  })

  it("check --record writes a run only for the cycles the criterion applies to", async () => {
    const r = await runCli(p.dir, "check", "changelog-line", "--record", "--json")
    expect(r.code).toBe(0)
    const res = r.json<{ results: Array<{ criterion: string; recorded: Array<{ cycle: string }> }> }>().results
    expect(res.find((x) => x.criterion === "changelog-line#AC-2")!.recorded.map((x) => x.cycle)).toEqual([CONDENSE])
    expect(verdict("changelog-line#AC-2").verdict).toBe("satisfied")
  })
})
