/**
 * Import from git: a work branch with Foundry's stage commits and ATTEST.md, then its archive branch,
 * in a temporary repository built from the sample project. Commits become provenance; the same run read
 * from two branches is one record; importing twice adds nothing.
 */
import { git } from "../helpers/git.js"
import { readdirSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { stringify } from "yaml"
import { importAll, importBranch, discoverSources } from "../../src/evidence/import.js"
import { loadEvidence } from "../../src/evidence/model.js"
import { readRecords, runPaths } from "../../src/store/outbox.js"
import { sha256Hex } from "../../src/core/digest.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { main } from "../../src/cli/main.js"

const C = "draft-release-note"
const S = (b: string) => `${b}:${C}`
const NOTE = "release-notes/2026-05-checkout-redesign.md"
const BRANCH = "work/release-notes-checkout-v2"

interface Stage {
  stage: string
  at: string
  comment: string
  version?: string
  items?: unknown[]
  note?: string
}

/** Build the branch stage by stage the way Foundry commits it. */
function buildWorkBranch(dir: string): { commits: Map<string, string>; attestSha: string } {
  git(dir, ["checkout", "-q", "-b", BRANCH])
  const work = `---\nflow: release-notes\ncycle: ${C}\nstages:\n  - forge:${C}\n  - quench:${C}\n  - appraise:${C}\n  - human-appraise:${C}\n---\n# Goal\n\nRewrite the checkout note.\n`
  writeFileSync(path.join(dir, "WORK.md"), work)
  git(dir, ["add", "-A"])
  git(dir, ["commit", "-q", "-m", `[${C}] setup: configure stages and limits`], "2026-06-02T09:00:00Z")
  const v1 = sha256Hex("b1")
  const v2 = sha256Hex("b2")
  const ac3 = (states: Array<[string, string, string, string?]>) => ({
    id: "01JX0000000000000000000001",
    file: NOTE,
    tag: "law:alloy--release-note-voice--ac-3",
    text: "Say whether the shopper has to do anything.",
    source: S("appraise"),
    history: [...states].reverse().map(([state, stage, timestamp, reason]) => ({ state, stage, cycle: C, timestamp, ...(reason ? { reason } : {}) })),
    artefact_version: v1,
  })
  const stages: Stage[] = [
    { stage: S("forge"), at: "2026-06-02T09:05:00.000Z", comment: "Rewrote the note.", version: v1, note: "# Checkout in one step\n\nPay faster: checkout is now a single page.\n" },
    { stage: S("quench"), at: "2026-06-02T09:05:10.000Z", comment: `${NOTE}: 0 issues found` },
    { stage: S("appraise"), at: "2026-06-02T09:08:00.000Z", comment: "1 issue(s) found by appraisers", items: [ac3([["open", S("appraise"), "2026-06-02T09:07:59.000Z"]])] },
    {
      stage: S("forge"),
      at: "2026-06-02T09:10:00.000Z",
      comment: "Added that nothing needs doing; actioned 1 item.",
      version: v2,
      items: [
        ac3([
          ["open", S("appraise"), "2026-06-02T09:07:59.000Z"],
          ["actioned", S("forge"), "2026-06-02T09:09:50.000Z"],
        ]),
      ],
      note: "# Checkout in one step\n\nPay faster: checkout is now a single page. Nothing to do on your side.\n",
    },
    { stage: S("quench"), at: "2026-06-02T09:10:05.000Z", comment: `${NOTE}: 0 issues found` },
    {
      stage: S("appraise"),
      at: "2026-06-02T09:12:00.000Z",
      comment: "0 issue(s) found by appraisers",
      items: [
        ac3([
          ["open", S("appraise"), "2026-06-02T09:07:59.000Z"],
          ["actioned", S("forge"), "2026-06-02T09:09:50.000Z"],
          ["resolved", S("appraise"), "2026-06-02T09:11:59.000Z", "approved"],
        ]),
      ],
    },
    { stage: S("human-appraise"), at: "2026-06-02T09:20:00.000Z", comment: "The product owner approved the tone." },
  ]
  const history: unknown[] = []
  let items: unknown[] = []
  const commits = new Map<string, string>()
  let seq = 0
  let forges = 0
  for (const s of stages) {
    if (s.note) writeFileSync(path.join(dir, NOTE), s.note)
    if (s.items) items = s.items
    history.push({ cycle: C, stage: "sort", iteration: forges, comment: `route ${s.stage}`, timestamp: s.at, seq: seq++, open_feedback: 0, route: s.stage })
    history.push({
      cycle: C,
      stage: s.stage,
      iteration: forges,
      comment: s.comment,
      timestamp: s.at,
      seq: seq++,
      open_feedback: 0,
      changed_files: s.note ? [NOTE] : [],
      ...(s.version ? { artefact_version: s.version, contract_passed: true } : {}),
    })
    if (s.stage.startsWith("forge")) forges++
    writeFileSync(path.join(dir, "WORK.history.yaml"), stringify(history))
    writeFileSync(path.join(dir, "WORK.feedback.yaml"), stringify({ items }, { lineWidth: 0 }))
    git(dir, ["add", "-A"])
    git(dir, ["commit", "-q", "-m", `[${C}] ${s.stage}: ${s.comment}`], s.at)
    commits.set(`${s.stage}@${s.at}`, git(dir, ["rev-parse", "HEAD"]).trim())
  }
  const payload = {
    contract: { entry_cycle: C, flow_id: "release-notes", required_stages: stages.map((s) => s.stage) },
    outputs: [{ path: NOTE, state: "modified" }],
    process: { stages: stages.map((s, i) => ({ stage: s.stage, cycle: C, iteration: i, open_feedback: 0, changed_files: s.note ? [NOTE] : [] })) },
    request: { goal_text: "Rewrite the checkout note." },
    schema: "foundry-attestation/v1",
    work_branch_archive: { name: `archive/${BRANCH}-0000000`, tip_sha: "0".repeat(40) },
  }
  writeFileSync(
    path.join(dir, "ATTEST.md"),
    `Rewrite the checkout note\n\ndiff-sha256: ${"e".repeat(64)}\n\n-----BEGIN FOUNDRY ATTESTATION-----\n${JSON.stringify(payload)}\n-----END FOUNDRY ATTESTATION-----\n`,
  )
  git(dir, ["add", "-A"])
  git(dir, ["commit", "-q", "-m", `[${C}] attest: cycle complete`], "2026-06-02T09:21:00Z")
  const attestSha = git(dir, ["rev-parse", "HEAD"]).trim()
  git(dir, ["checkout", "-q", "main"])
  return { commits, attestSha }
}

describe("import from a work branch and its archive branch", () => {
  let p: PinnedProject
  let built: { commits: Map<string, string>; attestSha: string }
  beforeAll(async () => {
    p = await makePinnedProject()
    // a base branch without WORK files, as Foundry leaves it
    for (const f of ["WORK.md", "WORK.history.yaml", "WORK.feedback.yaml"]) rmSync(path.join(p.dir, f))
    git(p.dir, ["init", "-q"])
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-q", "-m", "base"], "2026-06-01T08:00:00Z")
    built = buildWorkBranch(p.dir)
  })
  afterAll(() => p?.cleanup())

  test("discovery lists the work branch; the import records every stage with its commit, and the attestation", () => {
    expect(discoverSources(p.ctx)).toEqual([{ kind: "branch", ref: BRANCH }])
    const r = importBranch(p.ctx, BRANCH)
    expect(r).toMatchObject({ kind: "branch", ref: BRANCH, sessions: 1, records: 8, created: 8, existing: 0, warnings: [] })
    const { records } = readRecords(p.dir)
    const stages = records.filter((x) => x.stage !== "attest")
    expect(stages).toHaveLength(7)
    for (const x of stages) {
      expect(x.commit).toMatch(/^[0-9a-f]{40}$/)
      expect(x.commit).toBe(built.commits.get(`${x.stage}@${x.ended_at}`))
    }
    expect(new Set(stages.map((x) => x.commit)).size).toBe(7)
    const attest = records.find((x) => x.stage === "attest")!
    expect(attest.commit).toBe(built.attestSha)
    expect(attest.attestation).toMatchObject({ diff_sha256: "e".repeat(64), stages: [S("forge"), S("quench"), S("appraise"), S("human-appraise")] })
    const note = git(p.dir, ["show", `${BRANCH}:${NOTE}`])
    expect(attest.artefacts).toEqual([{ path: NOTE, state: "modified", sha256: sha256Hex(note) }])
    for (const x of records) expect(x).toMatchObject({ pin: { brief_id: "release-note-voice", digest: p.digest }, pin_source: "branch", origin: { kind: "branch", ref: BRANCH } })
  })

  test("every criterion with a recorded observation is satisfied, with commits in the provenance; the attestation alone proves no law gate", () => {
    const m = loadEvidence(p.ctx)
    // AC-2's law gate was never cited, and a branch does not say which gates the appraisers were shown: no proof by silence
    expect(Object.fromEntries(m.intents[0]!.criteria.map((c) => [c.id, c.verdict]))).toEqual({ "AC-1": "satisfied", "AC-2": "unproven", "AC-3": "satisfied", "AC-4": "satisfied", "AC-5": "satisfied" })
    const resolved = m.observations.find((o) => o.criterion === "release-note-voice#AC-3" && o.kind === "appraisal" && o.outcome === "pass")!
    expect(resolved.provenance.commit).toMatch(/^[0-9a-f]{40}$/)
    expect(resolved.provenance.commit).toBe(built.commits.get(`${S("appraise")}@2026-06-02T09:12:00.000Z`))
    expect(
      m.observations
        .filter((o) => o.kind === "attestation")
        .map((o) => o.criterion)
        .sort(),
    ).toEqual(["release-note-voice#AC-4"])
  })

  test("importing again, or importing the archive branch of the same work, adds nothing", () => {
    const before = readdirSync(runPaths(p.dir).records).sort()
    expect(importBranch(p.ctx, BRANCH)).toMatchObject({ created: 0, existing: 8 })
    git(p.dir, ["branch", `archive/${BRANCH}-${built.attestSha.slice(0, 7)}`, BRANCH])
    const all = importAll(p.ctx)
    expect(all.sources.map((s) => [s.kind, s.ref, s.created, s.existing])).toEqual([
      ["branch", `archive/${BRANCH}-${built.attestSha.slice(0, 7)}`, 0, 8],
      ["branch", BRANCH, 0, 8],
    ])
    expect(readdirSync(runPaths(p.dir).records).sort()).toEqual(before)
  })

  test("unknown and unsafe branch names are refused", () => {
    expect(() => importBranch(p.ctx, "work/does-not-exist")).toThrowError(/there is no branch work\/does-not-exist/)
    expect(() => importBranch(p.ctx, "--output=/tmp/x")).toThrowError(/not a branch name/)
    expect(() => importBranch(p.ctx, "work/a..b")).toThrowError(/not a branch name/)
  })

  test("the CLI: import --from <branch>, runs list, evidence, report, export", async () => {
    const out: string[] = []
    const err: string[] = []
    const run = (...argv: string[]) => main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), cwd: p.dir })
    out.length = 0
    expect(await run("import", "--from", BRANCH)).toBe(0)
    expect(out.join("\n")).toMatch(new RegExp(`ok    branch ${BRANCH}: 8 records \\(0 new, 8 already imported\\), 1 session`))
    out.length = 0
    expect(await run("runs", "list")).toBe(0)
    expect(out).toHaveLength(8)
    expect(out[0]).toMatch(/forge:draft-release-note\s+release-note-voice@[0-9a-f]{12}\s+import:branch\s+[0-9a-f]{7}\s+ok$/)
    out.length = 0
    expect(await run("evidence", "--intent", "release-note-voice")).toBe(0)
    expect(out[0]).toMatch(/^release-note-voice — UNPROVEN: 4 of 5 criteria satisfied/)
    expect(out.join("\n")).toMatch(/commit [0-9a-f]{7}/)
    out.length = 0
    expect(await run("report", "--html", "report.html")).toBe(0)
    expect(out[0]).toMatch(/^Wrote report.html: 1 intent\(s\), 5 criteria — 1 unproven, 4 satisfied\.$/)
    out.length = 0
    expect(await run("export", "--format", "intoto")).toBe(0)
    const st = JSON.parse(out.join("\n"))
    expect(st._type).toBe("https://in-toto.io/Statement/v1")
    expect(st.subject[0].name).toBe(NOTE)
    out.length = 0
    expect(await run("export", "--format", "yaml")).toBe(2)
    expect(err.join("\n")).toMatch(/--format "yaml" is not one of otel, intoto/)
  })
})

describe("a branch whose flow ran two cycles", () => {
  test("each life of the WORK files is one session, read from the commit that last held it", async () => {
    const p = await makePinnedProject()
    try {
      for (const f of ["WORK.md", "WORK.history.yaml", "WORK.feedback.yaml"]) rmSync(path.join(p.dir, f))
      git(p.dir, ["init", "-q"])
      git(p.dir, ["add", "-A"])
      git(p.dir, ["commit", "-q", "-m", "base"], "2026-06-01T08:00:00Z")
      git(p.dir, ["checkout", "-q", "-b", "work/release-notes-two"])
      const entry = (cycle: string, stage: string, at: string, seq: number) => ({ cycle, stage, iteration: 0, comment: stage, timestamp: at, seq, open_feedback: 0, changed_files: [] })
      const put = (cycle: string, history: unknown[], msg: string, at: string) => {
        writeFileSync(path.join(p.dir, "WORK.md"), `---\nflow: release-notes\ncycle: ${cycle}\n---\n# Goal\n\nx\n`)
        writeFileSync(path.join(p.dir, "WORK.history.yaml"), stringify(history))
        writeFileSync(path.join(p.dir, "WORK.feedback.yaml"), "items: []\n")
        git(p.dir, ["add", "-A"])
        git(p.dir, ["commit", "-q", "-m", msg], at)
      }
      const h1 = [entry(C, "sort", "2026-06-03T10:00:00.000Z", 0), entry(C, S("forge"), "2026-06-03T10:00:00.000Z", 1)]
      put(C, h1, `[${C}] ${S("forge")}: forge`, "2026-06-03T10:00:00Z")
      const h1b = [...h1, entry(C, "sort", "2026-06-03T10:01:00.000Z", 2), entry(C, S("appraise"), "2026-06-03T10:01:00.000Z", 3)]
      put(C, h1b, `[${C}] ${S("appraise")}: appraise`, "2026-06-03T10:01:00Z")
      const c2 = "condense-changelog-entry"
      put(c2, [entry(c2, "sort", "2026-06-03T11:00:00.000Z", 0), entry(c2, `forge:${c2}`, "2026-06-03T11:00:00.000Z", 1)], `[${c2}] forge:${c2}: forge`, "2026-06-03T11:00:00Z")
      const r = importBranch(p.ctx, "work/release-notes-two")
      expect(r).toMatchObject({ sessions: 2, records: 5, created: 5, warnings: [] })
      const { records } = readRecords(p.dir)
      expect(records.map((x) => [x.session, x.stage, x.pin?.digest ?? null])).toEqual([
        [`${C}@2026-06-03T10:00:00.000Z`, S("forge"), p.digest],
        [`${C}@2026-06-03T10:00:00.000Z`, S("appraise"), p.digest],
        [`${C}@2026-06-03T10:00:00.000Z`, "observe", p.digest],
        [`${c2}@2026-06-03T11:00:00.000Z`, `forge:${c2}`, null],
        [`${c2}@2026-06-03T11:00:00.000Z`, "observe", null],
      ])
    } finally {
      p.cleanup()
    }
  })
})
