/** Pulled bridge requests and runners as read from the pulled folder: bound to their names, the project's own first, each with its origin. */
import { mkdirSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { listPulledBridge, pulledBridgeLines } from "../../../src/bridge/pulled.js"
import { Ledger } from "../../../src/bridge/ledger.js"
import { REQUEST_TYPE } from "../../../src/bridge/request.js"
import { runnerRegistration } from "../../helpers/bridge.js"
import { hashedTag, pulledPaths } from "../../../src/service/pulled.js"
import { makeProject, type TestProject } from "../../helpers/project.js"

const STORE = "oci://registry.example:5000/team/alloy"
const spec = { brief_id: "b", digest: `sha256:${"a".repeat(64)}`, flow: null, cycle: "c", goal: "g", goal_hash: "0".repeat(64), base_commit: "1".repeat(40), criteria: [] }
const request = (key: string) => JSON.stringify({ $type: REQUEST_TYPE, key, key_source: "given", spec, created_at: "2026-05-28T10:00:00.000Z" })
const runner = (id: string) =>
  JSON.stringify(runnerRegistration({ id, host: "h", pid: 1, opencode_version: "1", capability_digest: `sha256:${"b".repeat(64)}`, labels: [], started_at: "2026-05-28T10:00:00.000Z" }))

let p: TestProject | undefined
afterEach(() => p?.cleanup())

describe("pulled bridge records", () => {
  test("nothing pulled: nothing listed", () => {
    p = makeProject()
    expect(listPulledBridge(p.dir)).toEqual({ requests: [], runners: [] })
  })

  test("each is bound to the name it lies under; the project's own request is not listed again; origins come from what pull wrote", () => {
    p = makeProject()
    const pp = pulledPaths(p.dir, "registry.example_5000+team+alloy")
    for (const k of ["ok-1", "own-1", "liar"]) mkdirSync(path.join(pp.requests, k), { recursive: true })
    mkdirSync(pp.runners, { recursive: true })
    mkdirSync(pp.origins, { recursive: true })
    writeFileSync(pp.storeFile, JSON.stringify({ store: STORE }))
    writeFileSync(path.join(pp.requests, "ok-1", "request.json"), request("ok-1"))
    writeFileSync(path.join(pp.origins, `${hashedTag("request", "ok-1/request.json")}.json`), JSON.stringify({ repository: "acme/x", machine: "m1" }))
    writeFileSync(path.join(pp.requests, "own-1", "request.json"), request("own-1"))
    writeFileSync(path.join(pp.requests, "liar", "request.json"), request("someone-else"))
    writeFileSync(path.join(pp.runners, "r1.json"), runner("r1"))
    writeFileSync(path.join(pp.runners, "r2.json"), runner("r3"))
    writeFileSync(path.join(pp.runners, "r4.json"), "{ not json")
    new Ledger(p.dir).claim("own-1", "given", spec, new Date("2026-05-28T09:00:00Z"))

    const got = listPulledBridge(p.dir)
    expect(got.requests.map((r) => [r.key, r.state, r.pulled])).toEqual([["ok-1", "unfinished", { store: STORE, repository: "acme/x", machine: "m1" }]])
    expect(got.runners.map((r) => [r.id, r.pulled, r.capabilities])).toEqual([["r1", { store: STORE }, undefined]])
    expect(pulledBridgeLines(got)).toEqual([
      `ok-1  unfinished b cycle c  from ${STORE} (acme/x@m1)`,
      `runner r1 on h (OpenCode 1; ) from ${STORE}; capabilities sha256:bbbbbbbbbbbb… (manifest not here)`,
    ])
  })
})
