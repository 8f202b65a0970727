/**
 * Team store through a real OCI registry (Debian's docker-registry on 127.0.0.1): push from one
 * clone, pull into a fresh one, same verdicts offline; a tampering proxy makes pull store nothing;
 * concurrent pushers leave one manifest per record; a second push sends no blob; auth flows.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest"
import { runnerRecord, succeededResult } from "../helpers/bridge.js"
import { cliSession } from "../helpers/cli.js"
import { AlloyContext } from "../../src/service/context.js"
import { digestOf } from "../../src/core/digest.js"
import { push } from "../../src/team/transfer.js"
import { parseStoreUrl } from "../../src/team/store-url.js"
import { EMPTY_BYTES, EMPTY_DIGEST, manifestBytes, parseManifest, parseTag, tagOf } from "../../src/team/layout.js"
import { buildCapabilities, keepCapabilities } from "../../src/service/capabilities.js"
import { Ledger } from "../../src/bridge/ledger.js"
import { RegistryClient } from "../../src/team/registry.js"
import { makeEvidenceProject, type EvidenceProject } from "./import-fixtures.js"
import { filesContaining } from "../helpers/tree.js"
import { htpasswdLine, registryUnavailable, startProxy, startRegistry, type Registry } from "../helpers/registry.js"
import { writeSignoffs } from "../../src/store/ledger.js"
import { SignoffSchema } from "../../src/core/signoff.js"

const A11Y_AC2 = "release-note-accessibility#AC-2"

// a real registry and many clones on a shared 2-core machine: generous, bounded
vi.setConfig({ testTimeout: 120_000 })

const unavailable = registryUnavailable()
if (unavailable) console.warn(`oci-store tests skipped: ${unavailable}`)

/** A fresh clone: what git would give (no git-ignored outbox, no dry-run snapshots), optionally without one bundle. */
function freshClone(from: string, name: string, dropObject?: string): string {
  const dir = path.join(path.dirname(from), name)
  rmSync(dir, { recursive: true, force: true })
  cpSync(from, dir, { recursive: true, filter: (src) => !src.startsWith(path.join(from, ".alloy", "runs")) && !src.startsWith(path.join(from, ".snapshots")) })
  if (dropObject) rmSync(path.join(dir, ".alloy", "objects", "sha256", `${dropObject.slice(7)}.json`), { force: true })
  return dir
}

const verdicts = (j: Record<string, unknown>) =>
  (j["intents"] as Array<{ id: string; verdict: string; criteria: Array<{ ref: string; verdict: string; reason: string }> }>).map((i) => ({
    id: i.id,
    verdict: i.verdict,
    criteria: i.criteria.map((c) => [c.ref, c.verdict, c.reason]),
  }))

describe.skipIf(!!unavailable)("team store on a real registry", () => {
  let reg: Registry
  let p: EvidenceProject
  let store: string
  beforeAll(async () => {
    reg = await startRegistry()
    p = await makeEvidenceProject()
    const { run } = cliSession(p.dir)
    expect(await run("import")).toBe(0)
    writeFileSync(path.join(p.dir, ".alloy", "config.json"), JSON.stringify({ name: "acme/release-notes" }) + "\n")
    // one sign-off in the committed evidence ledger (create-once, named by its identity)
    writeSignoffs(p.dir, [
      SignoffSchema.parse({
        $type: "alloy.signoff/v1",
        criterion: A11Y_AC2,
        decision: "approve",
        reason: "listened with VoiceOver",
        signer: { name: "Ada Lovelace", email: "ada@example.com" },
        at: "2026-05-28T09:00:00.000Z",
        bundle: { brief_id: "release-note-voice", digest: p.digest },
      }),
    ])
    store = `oci://${reg.host}/team/alloy`
  }, 120_000)
  afterAll(async () => {
    p?.cleanup()
    await reg?.stop()
  })

  test("push from one clone, pull into a fresh one: verify and report agree offline, with the store named", async () => {
    const a = cliSession(p.dir)
    expect(await a.run("store", "set", store)).toBe(0)
    expect(await a.run("push", "--json")).toBe(0)
    const pushed = a.json() as { created: Record<string, number>; stats: { blobsUploaded: number } }
    expect(pushed.created).toEqual({ object: 2, capabilities: 1, run: 22, evidence: 1, request: 0, runner: 0 })
    expect(pushed.stats.blobsUploaded).toBe(2 + 1 + 22 + 1 + 1) // and the empty config

    const bDir = freshClone(p.dir, "clone-b", p.olderDigest)
    const b = cliSession(bDir)
    expect(await a.run("report", "--json")).toBe(0)
    const reportA = a.json()
    expect(await a.run("verify", "--json")).toBe(0)
    const verifyA = a.json()

    expect(await b.run("report", "--json")).toBe(0)
    expect(verdicts(b.json())).not.toEqual(verdicts(reportA))
    expect(await b.run("pull")).toBe(0)
    expect(b.out[0]).toBe(`Pulled from ${store}: 1 bundle, 1 capability manifest, 22 run records, 0 ledger files new; 2 already there.`.replace(", 0 ledger files", ""))
    expect(existsSync(path.join(bDir, ".alloy", "objects", "sha256", `${p.olderDigest.slice(7)}.json`))).toBe(true)

    expect(await b.run("report", "--json")).toBe(0)
    expect(verdicts(b.json())).toEqual(verdicts(reportA))
    expect(await b.run("verify", "--json")).toBe(0)
    expect(b.json()).toEqual(verifyA)
    expect(await b.run("report")).toBe(0)
    expect(b.out.join("\n")).toContain(`Evidence drawn from team stores: ${store} (22 records)`)
    expect(await b.run("runs", "list")).toBe(0)
    expect(b.out.filter((l) => l.includes(`from ${store} (acme/release-notes@`)).length).toBe(22)
    expect(await b.run("status")).toBe(0)
    expect(b.out.join("\n")).toContain(`Evidence drawn from team stores: ${store} (22 records)`)
    expect(await b.run("report", "--html", "report.html")).toBe(0)
    expect(readFileSync(path.join(bDir, "report.html"), "utf8")).toContain(`evidence drawn from team stores: ${store} (22)`)
    expect(await b.run("export", "--format", "intoto")).toBe(0)
    const statement = JSON.parse(b.out.join("\n").split("\n")[0]!) as { predicate: { stores?: unknown } }
    expect(statement.predicate.stores).toEqual([{ store, records: 22 }])
    expect(await b.run("evidence", "--json")).toBe(0)
    const obs = (b.json()["criteria"] as Array<{ observations: Array<{ provenance: { store?: string; source: string } }> }>).flatMap((c) => c.observations)
    expect(obs.length).toBeGreaterThan(0)
    // every observation of a run record names the store it was pulled from; the clone's own (committed) ledger names none
    for (const o of obs) expect(o.provenance.store).toBe(o.provenance.source === "ledger" ? undefined : `${store} (acme/release-notes@${os.hostname()})`)
    // the pulled records are apart from the clone's own outbox, byte for byte what was pushed
    const pulledDir = path.join(bDir, ".alloy", "runs", "pulled", `${reg.host.replace(":", "_")}+team+alloy`)
    expect(readdirSync(path.join(pulledDir, "records")).length).toBe(22)
    expect(existsSync(path.join(bDir, ".alloy", "runs", "records"))).toBe(false)
    for (const n of readdirSync(path.join(pulledDir, "records"))) {
      expect(readFileSync(path.join(pulledDir, "records", n))).toEqual(readFileSync(path.join(p.dir, ".alloy", "runs", "records", n)))
    }
    // the ledger file of the same repository is already in the clone (committed): not duplicated
    expect(existsSync(path.join(pulledDir, "evidence"))).toBe(true)
    expect(readdirSync(path.join(pulledDir, "evidence"))).toEqual([])

    // records this clone then makes itself (the same stage runs) are one record per identity, not two
    expect(await b.run("import", "snapshot", p.snapshotA)).toBe(0)
    expect(await b.run("report", "--json")).toBe(0)
    expect(b.json()["records"]).toBe(22) // the summary counts them (`--full` lists them)
    expect(verdicts(b.json())).toEqual(verdicts(reportA))

    // a second pull adds nothing and downloads nothing
    expect(await b.run("pull", "--json")).toBe(0)
    const again = b.json() as { created: Record<string, number>; stats: { blobsDownloaded: number } }
    expect(again.created).toEqual({ object: 0, capabilities: 0, run: 0, evidence: 0, request: 0, runner: 0 })
    expect(again.stats.blobsDownloaded).toBe(0)
  })

  test("a sign-off of another repository reaches status, report and evidence with its origin; the repository's own copy wins", async () => {
    const a = cliSession(p.dir)
    expect(await a.run("store", "set", store)).toBe(0)
    expect(await a.run("push")).toBe(0)
    expect(await a.run("report", "--json")).toBe(0)
    const reportA = a.json()
    // another repository: it never had the ledger commit
    const cDir = freshClone(p.dir, "clone-c")
    rmSync(path.join(cDir, ".alloy", "evidence"), { recursive: true, force: true })
    const c = cliSession(cDir)
    expect(await c.run("status", "--json")).toBe(0)
    const before = (c.json()["satisfaction"] as { intents: Array<{ criteria: Array<{ ref: string; verdict: string }> }> }).intents.flatMap((i) => i.criteria)
    expect(before.find((x) => x.ref === A11Y_AC2)!.verdict).toBe("unproven")
    expect(await c.run("pull", "--json")).toBe(0)
    expect((c.json() as { created: Record<string, number> }).created.evidence).toBe(1)
    expect(await c.run("status", "--json")).toBe(0)
    const st = c.json()["satisfaction"] as { intents: Array<{ criteria: Array<{ ref: string; verdict: string; reason: string }> }>; stores: unknown }
    const ac2 = st.intents.flatMap((i) => i.criteria).find((x) => x.ref === A11Y_AC2)!
    expect(ac2.verdict).toBe("satisfied")
    expect(ac2.reason).toContain("approved by Ada Lovelace <ada@example.com>")
    expect(st.stores).toEqual([{ store, records: 22, signoffs: 1 }])
    expect(await c.run("report", "--json")).toBe(0)
    expect(verdicts(c.json()).map((i) => [i.id, i.verdict, i.criteria.map((x) => x[1])])).toEqual(verdicts(reportA).map((i) => [i.id, i.verdict, i.criteria.map((x) => x[1])]))
    expect(await c.run("report")).toBe(0)
    expect(c.out.join("\n")).toContain(`Evidence drawn from team stores: ${store} (22 records, 1 sign-off)`)
    expect(await c.run("evidence", "--intent", "release-note-accessibility", "--json")).toBe(0)
    const so = (c.json()["criteria"] as Array<{ ref: string; observations: Array<{ kind: string; provenance: { store?: string; source: string; origin?: string } }> }>)
      .find((x) => x.ref === A11Y_AC2)!
      .observations.find((o) => o.kind === "signoff")!
    expect(so.provenance).toMatchObject({ source: "ledger", origin: "pulled ledger", store: `${store} (acme/release-notes@${os.hostname()})` })
    // the same sign-off committed here too (one identity): the repository's own copy is read, the pulled one is not counted twice
    cpSync(path.join(p.dir, ".alloy", "evidence"), path.join(cDir, ".alloy", "evidence"), { recursive: true })
    expect(await c.run("evidence", "--intent", "release-note-accessibility", "--json")).toBe(0)
    const both = (c.json()["criteria"] as Array<{ ref: string; observations: Array<{ kind: string; provenance: { store?: string } }> }>)
      .find((x) => x.ref === A11Y_AC2)!
      .observations.filter((o) => o.kind === "signoff")
    expect(both).toHaveLength(1)
    expect(both[0]!.provenance.store).toBeUndefined()
  })

  test("bridge records travel too: request and result files and runner registrations, bound to their identity, never overwritten", async () => {
    const dir = freshClone(p.dir, "clone-bridge")
    const ledger = new Ledger(dir)
    const spec = { brief_id: "release-note-voice", digest: p.digest, flow: "release-notes", cycle: null, goal: "ship the note", goal_hash: "0".repeat(64), base_commit: "1".repeat(40), criteria: [] }
    ledger.claim("nightly-1", "given", spec, new Date("2026-05-28T10:00:00Z"))
    ledger.postResult(succeededResult("nightly-1", spec))
    // the runner names the capability manifest it registered under; the manifest is kept beside it
    const caps = buildCapabilities(new AlloyContext(dir))
    keepCapabilities(new AlloyContext(dir), caps)
    const runner = runnerRecord({
      id: "01JZRUNNER0000000000000000",
      capability_digest: caps.digest,
      project_roots: ["/x/home/someone/acme"],
      lease_until: "2026-05-28T10:00:30.000Z",
    })
    ledger.writeRunner(runner)
    const bstore = `oci://${reg.host}/team/bridge`
    const a = cliSession(dir)
    expect(await a.run("push", "--store", bstore, "--json")).toBe(0)
    expect((a.json() as { created: Record<string, number> }).created).toMatchObject({ capabilities: 1, request: 2, runner: 1 })
    // the runner renews its lease: the registration is the same record, nothing new and nothing kept apart
    ledger.writeRunner({ ...runner, lease_until: "2026-05-28T10:01:00.000Z" })
    expect(await a.run("push", "--store", bstore, "--json")).toBe(0)
    const again = a.json() as { created: Record<string, number>; existing: Record<string, number>; kept: unknown[] }
    expect(again.created).toMatchObject({ request: 0, runner: 0 })
    expect(again.existing).toMatchObject({ request: 2, runner: 1 })
    expect(again.kept).toEqual([])

    const cDir = freshClone(p.dir, "clone-bridge-c")
    const c = cliSession(cDir)
    expect(await c.run("pull", "--store", bstore, "--json")).toBe(0)
    const pulled = c.json() as { created: Record<string, number>; pulledDir: string }
    expect(pulled.created).toMatchObject({ capabilities: 1, request: 2, runner: 1 })
    const base = path.join(cDir, pulled.pulledDir)
    // the manifest the runner names arrived byte for byte, under its digest, where this project keeps its own
    const capsFile = path.join(".alloy", "runs", "capabilities", "sha256", `${caps.digest.slice(7)}.json`)
    expect(readFileSync(path.join(cDir, capsFile))).toEqual(caps.bytes)
    expect(readFileSync(path.join(cDir, capsFile))).toEqual(readFileSync(path.join(dir, capsFile)))
    // others' requests and runners are listed with their origin, the runner with its manifest
    const origin = `${bstore} (acme/release-notes@${os.hostname()})`
    expect(await c.run("runs", "requests")).toBe(0)
    expect(c.out).toContain(`nightly-1  succeeded  release-note-voice flow release-notes  from ${origin}`)
    expect(c.out).toContain(
      `runner ${runner.id} on ci-1 (OpenCode 1.0.0; os:linux) from ${origin}; capabilities ${caps.digest.slice(0, 19)}… (OpenCode ?, Foundry ${caps.manifest.foundry.version ?? "?"} ${caps.manifest.foundry.generation})`,
    )
    expect(await c.run("runs", "list", "--json")).toBe(0)
    const listed = c.json()["pulled"] as { requests: Array<{ key: string; state: string; pulled: unknown }>; runners: Array<{ id: string; pulled: unknown; capabilities?: unknown }> }
    expect(listed.requests.map((r) => [r.key, r.state, r.pulled])).toEqual([["nightly-1", "succeeded", { store: bstore, repository: "acme/release-notes", machine: os.hostname() }]])
    expect(listed.runners.map((r) => [r.id, r.pulled, r.capabilities])).toEqual([[runner.id, { store: bstore, repository: "acme/release-notes", machine: os.hostname() }, caps.manifest]])
    expect(await c.run("runs", "list")).toBe(0)
    expect(c.out).toContain("Bridge requests and runners from team stores (1 request, 1 runner):")
    // the project's own requests are listed as its own, never again as pulled (its own records are not fetched back)
    expect(await a.run("pull", "--store", bstore)).toBe(0)
    expect(await a.run("runs", "requests", "--json")).toBe(0)
    expect(a.json()["pulled"]).toEqual({ requests: [], runners: [] })
    expect(readFileSync(path.join(base, "requests", "nightly-1", "request.json"))).toEqual(readFileSync(path.join(dir, ".alloy", "runs", "requests", "nightly-1", "request.json")))
    expect(readFileSync(path.join(base, "requests", "nightly-1", "result.json"))).toEqual(readFileSync(path.join(dir, ".alloy", "runs", "requests", "nightly-1", "result.json")))
    const reg1 = JSON.parse(readFileSync(path.join(base, "runners", `${runner.id}.json`), "utf8")) as Record<string, unknown>
    expect(reg1).toMatchObject({ id: runner.id, host: "ci-1", capability_digest: runner.capability_digest })
    expect(reg1["lease_until"]).toBeUndefined()
    // the folder paths on the runner's machine stay there
    expect(reg1["project_roots"]).toEqual([])
    expect(readFileSync(path.join(base, "runners", `${runner.id}.json`), "utf8")).not.toContain("/home/someone")
    expect(existsSync(path.join(cDir, ".alloy", "runs", "requests"))).toBe(false) // others' requests are never this project's own
    expect(await c.run("pull", "--store", bstore, "--json")).toBe(0)
    expect((c.json() as { created: Record<string, number> }).created).toMatchObject({ request: 0, runner: 0 })

    // a record pushed under another request's tag fails the pull closed: nothing stored
    const client = new RegistryClient(parseStoreUrl(bstore), {})
    const forged = Buffer.from(readFileSync(path.join(dir, ".alloy", "runs", "requests", "nightly-1", "request.json"), "utf8").replace('"nightly-1"', '"nightly-2"'))
    const id = "nightly-9/request.json"
    await client.putBlob(digestOf(forged), forged)
    const m = manifestBytes({ kind: "request", id, blob: { mediaType: "", digest: digestOf(forged), size: forged.length }, annotations: {} })
    await client.putBlob("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", Buffer.from("{}"))
    expect((await client.putManifest(tagOf({ kind: "request", id }), m)).status).toBe(201)
    const dDir = freshClone(p.dir, "clone-bridge-d")
    const d = cliSession(dDir)
    expect(await d.run("pull", "--store", bstore, "--json")).not.toBe(0)
    expect(d.json()).toMatchObject({ ok: false, code: "digest_mismatch" })
    expect(existsSync(path.join(dDir, ".alloy", "runs", "pulled"))).toBe(false)
    expect(existsSync(path.join(dDir, ".alloy", "runs", "capabilities"))).toBe(false)
  })

  test("a capability manifest that is not the canonical manifest of its digest fails the pull closed; a local file is never overwritten", async () => {
    const target = `oci://${reg.host}/team/caps`
    const client = new RegistryClient(parseStoreUrl(target), {})
    const caps = buildCapabilities(new AlloyContext(p.dir))
    // the same manifest, pretty-printed: its blob hashes to the name it is tagged by, but it is not the manifest a digest names
    const pretty = Buffer.from(JSON.stringify(caps.manifest, null, 2))
    const hex = digestOf(pretty).slice(7)
    await client.putBlob(EMPTY_DIGEST, EMPTY_BYTES)
    await client.putBlob(digestOf(pretty), pretty)
    const m = manifestBytes({ kind: "capabilities", id: hex, blob: { mediaType: "", digest: digestOf(pretty), size: pretty.length }, annotations: {} })
    expect((await client.putManifest(tagOf({ kind: "capabilities", id: hex }), m)).status).toBe(201)
    const eDir = freshClone(p.dir, "clone-caps-e")
    const e = cliSession(eDir)
    expect(await e.run("pull", "--store", target, "--json")).toBe(1)
    expect(e.json()).toMatchObject({ ok: false, code: "digest_mismatch" })
    expect(e.json()["error"]).toContain("not the canonical bytes")
    expect(existsSync(path.join(eDir, ".alloy", "runs"))).toBe(false)

    // the real manifest, pushed as a capabilities artifact, and a clone whose own file under that name was changed: kept, reported
    const good = `oci://${reg.host}/team/caps-good`
    const gc = new RegistryClient(parseStoreUrl(good), {})
    await gc.putBlob(EMPTY_DIGEST, EMPTY_BYTES)
    await gc.putBlob(caps.digest, caps.bytes)
    const gm = manifestBytes({ kind: "capabilities", id: caps.digest.slice(7), blob: { mediaType: "", digest: caps.digest, size: caps.bytes.length }, annotations: {} })
    expect((await gc.putManifest(tagOf({ kind: "capabilities", id: caps.digest.slice(7) }), gm)).status).toBe(201)
    const fDir = freshClone(p.dir, "clone-caps-f")
    const local = path.join(fDir, ".alloy", "runs", "capabilities", "sha256", `${caps.digest.slice(7)}.json`)
    mkdirSync(path.dirname(local), { recursive: true })
    writeFileSync(local, "{}")
    const f = cliSession(fDir)
    expect(await f.run("pull", "--store", good, "--json")).toBe(0)
    const r = f.json() as { created: Record<string, number>; kept: Array<{ kind: string; reason: string }> }
    expect(r.created.capabilities).toBe(0)
    expect(r.kept).toEqual([{ kind: "capabilities", id: caps.digest.slice(7), reason: expect.stringContaining("holds other bytes; kept it") }])
    expect(readFileSync(local, "utf8")).toBe("{}")
    rmSync(local)
    expect(await f.run("pull", "--store", good, "--json")).toBe(0)
    expect((f.json() as { created: Record<string, number> }).created.capabilities).toBe(1)
    expect(readFileSync(local)).toEqual(caps.bytes)
  })

  test("a second push transfers no blob and writes no manifest (counted at a proxy)", async () => {
    const proxy = await startProxy(reg.host)
    try {
      const r = await push(new AlloyContext(p.dir), parseStoreUrl(`oci://${proxy.host}/team/alloy`))
      expect(r.created).toEqual({ object: 0, capabilities: 0, run: 0, evidence: 0, request: 0, runner: 0 })
      expect(r.existing).toEqual({ object: 2, capabilities: 1, run: 22, evidence: 1, request: 0, runner: 0 })
      const writes = proxy.log.filter((l) => l.method !== "GET" && l.method !== "HEAD")
      expect(writes).toEqual([])
      expect(proxy.log.filter((l) => l.path.includes("/blobs/"))).toEqual([])
    } finally {
      await proxy.stop()
    }
  })

  test("a proxy that changes one byte of a blob: pull fails with digest_mismatch and stores nothing", async () => {
    const proxy = await startProxy(reg.host, { tamperBlob: true })
    try {
      const cDir = freshClone(p.dir, "clone-c", p.olderDigest)
      const c = cliSession(cDir)
      expect(await c.run("pull", "--store", `oci://${proxy.host}/team/alloy`, "--json")).toBe(1)
      expect(c.json()).toMatchObject({ ok: false, code: "digest_mismatch" })
      expect(proxy.tampered).toBe(1)
      // the tampered blob was downloaded once: a digest mismatch is never retried (the bytes are not what was asked for)
      expect(proxy.log.filter((l) => l.method === "GET" && l.path === proxy.tamperedPath)).toHaveLength(1)
      expect(existsSync(path.join(cDir, ".alloy", "runs", "pulled"))).toBe(false)
      expect(existsSync(path.join(cDir, ".alloy", "objects", "sha256", `${p.olderDigest.slice(7)}.json`))).toBe(false)
      // the same pull without the proxy succeeds
      expect(await c.run("pull", "--store", store)).toBe(0)
    } finally {
      await proxy.stop()
    }
  })

  test("a tag that holds another record than it names fails the pull closed", async () => {
    const target = parseStoreUrl(`oci://${reg.host}/team/forged`)
    await push(new AlloyContext(p.dir), target)
    const client = new RegistryClient(target)
    const name = readdirSync(path.join(p.dir, ".alloy", "runs", "records")).sort()[0]!
    const bytes = readFileSync(path.join(p.dir, ".alloy", "runs", "records", name))
    const forgedKey = "f".repeat(64)
    const m = manifestBytes({ kind: "run", id: forgedKey, blob: { mediaType: "", digest: digestOf(bytes), size: bytes.length }, annotations: {} })
    expect((await client.putManifest(`run-${forgedKey}`, m)).status).toBe(201)
    const eDir = freshClone(p.dir, "clone-e")
    const e = cliSession(eDir)
    expect(await e.run("pull", "--store", target.url, "--json")).toBe(1)
    expect(e.json()).toMatchObject({ ok: false, code: "digest_mismatch" })
    expect(existsSync(path.join(eDir, ".alloy", "runs", "pulled"))).toBe(false)
  })

  test("eight concurrent pushers of overlapping records leave exactly one manifest per record", async () => {
    const records = readdirSync(path.join(p.dir, ".alloy", "runs", "records")).sort()
    const clones: string[] = []
    for (let i = 0; i < 8; i++) {
      const dir = freshClone(p.dir, `pusher-${i}`)
      mkdirSync(path.join(dir, ".alloy", "runs", "records"), { recursive: true })
      writeFileSync(path.join(dir, ".alloy", "runs", ".gitignore"), "*\n")
      records.forEach((n, j) => {
        if ((j + i) % 3 !== 0) cpSync(path.join(p.dir, ".alloy", "runs", "records", n), path.join(dir, ".alloy", "runs", "records", n))
      })
      // every pusher holds the same capability manifest (the same installation): eight writers of one record
      keepCapabilities(new AlloyContext(dir), buildCapabilities(new AlloyContext(dir)))
      clones.push(dir)
    }
    const target = parseStoreUrl(`oci://${reg.host}/team/concurrent`)
    const reports = await Promise.all(clones.map((d) => push(new AlloyContext(d), target)))
    const created = reports.reduce((n, r) => n + r.created.run, 0)
    console.info(
      `eight pushers: ${created} run manifests written for ${records.length} records, ${reports.reduce((n, r) => n + r.stats.retries, 0)} retries, ${reports.reduce((n, r) => n + r.stats.blobsUploaded, 0)} blob uploads`,
    )
    expect(created).toBeGreaterThanOrEqual(records.length)

    const client = new RegistryClient(target)
    const tags = await client.listTags()
    const runTags = tags.filter((t) => t.startsWith("run-")).sort()
    expect(runTags).toEqual(records.map((n) => `run-${n.slice(0, 64)}`))
    for (const t of runTags) {
      const m = (await client.getManifest(t))!
      const parsed = parseManifest(m.bytes, parseTag(t)!)
      if (typeof parsed === "string") throw new Error(parsed)
      expect(parsed.layer.digest).toBe(digestOf(readFileSync(path.join(p.dir, ".alloy", "runs", "records", `${parsed.id}.json`))))
    }
    // the registry's own bookkeeping: one manifest revision per tag, no orphan written by a racing pusher
    const revisions = readdirSync(path.join(reg.dataDir, "docker", "registry", "v2", "repositories", "team", "concurrent", "_manifests", "revisions", "sha256"))
    expect(revisions.length).toBe(tags.length)
    expect(tags.length).toBe(records.length + 2 + 1 + 1)
    expect(tags.filter((t) => t.startsWith("capabilities-"))).toEqual([`capabilities-${buildCapabilities(new AlloyContext(clones[0]!)).digest.slice(7)}`])
    expect(reports.reduce((n, r) => n + r.created.capabilities + r.existing.capabilities, 0)).toBe(8)
  }, 60_000)

  test("retries: a registry that answers 503 first is retried with backoff, and the push completes", async () => {
    const proxy = await startProxy(reg.host, { failFirst: 3 })
    try {
      const r = await push(new AlloyContext(p.dir), parseStoreUrl(`oci://${proxy.host}/team/alloy`), { backoffMs: 5 })
      expect(r.stats.retries).toBe(3)
      expect(r.existing.run).toBe(22)
    } finally {
      await proxy.stop()
    }
    const down = parseStoreUrl(`oci://127.0.0.1:1/team/alloy`)
    const e = await push(new AlloyContext(p.dir), down, { backoffMs: 5, maxAttempts: 2 }).catch((x: unknown) => x)
    expect(e).toMatchObject({ code: "network_error" })
  })

  test("an interrupted push resumes: the second run sends only what is missing, and chunked uploads arrive whole", async () => {
    const target = `oci://${reg.host}/team/resume`
    const cut = await startProxy(reg.host, { intercept: (_m, _p, n) => (n > 40 ? { status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"disk died"}]}' } : undefined) })
    try {
      const e = await push(new AlloyContext(p.dir), parseStoreUrl(`oci://${cut.host}/team/resume`), { backoffMs: 1, maxAttempts: 2 }).catch((x: unknown) => x)
      expect(e).toMatchObject({ code: "network_error" })
    } finally {
      await cut.stop()
    }
    const first = await new RegistryClient(parseStoreUrl(target)).listTags()
    expect(first.length).toBeGreaterThan(0)
    expect(first.length).toBeLessThan(26)
    const counting = await startProxy(reg.host)
    const r = await push(new AlloyContext(p.dir), parseStoreUrl(`oci://${counting.host}/team/resume`), { chunkBytes: 512 }).finally(() => counting.stop())
    expect(counting.log.filter((l) => l.method === "PATCH" && l.status === 202).length).toBeGreaterThan(r.stats.blobsUploaded)
    expect(r.created.object + r.created.capabilities + r.created.run + r.created.evidence).toBe(26 - first.length)
    expect(r.existing.object + r.existing.capabilities + r.existing.run + r.existing.evidence).toBe(first.length)
    const dDir = freshClone(p.dir, "clone-d", p.olderDigest)
    const d = await import("../../src/team/transfer.js").then((m) => m.pull(new AlloyContext(dDir), parseStoreUrl(target)))
    expect(d.created).toEqual({ object: 1, capabilities: 1, run: 22, evidence: 0, request: 0, runner: 0 })
  })

  test("quota and denial answers become quota_exceeded and auth_failed", async () => {
    const full = await startProxy(reg.host, { intercept: (m) => (m === "POST" ? { status: 413, body: '{"errors":[{"code":"SIZE_INVALID","message":"too big"}]}' } : undefined) })
    const denied = await startProxy(reg.host, {
      intercept: (m) => (m === "POST" ? { status: 403, body: '{"errors":[{"code":"DENIED","message":"storage quota exceeded for this organisation"}]}' } : undefined),
    })
    const forbidden = await startProxy(reg.host, {
      intercept: (m) => (m === "POST" ? { status: 403, body: '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}' } : undefined),
    })
    try {
      for (const [proxy, code] of [
        [full, "quota_exceeded"],
        [denied, "quota_exceeded"],
        [forbidden, "auth_failed"],
      ] as const) {
        const e = await push(new AlloyContext(p.dir), parseStoreUrl(`oci://${proxy.host}/team/quota`)).catch((x: unknown) => x)
        expect(e).toMatchObject({ code })
      }
    } finally {
      await Promise.all([full.stop(), denied.stop(), forbidden.stop()])
    }
  })

  test("Bearer token challenge: a token from the realm with basic credentials; none or wrong ones fail with auth_failed", async () => {
    const proxy = await startProxy(reg.host, { bearer: { user: "ci", password: "s3cret-Bearer", refreshToken: "refresh-abc-123" } })
    try {
      const target = parseStoreUrl(`oci://${proxy.host}/team/bearer`)
      const ctx = new AlloyContext(p.dir)
      const none = await push(ctx, target, { env: {} }).catch((x: unknown) => x)
      expect(none).toMatchObject({ code: "auth_failed" })
      const wrong = await push(ctx, target, { env: { ALLOY_REGISTRY_USERNAME: "ci", ALLOY_REGISTRY_PASSWORD: "not-it-xyz" } }).catch((x: unknown) => x)
      expect(wrong).toMatchObject({ code: "auth_failed" })
      expect(JSON.stringify(wrong) + String((wrong as Error).message)).not.toContain("not-it-xyz")
      const r = await push(ctx, target, { env: { ALLOY_REGISTRY_USERNAME: "ci", ALLOY_REGISTRY_PASSWORD: "s3cret-Bearer" } })
      expect(r.created.run).toBe(22)
      expect(proxy.tokenRequests).toBeGreaterThanOrEqual(3)
      // an OAuth2 refresh token from the Docker credential file (`identitytoken`, as `az acr login` writes it)
      const dockerDir = path.join(path.dirname(p.dir), "docker-identity")
      mkdirSync(dockerDir, { recursive: true })
      writeFileSync(
        path.join(dockerDir, "config.json"),
        JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from("00000000-0000-0000-0000-000000000000:").toString("base64"), identitytoken: "refresh-abc-123" } } }),
      )
      const viaRefresh = await push(ctx, target, { env: { DOCKER_CONFIG: dockerDir } })
      expect(viaRefresh.existing.run).toBe(22)
      writeFileSync(path.join(dockerDir, "config.json"), JSON.stringify({ auths: { [proxy.host]: { identitytoken: "stale-token" } } }))
      expect(await push(ctx, target, { env: { DOCKER_CONFIG: dockerDir } }).catch((x: unknown) => x)).toMatchObject({ code: "auth_failed" })
    } finally {
      await proxy.stop()
    }
  })
})

describe.skipIf(!!unavailable)("two machines, two outboxes, one registry", () => {
  let reg: Registry
  let p: EvidenceProject
  beforeAll(async () => {
    reg = await startRegistry()
    p = await makeEvidenceProject()
  }, 120_000)
  afterAll(async () => {
    p?.cleanup()
    await reg?.stop()
  })

  test("each imports part of the work, both sync twice: one consistent report, equal to one machine that saw everything", async () => {
    const store = `oci://${reg.host}/team/two`
    const one = cliSession(p.dir)
    expect(await one.run("import")).toBe(0)
    expect(await one.run("report", "--json")).toBe(0)
    const reference = verdicts(one.json())

    const aDir = freshClone(p.dir, "machine-a")
    const bDir = freshClone(p.dir, "machine-b")
    const a = cliSession(aDir)
    const b = cliSession(bDir)
    expect(await a.run("import", "snapshot", p.snapshotA)).toBe(0)
    expect(await a.run("import", "worktree")).toBe(0)
    expect(await b.run("import", "snapshot", p.snapshotB)).toBe(0)
    for (const m of [a, b]) expect(await m.run("store", "set", store)).toBe(0)
    expect(await a.run("sync")).toBe(0)
    expect(await b.run("sync")).toBe(0)
    expect(await a.run("sync")).toBe(0)
    expect(await b.run("sync", "--json")).toBe(0)
    // from here on, offline: the registry is gone, and the verdicts come from what was pulled
    await reg.stop()
    expect((b.json() as { pushed: { created: Record<string, number> }; pulled: { created: Record<string, number> } }).pushed.created).toEqual({
      object: 0,
      capabilities: 0,
      run: 0,
      evidence: 0,
      request: 0,
      runner: 0,
    })

    expect(await a.run("report", "--json")).toBe(0)
    const ra = a.json()
    expect(await b.run("report", "--json")).toBe(0)
    const rb = b.json()
    expect(verdicts(ra)).toEqual(verdicts(rb))
    expect(verdicts(ra)).toEqual(reference)
    expect(ra["records"]).toBe((one.json() as { records?: number }).records ?? 22)
    expect(rb["records"]).toBe(22)
    expect(await a.run("verify", "--json")).toBe(0)
    const va = a.json()
    expect(await b.run("verify", "--json")).toBe(0)
    expect(b.json()).toEqual(va)
  })
})

describe.skipIf(!!unavailable)("basic auth (htpasswd) on a real registry", () => {
  const line = unavailable ? undefined : htpasswdLine("alloy", "pa55-Word")
  let reg: Registry
  let p: EvidenceProject
  let home: string
  beforeAll(async () => {
    if (!line) return
    reg = await startRegistry({ htpasswd: line })
    p = await makeEvidenceProject()
    home = path.join(path.dirname(p.dir), "docker-home")
    mkdirSync(home, { recursive: true })
  }, 120_000)
  afterAll(async () => {
    p?.cleanup()
    await reg?.stop()
  })

  test.skipIf(!line)("anonymous is refused; environment and Docker credential file work; the password is never printed", async () => {
    const store = `oci://${reg.host}/team/basic`
    const a = cliSession(p.dir)
    const saved = { ...process.env }
    try {
      delete process.env["ALLOY_REGISTRY_USERNAME"]
      delete process.env["ALLOY_REGISTRY_PASSWORD"]
      delete process.env["ALLOY_REGISTRY_TOKEN"]
      process.env["DOCKER_CONFIG"] = home
      expect(await a.run("push", "--store", store, "--json")).toBe(1)
      expect(a.json()).toMatchObject({ ok: false, code: "auth_failed" })

      process.env["ALLOY_REGISTRY_USERNAME"] = "alloy"
      process.env["ALLOY_REGISTRY_PASSWORD"] = "wrong-Pass-123"
      expect(await a.run("push", "--store", store)).toBe(1)
      expect(a.err.join("\n")).toMatch(/auth_failed|refused/)
      expect(a.out.join("\n") + a.err.join("\n")).not.toContain("wrong-Pass-123")

      process.env["ALLOY_REGISTRY_PASSWORD"] = "pa55-Word"
      expect(await a.run("push", "--store", store, "--json")).toBe(0)
      expect(a.out.join("\n")).not.toContain("pa55-Word")

      delete process.env["ALLOY_REGISTRY_USERNAME"]
      delete process.env["ALLOY_REGISTRY_PASSWORD"]
      writeFileSync(path.join(home, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from("alloy:pa55-Word").toString("base64") } } }))
      const bDir = freshClone(p.dir, "basic-b")
      const b = cliSession(bDir)
      expect(await b.run("pull", "--store", store, "--json")).toBe(0)
      expect((b.json() as { created: { run: number } }).created.run).toBe(0) // nothing was imported in this project: no records
      expect(b.out.join("\n")).not.toContain("pa55-Word")
      // nor written: no file of either clone holds the password or the basic credentials
      const secrets = ["pa55-Word", "wrong-Pass-123", Buffer.from("alloy:pa55-Word").toString("base64")]
      expect(filesContaining(p.dir, secrets)).toEqual([])
      expect(filesContaining(bDir, secrets)).toEqual([])
    } finally {
      process.env = saved
    }
  })
})
