/** Foundry's run audit as the bridge's result cites it (src/foundry/attestations.ts): run-era JSONL with hashes checked, ATTEST.md. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { createHash } from "node:crypto"
import os from "node:os"
import path from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { lineVerifies, parseAttestationJsonl, readRunAttestation } from "../../../src/foundry/attestations.js"

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function checkout(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "alloy-attest-"))
  dirs.push(d)
  return d
}

// the vector of Foundry's canonical JSON (CONTRACTS §6.2), hashed the way its attestation lines are
const canonical = '{"a":[true,null,"x"],"b":1,"c":{"z":"é"}}'
const vectorHash = createHash("sha256").update(canonical).digest("hex")

function line(o: Record<string, unknown>): string {
  const keys = Object.keys(o).sort()
  const canon = JSON.stringify(Object.fromEntries(keys.map((k) => [k, o[k]])))
  return JSON.stringify({ ...o, _hash: createHash("sha256").update(canon).digest("hex") })
}

describe("attestation lines", () => {
  test("a line verifies when _hash is the sha256 of the canonical JSON of its other fields (Foundry's vector)", () => {
    expect(vectorHash).toBe("947d53608a4b81c46dc56831c2bc9a03a582b6b02d11a9dedb4c6bf7622b886c")
    expect(lineVerifies({ b: 1, a: [true, null, "x"], c: { z: "é" }, _hash: vectorHash })).toBe(true)
    expect(lineVerifies({ b: 2, a: [true, null, "x"], c: { z: "é" }, _hash: vectorHash })).toBe(false)
    expect(lineVerifies({ b: 1 })).toBe(false)
  })

  test("a file: stage lines counted, the seal read, one tampered line makes it unverified", () => {
    const stage = { schema: "foundry-stage-attestation/v1", stage: "forge", cycle: "c", iteration: 1 }
    const seal = { schema: "foundry-cycle-attestation/v1", cycle: "01J", composite_status: "pass" }
    const good = `${line(stage)}\n${line(seal)}\n`
    const r = parseAttestationJsonl(good)
    expect(r).toMatchObject({ stages: 1, verified: true, seal: { status: "pass" } })
    expect(r.seal!.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(parseAttestationJsonl(good.replace('"forge"', '"hacked"')).verified).toBe(false)
    expect(parseAttestationJsonl(`${good}not json\n`).verified).toBe(false)
  })
})

describe("readRunAttestation", () => {
  test("the run era's file: by the run id a tool named, else the newest since the request; none before it", () => {
    const d = checkout()
    const dir = path.join(d, ".foundry", "attestations")
    mkdirSync(dir, { recursive: true })
    const stage = line({ schema: "foundry-stage-attestation/v1", stage: "forge" })
    writeFileSync(path.join(dir, "01OLD.jsonl"), `${stage}\n`)
    writeFileSync(path.join(dir, "01NEW.jsonl"), `${stage}\n${stage}\n`)
    const old = new Date(Date.now() - 3_600_000)
    utimesSync(path.join(dir, "01OLD.jsonl"), old, old)
    expect(readRunAttestation(d)).toMatchObject({ kind: "attestations-jsonl", run_id: "01NEW", stages: 2, verified: true, file: ".foundry/attestations/01NEW.jsonl" })
    expect(readRunAttestation(d, { runId: "01OLD" })?.run_id).toBe("01OLD")
    expect(readRunAttestation(d, { since: Date.now() + 60_000 })).toBeUndefined()
  })

  test("ATTEST.md (3.6/3.7) when there is no run-era file; a foreign ATTEST.md is no attestation", () => {
    const d = checkout()
    expect(readRunAttestation(d)).toBeUndefined()
    const payload = { schema: "foundry-attestation/v1", outputs: [{ path: "a.md", state: "new" }], process: { stages: [{ stage: "forge:c" }, { stage: "appraise:c" }] } }
    writeFileSync(path.join(d, "ATTEST.md"), `Goal\n\ndiff-sha256: ${"a".repeat(64)}\n\n-----BEGIN FOUNDRY ATTESTATION-----\n${JSON.stringify(payload)}\n-----END FOUNDRY ATTESTATION-----\n`)
    expect(readRunAttestation(d)).toMatchObject({ kind: "attest-md", file: "ATTEST.md", stages: 2 })
    writeFileSync(path.join(d, "ATTEST.md"), "just notes\n")
    expect(readRunAttestation(d)).toBeUndefined()
  })
})
