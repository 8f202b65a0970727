/** import (src/evidence/import.ts): stage runs matched among the newest COMMIT_WINDOW commits; a full window that left runs without a commit says so. */
import { describe, expect, test } from "vitest"
import { COMMIT_WINDOW, commitWindowWarning, mapCommits } from "../../../src/evidence/import.js"
import type { HistoryEntry } from "../../../src/foundry/work-files.js"

const entry = (seq: number, stage: string): HistoryEntry => ({ cycle: "draft-release-note", stage, iteration: seq, comment: "", timestamp: "2026-05-01T10:00:00Z", seq }) as HistoryEntry
const commit = (i: number, subject: string) => ({ sha: i.toString(16).padStart(40, "0"), time: Date.parse("2026-05-01T10:00:00Z") + i, subject })

describe("the commit window of an import", () => {
  const history = [entry(0, "forge:draft-release-note"), entry(1, "appraise:draft-release-note"), entry(2, "sort")]

  test("a window that is not full leaves nothing out, matched or not", () => {
    const commits = [commit(1, "[draft-release-note] forge:draft-release-note: drafted")]
    const mapped = mapCommits(history, commits)
    expect(mapped.commits.get(0)).toBe(commits[0]!.sha)
    expect(commitWindowWarning("branch b", history, commits, mapped.commits)).toBeUndefined()
  })

  test("a full window with stage runs it did not match says how many and what to do", () => {
    const commits = Array.from({ length: COMMIT_WINDOW }, (_, i) => commit(i, i === 0 ? "[draft-release-note] forge:draft-release-note: drafted" : `unrelated ${i}`))
    const mapped = mapCommits(history, commits)
    expect(mapped.commits.size).toBe(1)
    expect(commitWindowWarning("branch b", history, commits, mapped.commits)).toBe(
      `branch b: 1 stage run matched no commit among the newest ${COMMIT_WINDOW} commits searched, so its record carries no commit; import an archive branch or snapshot of the cycle for them`,
    )
  })

  test("a full window that matched every stage run says nothing", () => {
    const commits = Array.from({ length: COMMIT_WINDOW }, (_, i) =>
      commit(i, i === 0 ? "[draft-release-note] forge:draft-release-note: drafted" : i === 1 ? "[draft-release-note] appraise:draft-release-note: 0 issues" : `unrelated ${i}`),
    )
    const mapped = mapCommits(history, commits)
    expect(commitWindowWarning("branch b", history, commits, mapped.commits)).toBeUndefined()
  })
})
