/** The evidence commands through the CLI entry: import, runs watch, evidence signoff, report, export. */
import { existsSync, readFileSync, rmSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { cliSession } from "../helpers/cli.js"
import { withEnv } from "../helpers/env.js"
import { git, gitInitCommitAll } from "../helpers/git.js"
import { appendEvent } from "../../src/store/outbox.js"
import { makeEvidenceProject, type EvidenceProject } from "./import-fixtures.js"
import { makeProject } from "../helpers/project.js"

describe("evidence CLI", () => {
  let p: EvidenceProject
  beforeAll(async () => {
    p = await makeEvidenceProject()
  })
  afterAll(() => p?.cleanup())

  test("import prints one line per source and is idempotent", async () => {
    const { run, out } = cliSession(p.dir)
    expect(await run("import")).toBe(0)
    expect(out[0]).toMatch(/^ok {4}snapshot \.snapshots\/dry-run-config-a11y-\S+: 10 records \(10 new, 0 already imported\), 1 session$/)
    expect(out[out.length - 1]).toMatch(/^Imported 22 new records\./)
    expect(await run("import", "--json")).toBe(0)
    const j = JSON.parse(out.join("\n"))
    expect(j).toMatchObject({ ok: true, created: 0, existing: 22 })
    expect(await run("import", "snapshot", path.relative(p.dir, p.snapshotA))).toBe(0)
    expect(out[0]).toMatch(/6 records \(0 new, 6 already imported\)/)
    expect(await run("import", "tarball", "x")).toBe(2)
  })

  test("report --json is a summary (counts, verdicts, the deciding observations) and says what it left out; --full adds every record", async () => {
    const { run, out, json } = cliSession(p.dir)
    expect(await run("report", "--json")).toBe(0)
    const summary = json() as unknown as {
      detail: string
      records: number
      observations: number
      omitted: { records: number; observations: number; full: string }
      intents: Array<{ criteria: Array<{ ref: string; verdict: string; observations: number; decisive: Array<{ id: string }>; gates: Array<{ decisive: string[] }> }> }>
    }
    expect(summary).toMatchObject({ ok: true, detail: "summary", records: 22, omitted: { records: 22, full: "opencode-alloy report --json --full" } })
    const criteria = summary.intents.flatMap((i) => i.criteria)
    const decisive = criteria.flatMap((c) => c.decisive)
    expect(decisive.length).toBeGreaterThan(0)
    for (const c of criteria) expect(c.decisive.map((o) => o.id).sort()).toEqual([...new Set(c.gates.flatMap((g) => g.decisive))].sort())
    expect(summary.omitted.observations).toBe(summary.observations - decisive.length)
    expect(out.join("\n")).not.toContain('"idempotency_key"') // no record in full

    expect(await run("report", "--json", "--full")).toBe(0)
    const full = json() as unknown as {
      detail: string
      records: Array<{ run_id: string }>
      observations: unknown[]
      intents: Array<{ criteria: Array<{ ref: string; verdict: string; evidence: unknown[] }> }>
    }
    expect(full.detail).toBe("full")
    expect(full.records).toHaveLength(22)
    expect(full.observations).toHaveLength(summary.observations)
    // the same verdicts either way
    expect(full.intents.flatMap((i) => i.criteria.map((c) => [c.ref, c.verdict, c.evidence.length]))).toEqual(criteria.map((c) => [c.ref, c.verdict, c.observations]))
    // --full belongs to --json
    expect(await run("report", "--full")).toBe(2)
  })

  test("report and status lines show every verdict", async () => {
    const { run, out } = cliSession(p.dir)
    expect(await run("report")).toBe(0)
    expect(out[0]).toBe("Satisfaction: 8 criteria in 2 intents — 2 failing, 1 stale, 1 unproven, 1 waived, 3 satisfied (22 run records)")
    expect(await run("report", "--html", "reports/evidence.html")).toBe(0)
    expect(out[0]).toBe("Wrote reports/evidence.html: 2 intent(s), 8 criteria — 2 failing, 1 stale, 1 unproven, 1 waived, 3 satisfied.")
    const html = readFileSync(path.join(p.dir, "reports", "evidence.html"), "utf8")
    for (const v of ["satisfied", "failing", "stale", "unproven", "waived"]) expect(html).toContain(`data-verdict="${v}"`)
  })

  test("evidence signoff satisfies a human gate as git's identity, once per person and build; other criteria are refused", async () => {
    const { run, out, err } = cliSession(p.dir)
    await withEnv({ GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" }, async () => {
      // the ledger is committed: outside a git repository a sign-off is refused with the fix
      expect(await run("evidence", "signoff", "release-note-accessibility#AC-2")).toBe(2)
      expect(err.join("\n")).toMatch(/not the top of a git repository/)
      gitInitCommitAll(p.dir)
      git(p.dir, ["config", "user.name", "Sam Lee"])
      git(p.dir, ["config", "user.email", "sam@example.com"])
      expect(await run("evidence", "signoff", "release-note-accessibility#AC-2", "listened", "with", "VoiceOver")).toBe(0)
      expect(out[0]).toMatch(
        /^Recorded: Sam Lee <sam@example\.com> signed off release-note-accessibility#AC-2 under release-note-voice@[0-9a-f]{12} \(\.alloy\/evidence\/signoffs\/release-note-accessibility\/AC-2\/[0-9a-f]{32}\.json\)\.$/,
      )
      expect(await run("evidence", "signoff", "release-note-accessibility#AC-2", "listened", "with", "VoiceOver")).toBe(0)
      expect(out[0]).toMatch(/^Already recorded/)
      expect(await run("evidence", "--intent", "release-note-accessibility", "--json")).toBe(0)
      const j = JSON.parse(out.join("\n")) as { criteria: Array<{ ref: string; verdict: string; observations: Array<{ kind: string; summary: string }> }> }
      const ac2 = j.criteria.find((c) => c.ref === "release-note-accessibility#AC-2")!
      expect(ac2.verdict).toBe("satisfied")
      expect(ac2.observations[0]).toMatchObject({ kind: "signoff" })
      expect(ac2.observations[0]!.summary).toMatch(/^approved by Sam Lee <sam@example\.com> as the accessibility lead: listened with VoiceOver \[commit [0-9a-f]{7}, unsigned\]$/)
      expect(await run("evidence", "signoff", "release-note-voice#AC-2")).toBe(2)
      expect(err.join("\n")).toMatch(/has no human gate in any built brief/)
      expect(err.join("\n")).toMatch(/fix: give the criterion `evidence: \{kind: human\}`/)
      expect(await run("evidence", "signoff", "not-a-ref")).toBe(2)
      expect(await run("evidence", "signoff", "release-note-accessibility#AC-2", "--by", "Sam")).toBe(2)
      expect(await run("evidence", "signoff")).toBe(2)
    })
  })

  test("runs watch prints the event stream and the stages still open", async () => {
    const { run, out } = cliSession(p.dir)
    expect(await run("runs", "watch")).toBe(0)
    expect(out[0]).toMatch(/^No events yet/)
    const pin = { brief_id: "release-note-voice", digest: p.digest }
    appendEvent(p.dir, { kind: "dispatch", at: "2026-05-27T10:00:00.000Z", cycle: "draft-release-note", stage: "forge:draft-release-note", pin })
    appendEvent(p.dir, { kind: "stage_begun", at: "2026-05-27T10:00:10.000Z", cycle: "draft-release-note", stage: "forge:draft-release-note", pin })
    appendEvent(p.dir, { kind: "stage_ended", at: "2026-05-27T10:01:00.000Z", cycle: "draft-release-note", stage: "forge:draft-release-note", pin })
    appendEvent(p.dir, { kind: "stage_begun", at: "2026-05-27T10:09:00.000Z", cycle: "draft-release-note", stage: "human-appraise:draft-release-note", pin })
    expect(await run("runs", "watch")).toBe(0)
    expect(out.slice(0, 4).map((l) => l.split(" release-note-voice@")[0])).toEqual([
      "10:00:00  dispatch  forge:draft-release-note",
      "10:00:10  begun     forge:draft-release-note",
      "10:01:00  ended     forge:draft-release-note",
      "10:09:00  begun     human-appraise:draft-release-note",
    ])
    expect(out[4]).toMatch(/^\s+open\s+human-appraise:draft-release-note \(draft-release-note\) since 10:09:00/)
    expect(await run("runs", "watch", "--json")).toBe(0)
    expect(out.map((l) => JSON.parse(l).kind)).toEqual(["dispatch", "stage_begun", "stage_ended", "stage_begun"])
    expect(await run("runs", "nope")).toBe(2)
  })

  test("export writes OTLP JSON and in-toto JSON Lines", async () => {
    const { run, out } = cliSession(p.dir)
    expect(await run("export", "--format", "otel", "--out", "traces.json")).toBe(0)
    // sign-offs are ledger entries, not stage runs: no span of their own
    expect(out[0]).toBe("Wrote traces.json (22 stage span(s)).")
    const otel = JSON.parse(readFileSync(path.join(p.dir, "traces.json"), "utf8"))
    expect(otel.resourceSpans[0].scopeSpans[0].spans.length).toBe(22 + 3) // + one root span per session (3 imported)
    expect(await run("export", "--format", "intoto", "--out", "verdicts.intoto.jsonl")).toBe(0)
    const lines = readFileSync(path.join(p.dir, "verdicts.intoto.jsonl"), "utf8").trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!).predicateType).toBe("https://opencode-alloy.dev/verdicts/v1")
  })
})

test("without .alloy/ the commands say how to start", async () => {
  const p = makeProject()
  try {
    rmSync(path.join(p.dir, ".alloy"), { recursive: true, force: true })
    const { run, err } = cliSession(p.dir)
    expect(await run("import")).toBe(2)
    expect(err.join("\n")).toMatch(/there is no \.alloy\/ folder.*\n\s+fix: run `opencode-alloy init`/)
    expect(await run("report")).toBe(2)
    expect(existsSync(path.join(p.dir, ".alloy"))).toBe(false)
  } finally {
    p.cleanup()
  }
})
