// Records carry the capability digest of the installation that wrote them: the hook's stage-end
// record, an import of the work tree, a recorded check; another outbox's records are copied as they
// are; a record written before the field existed still reads.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { RunRecordSchema, type RunRecord } from "../../src/core/run-record.js"
import { exportStageRun } from "../../src/service/runs.js"
import { buildCapabilities, projectCapabilitiesDigest } from "../../src/service/capabilities.js"
import { readCapabilities } from "../../src/store/capabilities.js"
import { importOutbox, importWorktree } from "../../src/evidence/import.js"
import { readAllRecords } from "../../src/service/pulled.js"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"

let p: PinnedProject
beforeEach(async () => {
  p = await makePinnedProject()
})
afterEach(() => p.cleanup())

const records = (dir: string): RunRecord[] => {
  const d = path.join(dir, ".alloy", "runs", "records")
  return readdirSync(d).map((f) => RunRecordSchema.parse(JSON.parse(readFileSync(path.join(d, f), "utf8"))))
}

describe("run records carry the capability digest", () => {
  it("the hook's stage-end record and an import of the work tree carry the project's capability digest", () => {
    const caps = projectCapabilitiesDigest(p.ctx)
    expect(caps).toMatch(/^sha256:[0-9a-f]{64}$/)
    const w = exportStageRun(p.dir, { cycle: p.cycle, stage: "forge:write", pin: { brief_id: p.briefId, digest: p.digest }, marker: "m-1", endedAt: "2026-05-01T10:00:00.000Z" })
    expect(w.record?.capabilities).toBe(caps)
    // the manifest the record names is kept beside it, so the record can be shown with it
    expect(readCapabilities(p.dir, caps!)?.manifest).toEqual(buildCapabilities(p.ctx).manifest)
    const r = importWorktree(p.ctx)
    expect(r.error).toBeUndefined()
    const imported = records(p.dir).filter((x) => x.source === "import")
    expect(imported.length).toBeGreaterThan(0)
    for (const x of imported) expect(x.capabilities).toBe(caps)
  })

  it("records copied from another outbox keep what they had; a record without the field still reads", () => {
    const other = path.join(p.dir, "..", "other-runs")
    mkdirSync(path.join(other, "records"), { recursive: true })
    const old = {
      $type: "alloy.run/v1",
      run_id: "01HZX5Q0000000000000000000",
      idempotency_key: "a".repeat(64),
      pin: { brief_id: p.briefId, digest: p.digest },
      cycle: p.cycle,
      stage: "forge:write",
      ended_at: "2026-05-01T10:00:00.000Z",
      alloy_version: "0.0.9",
    }
    writeFileSync(path.join(other, "records", `${"a".repeat(64)}.json`), JSON.stringify(old))
    const r = importOutbox(p.ctx, other)
    expect(r.error).toBeUndefined()
    const copied = records(p.dir).find((x) => x.idempotency_key === "a".repeat(64))!
    expect(copied.capabilities).toBeUndefined()
    const all = readAllRecords(p.dir, (f) => readFileSync(f))
    expect(all.problems).toEqual([])
    expect(all.records.some((x) => x.idempotency_key === "a".repeat(64))).toBe(true)
  })
})
