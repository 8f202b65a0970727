/** Pure fixtures for the evidence unit tests: the example bundle built in memory, and record builders. */
import { readFileSync } from "node:fs"
import path from "node:path"
import { buildBundle } from "../../src/core/build.js"
import { parseIntent } from "../../src/core/intent.js"
import { parseRecipe } from "../../src/core/recipe.js"
import type { Bundle } from "../../src/core/bundle.js"
import { buildEvidenceModel, type EvidenceModel } from "../../src/evidence/model.js"
import { RUN_RECORD_TYPE, type FeedbackItemSummary, type RunRecord } from "../../src/core/run-record.js"
import { EXAMPLE_ALLOY_DIR } from "../../src/demo/example-project.js"

export const INTENT_TEXT = readFileSync(path.join(EXAMPLE_ALLOY_DIR, "intents", "release-note-voice.md"), "utf8")
export const RECIPE_TEXT = readFileSync(path.join(EXAMPLE_ALLOY_DIR, "briefs", "release-note-voice.md"), "utf8")

export function exampleBundle(editIntent: (t: string) => string = (t) => t): { bundle: Bundle; digest: string } {
  const text = editIntent(INTENT_TEXT)
  const out = buildBundle({
    recipe: { value: parseRecipe(RECIPE_TEXT, "briefs/release-note-voice.md"), text: RECIPE_TEXT },
    intents: [{ value: parseIntent(text, "intents/release-note-voice.md"), text }],
  })
  return { bundle: out.bundle, digest: out.digest }
}

/**
 * Two builds of the example brief: the current one and an older one (its AC-1 said 140 words),
 * with the bundles by digest and the brief's current digest, as the evidence readers take them.
 */
export function twoBuilds() {
  const cur = exampleBundle()
  const old = exampleBundle((t) => t.replace("150 words or fewer", "140 words or fewer"))
  const bundles = new Map<string, Bundle>([
    [cur.digest, cur.bundle],
    [old.digest, old.bundle],
  ])
  const current = new Map([["release-note-voice", cur.digest]])
  return { cur, old, bundles, current }
}

let n = 0
/** A ULID-shaped run id that sorts by creation order. */
export function runId(): string {
  n++
  return `01JW${String(n).padStart(22, "0")}`
}

export function record(over: Partial<RunRecord> & { digest?: string | null; at?: string }): RunRecord {
  const { digest, at, ...rest } = over
  const key = (n + 1000).toString(16).padStart(64, "0")
  return {
    $type: RUN_RECORD_TYPE,
    run_id: runId(),
    idempotency_key: key,
    pin: digest === null ? null : { brief_id: "release-note-voice", digest: digest ?? "sha256:" + "0".repeat(64) },
    cycle: "draft-release-note",
    stage: "appraise:draft-release-note",
    ended_at: at ?? "2026-05-27T10:00:00.000Z",
    alloy_version: "0.0.0-test",
    source: "import",
    session: "draft-release-note@2026-05-27T09:00:00.000Z",
    outcome: "ok",
    ...rest,
  }
}

/**
 * A long history for the views that show a brief's newest sessions: `n` sessions of one clean
 * quench run each under `digest`, a minute apart from 2026-05-21 (between the report scenario's
 * oldest and newest sessions).
 */
export function quenchSessions(digest: string, n: number): RunRecord[] {
  return Array.from({ length: n }, (_, k) =>
    record({
      digest,
      session: `s-${k}`,
      stage: "quench:draft-release-note",
      at: new Date(Date.parse("2026-05-21T00:00:00.000Z") + k * 60_000).toISOString(),
      quench: { issues: [] },
    }),
  )
}

/** A feedback item whose transitions are given oldest first ([state, time, reason?]). */
export function fbItem(id: string, tag: string, transitions: Array<[string, string, string?]>, extra: Partial<FeedbackItemSummary> = {}): FeedbackItemSummary {
  const history = [...transitions].reverse().map(([state, timestamp, reason]) => ({ state, timestamp, stage: "appraise:draft-release-note", ...(reason ? { reason } : {}) }))
  return { id, file: "release-notes/x.md", tag, state: history[0]!.state, ...(history[0]!.reason ? { reason: history[0]!.reason } : {}), text: `text of ${id}`, history, ...extra }
}

export function feedback(items: FeedbackItemSummary[]): NonNullable<RunRecord["feedback"]> {
  return { total: items.length, by_state: {}, by_tag: {}, alloy_items: [], items }
}

/**
 * The scenario the report and export tests share: two builds of the example brief, a record under
 * the older one, an appraisal with a hostile summary and an open item, and a failed finish.
 */
export function reportScenario() {
  const { cur, old, bundles, current } = twoBuilds()
  const AC2 = "law:alloy--release-note-voice--ac-2"
  const EVIL = `<script>alert("x")</script><img src=x onerror=alert(1)>`

  const session = "draft-release-note@2026-05-27T10:00:00.000Z"
  const RECORDS = [
    record({
      digest: old.digest,
      session: "s-old",
      at: "2026-05-20T10:00:00.000Z",
      feedback: feedback([fbItem("I0", "law:alloy--release-note-voice--ac-3", [["resolved", "2026-05-20T10:00:00.000Z"]])]),
    }),
    record({
      digest: cur.digest,
      session,
      stage: "appraise:draft-release-note",
      started_at: "2026-05-27T10:00:00.000Z",
      at: "2026-05-27T10:05:00.000Z",
      commit: "0123456789abcdef0123456789abcdef01234567",
      summary: EVIL,
      feedback: feedback([fbItem("I1", AC2, [["open", "2026-05-27T10:04:00.000Z"]], { text: EVIL })]),
    }),
    record({
      digest: cur.digest,
      session,
      stage: "finish",
      at: "2026-05-27T10:10:00.000Z",
      outcome: "error",
      error: "dry run failed",
      artefacts: [
        { path: "release-notes/a.md", state: "new", sha256: "d".repeat(64) },
        { path: "gone.md", state: "deleted" },
      ],
    }),
  ]

  /** the scenario's model; `more`: records added to its three */
  const model = (more: readonly RunRecord[] = []): EvidenceModel =>
    buildEvidenceModel({
      project: `acme <shop>`,
      now: "2026-05-28T08:00:00.000Z",
      bundles,
      current,
      validators: [],
      records: [...RECORDS, ...more],
    })
  return { cur, old, AC2, EVIL, session, RECORDS, model }
}
