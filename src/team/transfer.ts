/**
 * `push`, `pull` and `sync` with a team store (docs/oci-store.md).
 *
 * push  every local record (bundles, capability manifests, this repository's run records, its evidence
 *       ledger, the bridge's request and result files and runner registrations) becomes one
 *       artifact tagged by its identity. A tag already there whose manifest carries the same bytes
 *       is left alone (a second push sends no blob and no manifest); one that carries other bytes
 *       for the same identity is kept (create-once: nothing is ever overwritten) and reported.
 *       Manifests are deterministic, so concurrent pushers of one record write one manifest.
 * pull  every record the store has and this project lacks is fetched and checked byte for byte
 *       against its digest (and bound to its identity) BEFORE anything is stored; one mismatch and
 *       the whole pull stores nothing (`digest_mismatch`). Bundles go into `.alloy/objects/`, capability
 *       manifests into `.alloy/runs/capabilities/` (both named by their digest), run
 *       records and ledger files of others into `.alloy/runs/pulled/<store>/` (team/pulled.ts);
 *       a record this project already holds is never replaced.
 * sync  pull, then push.
 */
import { existsSync, lstatSync, readdirSync } from "node:fs"
import { createHash } from "node:crypto"
import os from "node:os"
import path from "node:path"
import { AlloyError } from "../core/errors.js"
import { safeParseJson } from "../core/schema-errors.js"
import { digestOf } from "../core/digest.js"
import { RunRecordSchema, type RunRecord } from "../core/run-record.js"
import { MAX_OBJECT_BYTES } from "../store/store.js"
import { makeDirs, writeFileAtomic, writeFileOnce } from "../store/atomic.js"
import { readCheckedJson, readRegularFile } from "../store/read-file.js"
import { MAX_RECORD_BYTES, readRecords, runPaths, ensureRunsDir, RUNS_DIR } from "../store/outbox.js"
import { RequestFileSchema, RequestResultSchema, RunnerRegistrationSchema, RunnerSchema, type Runner } from "../bridge/request.js"
import type { AlloyContext } from "../service/context.js"
import { assertNotOnFlowBranch } from "../service/guard.js"
import { logListing } from "../evidence/git.js"
import { projectName } from "../evidence/model.js"
import { findCredentials } from "./credentials.js"
import { RegistryClient, type ClientOptions, type TransferStats } from "./registry.js"
import { readTeamConfig, type StoreRef } from "./store-url.js"
import { pulledPaths } from "../service/pulled.js"
import { LEDGER_DIR } from "../store/ledger.js"
import { MAX_CAPABILITIES_BYTES, capabilitiesRel, listCapabilities, readCapabilities, storeCapabilities } from "../store/capabilities.js"
import { decodeCapabilities } from "../core/capabilities.js"
import { EMPTY_BYTES, EMPTY_DIGEST, RECORD_KINDS, isLedgerPath, manifestBytes, parseManifest, parseTag, tagOf, validId, type ManifestInput, type RecordKind } from "./layout.js"

/** the committed evidence ledger: its owner is store/ledger */
const EVIDENCE_DIR = LEDGER_DIR
/** Most ledger files pushed from one repository, and the largest one. */
export const MAX_LEDGER_FILES = 50_000
export const MAX_LEDGER_BYTES = 4 * 1024 * 1024
/** Most bytes one pull holds in memory before it stores anything (everything is checked first). */
export const MAX_PULL_BYTES = 1024 * 1024 * 1024
const CONCURRENCY = 4

type Counts = Record<RecordKind, number>
const zero = (): Counts => ({ object: 0, capabilities: 0, run: 0, evidence: 0, request: 0, runner: 0 })

export interface TransferReport {
  readonly store: string
  /** records written to the store (push) or stored here (pull), by kind */
  readonly created: Counts
  /** records that were there already */
  readonly existing: Counts
  /** same identity, other bytes: the copy already there was kept */
  readonly kept: Array<{ kind: RecordKind; id: string; reason: string }>
  /** local files that were not pushed (a corrupt object, an unreadable record) */
  readonly skipped: Array<{ file: string; reason: string }>
  readonly stats: TransferStats
  /** where pulled records of others were stored (pull) */
  readonly pulledDir?: string
}

export interface TransferOptions extends ClientOptions {
  readonly env?: NodeJS.ProcessEnv
}

function client(store: StoreRef, opts: TransferOptions): RegistryClient {
  const credentials = opts.credentials ?? findCredentials(store.registry, opts.env ?? process.env)
  return new RegistryClient(store, { ...opts, credentials })
}

/** Run `fn` over `items`, at most `n` at a time; the first failure is thrown after all started ones settle. */
async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: unknown
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const t = items[next++]!
      try {
        await fn(t)
      } catch (e) {
        if (failure === undefined) failure = e
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
  if (failure !== undefined) throw failure
}

// ---- what this project holds --------------------------------------------------------------

interface LocalItem extends Omit<ManifestInput, "blob"> {
  readonly bytes: Buffer
  readonly digest: string
  readonly file: string
}

/** The files of a ledger folder (this project's `.alloy/evidence/`, or a pulled copy), bounded. */
function walkLedger(base: string, skipped: TransferReport["skipped"]): Array<{ rel: string; abs: string }> {
  const out: Array<{ rel: string; abs: string }> = []
  const walk = (dir: string, rel: string, depth: number) => {
    if (depth > 8 || out.length >= MAX_LEDGER_FILES) return
    let names: string[]
    try {
      names = readdirSync(dir).sort()
    } catch {
      return
    }
    for (const n of names) {
      if (n.startsWith(".") || n.endsWith(".tmp")) continue
      const abs = path.join(dir, n)
      const r = rel ? `${rel}/${n}` : n
      let st
      try {
        st = lstatSync(abs)
      } catch {
        continue
      }
      if (st.isDirectory()) walk(abs, r, depth + 1)
      else if (st.isFile() && out.length < MAX_LEDGER_FILES) {
        if (isLedgerPath(r)) out.push({ rel: r, abs })
        else skipped.push({ file: `${EVIDENCE_DIR}/${r}`, reason: "its path is not a plain relative name (letters, digits, . _ -)" })
      }
    }
  }
  walk(base, "", 0)
  return out
}

/** The commit that added each file under `dirs` (oldest first wins), from one `git log`. */
function addingCommits(root: string, dirs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  // newest first: a later (older) commit that added the same path again wins
  for (const { sha, items } of logListing(root, ["--diff-filter=A", "--no-renames", "--name-only", "--", ...dirs])) for (const f of items) out.set(f, sha)
  return out
}

export function collectLocal(ctx: AlloyContext, skipped: TransferReport["skipped"]): LocalItem[] {
  const root = ctx.root
  const cfg = readTeamConfig(root)
  const repository = cfg.name ?? projectName(root)
  const machine = os.hostname().slice(0, 200)
  const commits = addingCommits(root, [".alloy/objects/sha256", EVIDENCE_DIR])
  const items: LocalItem[] = []

  // bundles: the object's name is its digest; a file whose bytes no longer hash to it is not pushed
  let names: string[] = []
  try {
    names = readdirSync(path.join(ctx.store.dir, "objects", "sha256"))
      .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
      .sort()
  } catch {
    names = []
  }
  for (const n of names) {
    const hex = n.slice(0, 64)
    const digest = `sha256:${hex}`
    const file = `.alloy/objects/sha256/${n}`
    let bytes: Buffer | undefined
    try {
      bytes = ctx.store.readObject(digest)
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message })
      continue
    }
    if (!bytes) continue
    if (digestOf(bytes) !== digest) {
      skipped.push({ file, reason: "its bytes do not hash to its name (rebuild the brief to restore it)" })
      continue
    }
    let briefId: string | undefined
    try {
      const b = JSON.parse(bytes.toString("utf8")) as { brief?: { id?: unknown } }
      briefId = typeof b.brief?.id === "string" ? b.brief.id : undefined
    } catch {
      briefId = undefined
    }
    items.push({ kind: "object", id: hex, bytes, digest, file, annotations: { briefId, sourceCommit: commits.get(file), repository, machine } })
  }

  // capability manifests: named by their digest, like bundles; one whose bytes do not check is not pushed
  for (const digest of listCapabilities(root)) {
    const file = capabilitiesRel(digest)
    const c = readCapabilities(root, digest)
    if (!c) {
      skipped.push({ file, reason: "its bytes are not the alloy.capabilities/v1 manifest its name says" })
      continue
    }
    items.push({ kind: "capabilities", id: digest.slice(7), bytes: c.bytes, digest, file, annotations: { repository, machine } })
  }

  // run records: read through the one record reader, keeping each file's exact bytes
  const raw = new Map<string, Buffer>()
  const { records, problems } = readRecords(root, undefined, (f, b) => raw.set(path.basename(f), b))
  for (const p of problems) skipped.push({ file: p.file, reason: p.error })
  for (const r of records) {
    const name = `${r.idempotency_key}.json`
    const bytes = raw.get(name)
    if (!bytes) {
      skipped.push({ file: `.alloy/runs/records/${r.run_id}`, reason: "its file is not named by its idempotency key" })
      continue
    }
    items.push({
      kind: "run",
      id: r.idempotency_key,
      bytes,
      digest: digestOf(bytes),
      file: `.alloy/runs/records/${name}`,
      annotations: { briefId: r.pin?.brief_id, bundleDigest: r.pin?.digest, sourceCommit: r.commit ?? r.base_sha, repository, machine },
    })
  }
  // a record named by another key than the one it carries is not pushed (its identity is unclear)
  const named = new Set(items.filter((i) => i.kind === "run").map((i) => `${i.id}.json`))
  for (const n of raw.keys()) if (!named.has(n) && !problems.some((p) => p.file.endsWith(n))) skipped.push({ file: `.alloy/runs/records/${n}`, reason: "its file name is not its idempotency key" })

  // the evidence ledger: every file is a create-once record named by its path
  for (const f of walkLedger(path.join(root, EVIDENCE_DIR), skipped)) {
    const file = `${EVIDENCE_DIR}/${f.rel}`
    const r = readRegularFile(f.abs, MAX_LEDGER_BYTES)
    if (r.kind !== "ok") {
      skipped.push({ file, reason: r.kind === "too_large" ? `over ${MAX_LEDGER_BYTES} bytes` : "not a readable regular file" })
      continue
    }
    items.push({ kind: "evidence", id: f.rel, bytes: r.bytes, digest: digestOf(r.bytes), file, annotations: { sourceCommit: commits.get(file), repository, machine } })
  }

  // the bridge's requests: their create-once files (what was asked, and the result); the status is a moment, kept local
  for (const b of localBridgeRecords(root, skipped)) items.push({ ...b, digest: digestOf(b.bytes), annotations: { ...b.annotations, repository, machine } })
  return items
}

interface BridgeItem {
  readonly kind: "request" | "runner"
  readonly id: string
  readonly bytes: Buffer
  readonly file: string
  readonly annotations: { briefId?: string; bundleDigest?: string }
}

/**
 * The runner record as a team store shares it: what registered, where, with which OpenCode and
 * capabilities (stable bytes). Without its lease (a lease only says it was alive a moment ago)
 * and without the folder paths on the runner's machine (`project_roots` is left empty: they
 * name people's home folders, and the pulled origin already says which repository it serves).
 */
export function runnerRegistrationBytes(r: Runner): Buffer {
  const { lease_until: _lease, ...registration } = r
  return Buffer.from(`${JSON.stringify({ ...registration, project_roots: [] }, null, 2)}\n`, "utf8")
}

/** This project's bridge records to share: request.json and result.json of every request, and each runner's registration. */
function localBridgeRecords(root: string, skipped: TransferReport["skipped"]): BridgeItem[] {
  const out: BridgeItem[] = []
  const reqDir = path.join(runPaths(root).dir, "requests")
  let keys: string[] = []
  try {
    keys = readdirSync(reqDir).sort()
  } catch {
    keys = []
  }
  for (const key of keys) {
    for (const part of ["request.json", "result.json"] as const) {
      const id = `${key}/${part}`
      const file = `${RUNS_DIR}/requests/${id}`
      const abs = path.join(reqDir, key, part)
      if (!existsSync(abs)) continue
      if (!validId({ kind: "request", id })) {
        skipped.push({ file, reason: "its request key is not a plain name (letters, digits, . _ -)" })
        continue
      }
      const r = readRegularFile(abs, MAX_RECORD_BYTES)
      if (r.kind !== "ok") {
        skipped.push({ file, reason: r.kind === "too_large" ? `over ${MAX_RECORD_BYTES} bytes` : "not a readable regular file" })
        continue
      }
      const parsed = parseBridgeRecord("request", id, r.bytes)
      if (typeof parsed === "string") {
        skipped.push({ file, reason: parsed })
        continue
      }
      out.push({ kind: "request", id, bytes: r.bytes, file, annotations: parsed })
    }
  }
  const runDir = path.join(runPaths(root).dir, "runners")
  let names: string[] = []
  try {
    names = readdirSync(runDir)
      .filter((n) => n.endsWith(".json") && !n.startsWith("."))
      .sort()
  } catch {
    names = []
  }
  for (const n of names) {
    const file = `${RUNS_DIR}/runners/${n}`
    const r = readCheckedJson(path.join(runDir, n), MAX_RECORD_BYTES, RunnerSchema)
    const runner: Runner | undefined = r.kind === "ok" ? r.data : undefined
    if (!runner || `${runner.id}.json` !== n || !validId({ kind: "runner", id: runner.id })) {
      skipped.push({ file, reason: "not an alloy.runner/v1 record named by its id" })
      continue
    }
    out.push({ kind: "runner", id: runner.id, bytes: runnerRegistrationBytes(runner), file, annotations: {} })
  }
  return out
}

/**
 * Bind a bridge record's bytes to its identity: a request file must be the schema its name says and
 * carry the key of its folder; a runner registration must carry its id. The reason when not.
 */
function parseBridgeRecord(kind: "request" | "runner", id: string, bytes: Buffer): { briefId?: string; bundleDigest?: string } | string {
  const text = bytes.toString("utf8")
  if (kind === "runner") {
    const r = safeParseJson(RunnerRegistrationSchema, text)
    if (!r) return "not JSON"
    if (!r.success) return "not an alloy.runner/v1 registration"
    return r.data.id === id ? {} : `it registers runner ${r.data.id}, not ${id}`
  }
  const [key, part] = id.split("/") as [string, string]
  const r = part === "request.json" ? safeParseJson(RequestFileSchema, text) : safeParseJson(RequestResultSchema, text)
  if (!r) return "not JSON"
  if (!r.success) return `not an alloy.request/v1 ${part === "request.json" ? "request" : "result"}`
  if (r.data.key !== key) return `it holds request ${r.data.key}, not ${key}`
  const spec = "spec" in r.data ? r.data.spec : r.data.request
  return { briefId: spec.brief_id, bundleDigest: spec.digest }
}

// ---- push -------------------------------------------------------------------------------

export async function push(ctx: AlloyContext, store: StoreRef, opts: TransferOptions = {}): Promise<TransferReport> {
  ctx.store.requireInit()
  const skipped: TransferReport["skipped"] = []
  const items = collectLocal(ctx, skipped)
  const c = client(store, opts)
  const created = zero()
  const existing = zero()
  const kept: TransferReport["kept"] = []
  const tags = new Set(await c.listTags())
  // the empty config is sent (HEAD first) only when a manifest is about to be written
  let config: Promise<boolean> | undefined
  const ensureConfig = () => (config ??= c.putBlob(EMPTY_DIGEST, EMPTY_BYTES))
  let shape: "oci-1.1" | "oras-1.0" = "oci-1.1"
  // bundles first: a reader never finds a run record before the bundle it ran under
  for (const kind of RECORD_KINDS) {
    await pool(
      items.filter((i) => i.kind === kind),
      CONCURRENCY,
      async (item) => {
        const tag = tagOf(item)
        const blob = { mediaType: "", digest: item.digest, size: item.bytes.length }
        let manifest = manifestBytes({ ...item, blob }, shape)
        if (tags.has(tag)) {
          const there = await c.headManifest(tag)
          if (there === digestOf(manifest) || there === digestOf(manifestBytes({ ...item, blob }, shape === "oci-1.1" ? "oras-1.0" : "oci-1.1"))) {
            existing[kind]++
            return
          }
          if (there !== undefined) {
            const m = await c.getManifest(tag)
            const parsed = m ? parseManifest(m.bytes, parseTag(tag)!) : "gone"
            if (typeof parsed !== "string" && parsed.layer.digest === item.digest) {
              existing[kind]++ // the same record, pushed from another repository or machine
              return
            }
            if (m) {
              kept.push({
                kind,
                id: item.id,
                reason:
                  typeof parsed === "string"
                    ? `the store's ${tag} is not a readable Alloy record (${parsed}); left as it is`
                    : `the store holds other bytes for ${tag}; kept them (records are never overwritten)`,
              })
              return
            }
          }
        }
        await ensureConfig()
        await c.putBlob(item.digest, item.bytes)
        let put = await c.putManifest(tag, manifest)
        // another pusher writing the same blob at this moment can make the registry briefly see it
        // as unknown (its link file is being rewritten): check the blobs again and retry, bounded
        for (let attempt = 1; put.status === 400 && /BLOB_UNKNOWN|DIGEST_INVALID/.test(put.text) && attempt < 5; attempt++) {
          c.stats.retries++
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt + Math.random() * 50))
          await c.putBlob(EMPTY_DIGEST, EMPTY_BYTES)
          await c.putBlob(item.digest, item.bytes)
          put = await c.putManifest(tag, manifest)
        }
        if (put.status === 400 && shape === "oci-1.1" && !/BLOB_UNKNOWN|DIGEST_INVALID/.test(put.text)) {
          // a registry that refuses `artifactType`: the ORAS 1.0 shape, for this and every later record
          shape = "oras-1.0"
          manifest = manifestBytes({ ...item, blob }, shape)
          put = await c.putManifest(tag, manifest)
        }
        if (put.status !== 201) throw new AlloyError("registry_error", `${store.url}: the registry refused the manifest of ${tag} (${put.text.slice(0, 200)})`)
        created[kind]++
      },
    )
  }
  return { store: store.url, created, existing, kept, skipped, stats: c.stats }
}

// ---- pull -------------------------------------------------------------------------------

interface Fetched {
  readonly kind: RecordKind
  readonly id: string
  readonly tag: string
  readonly manifest: string
  readonly bytes: Buffer
  readonly annotations: Record<string, string>
}

function hashPath(p: string): string {
  return createHash("sha256").update(p, "utf8").digest("hex")
}

function ledgerHashes(dir: string): Set<string> {
  // a ledger file is named by its path; tags carry the path's hash
  const out = new Set<string>()
  for (const f of walkLedger(dir, [])) out.add(hashPath(f.rel))
  return out
}

export async function pull(ctx: AlloyContext, store: StoreRef, opts: TransferOptions = {}): Promise<TransferReport> {
  ctx.store.requireInit()
  const c = client(store, opts)
  const created = zero()
  const existing = zero()
  const kept: TransferReport["kept"] = []
  const pp = pulledPaths(ctx.root, store.slug)
  const own = runPaths(ctx.root).records
  const ownLedger = ledgerHashes(path.join(ctx.root, EVIDENCE_DIR))
  const pulledLedger = ledgerHashes(pp.evidence)
  // bridge records here (this project's own, or pulled before), by the hash their tags carry
  const bridgeHave = new Set<string>()
  for (const b of localBridgeRecords(ctx.root, [])) bridgeHave.add(`${b.kind}:${hashPath(b.id)}`)
  for (const b of pulledBridgeIds(pp)) bridgeHave.add(`${b.kind}:${hashPath(b.id)}`)

  // 1. what is missing here (tags are only hints of what the store holds)
  const wanted: Array<{ tag: string; kind: RecordKind; id?: string; pathHash?: string }> = []
  for (const tag of (await c.listTags()).sort()) {
    const t = parseTag(tag)
    if (!t) continue
    const have =
      t.kind === "object"
        ? haveObject(ctx, t.id!)
        : t.kind === "capabilities"
          ? readCapabilities(ctx.root, `sha256:${t.id!}`) !== undefined
          : t.kind === "run"
            ? existsSync(path.join(own, `${t.id}.json`)) || existsSync(path.join(pp.records, `${t.id}.json`))
            : t.kind === "evidence"
              ? ownLedger.has(t.pathHash!) || pulledLedger.has(t.pathHash!)
              : bridgeHave.has(`${t.kind}:${t.pathHash!}`)
    if (have) existing[t.kind]++
    else wanted.push({ tag, ...t })
  }

  // 2. fetch and check everything before storing anything
  const fetched: Fetched[] = []
  let held = 0
  await pool(wanted, CONCURRENCY, async (w) => {
    const m = await c.getManifest(w.tag)
    if (!m) return // the tag went away since it was listed
    const parsed = parseManifest(m.bytes, w)
    if (typeof parsed === "string") {
      throw new AlloyError("digest_mismatch", `${store.url}: ${w.tag} is not the record its tag names (${parsed}); nothing was stored`, {
        fix: "the store holds an artifact Alloy did not write under an Alloy tag: check who writes to this repository, then pull again",
      })
    }
    const limit = w.kind === "object" ? MAX_OBJECT_BYTES : w.kind === "evidence" ? MAX_LEDGER_BYTES : w.kind === "capabilities" ? MAX_CAPABILITIES_BYTES : MAX_RECORD_BYTES
    held += parsed.layer.size
    if (held > MAX_PULL_BYTES) throw new AlloyError("quota_exceeded", `${store.url}: more than ${MAX_PULL_BYTES} bytes to pull at once; nothing was stored`)
    const bytes = await c.getBlob(parsed.layer.digest, parsed.layer.size, limit)
    if (w.kind === "run") {
      const r = safeParseJson(RunRecordSchema, bytes.toString("utf8"))
      const rec: RunRecord | undefined = r?.success ? r.data : undefined
      if (!rec || rec.idempotency_key !== parsed.id) {
        throw new AlloyError(
          "digest_mismatch",
          `${store.url}: ${w.tag} does not hold the run record ${parsed.id}${rec ? ` (it holds ${rec.idempotency_key})` : " (not an alloy.run/v1 record)"}; nothing was stored`,
          {
            fix: "check who writes to this repository, then pull again",
          },
        )
      }
    }
    if (w.kind === "capabilities") {
      const bound = decodeCapabilities(bytes, parsed.layer.digest)
      if (typeof bound === "string") {
        throw new AlloyError("digest_mismatch", `${store.url}: ${w.tag} does not hold a capability manifest (${bound}); nothing was stored`, {
          fix: "check who writes to this repository, then pull again",
        })
      }
    }
    if (w.kind === "request" || w.kind === "runner") {
      const bound = parseBridgeRecord(w.kind, parsed.id, bytes)
      if (typeof bound === "string") {
        throw new AlloyError("digest_mismatch", `${store.url}: ${w.tag} does not hold the ${w.kind} record ${parsed.id} (${bound}); nothing was stored`, {
          fix: "check who writes to this repository, then pull again",
        })
      }
    }
    fetched.push({ kind: w.kind, id: parsed.id, tag: w.tag, manifest: m.digest, bytes, annotations: parsed.annotations })
  })

  // 3. store, create-once: a record that appeared here meanwhile is kept as it is
  fetched.sort((a, b) => RECORD_KINDS.indexOf(a.kind) - RECORD_KINDS.indexOf(b.kind) || (a.tag < b.tag ? -1 : 1))
  if (fetched.some((f) => f.kind === "object")) assertNotOnFlowBranch(ctx, "store pulled bundles in .alloy/objects/")
  if (fetched.some((f) => f.kind !== "object" && f.kind !== "capabilities")) {
    ensureRunsDir(ctx.root)
    for (const d of [pp.records, pp.evidence, pp.origins]) makeDirs(d)
    if (fetched.some((f) => f.kind === "request")) makeDirs(pp.requests)
    if (fetched.some((f) => f.kind === "runner")) makeDirs(pp.runners)
    writeFileAtomic(pp.storeFile, `${JSON.stringify({ store: store.url })}\n`, 0o644, ctx.store.rel(pp.storeFile))
  }
  for (const f of fetched) {
    if (f.kind === "object") {
      const r = ctx.store.writeObject(f.bytes, `sha256:${f.id}`)
      ;(r.created ? created : existing).object++
      continue
    }
    if (f.kind === "capabilities") {
      // content-addressed and checked: kept where this project keeps its own, create-once
      if (storeCapabilities(ctx.root, f.bytes, `sha256:${f.id}`)) created.capabilities++
      else if (readCapabilities(ctx.root, `sha256:${f.id}`)) existing.capabilities++
      else kept.push({ kind: f.kind, id: f.id, reason: `${capabilitiesRel(`sha256:${f.id}`)} holds other bytes; kept it (records are never overwritten)` })
      continue
    }
    const a = f.annotations
    const origin = {
      store: store.url,
      tag: f.tag,
      manifest: f.manifest,
      ...(a["dev.opencode-alloy.repository"] ? { repository: a["dev.opencode-alloy.repository"] } : {}),
      ...(a["dev.opencode-alloy.machine"] ? { machine: a["dev.opencode-alloy.machine"] } : {}),
      ...(a["dev.opencode-alloy.source-commit"] ? { source_commit: a["dev.opencode-alloy.source-commit"] } : {}),
    }
    const originFile = path.join(pp.origins, `${f.tag}.json`)
    writeFileOnce(originFile, `${JSON.stringify(origin, null, 2)}\n`, 0o644, ctx.store.rel(originFile))
    const target =
      f.kind === "run"
        ? path.join(pp.records, `${f.id}.json`)
        : f.kind === "request"
          ? path.join(pp.requests, ...f.id.split("/"))
          : f.kind === "runner"
            ? path.join(pp.runners, `${f.id}.json`)
            : path.join(pp.evidence, ...f.id.split("/"))
    if (f.kind === "run" && existsSync(path.join(own, `${f.id}.json`))) {
      existing.run++
      continue
    }
    if (f.kind === "evidence" || f.kind === "request") makeDirs(path.dirname(target))
    if (writeFileOnce(target, f.bytes, 0o644, ctx.store.rel(target))) created[f.kind]++
    else {
      const there = readRegularFile(target, f.bytes.length + 1)
      if (there.kind === "ok" && there.bytes.equals(f.bytes)) existing[f.kind]++
      else kept.push({ kind: f.kind, id: f.id, reason: `${ctx.store.rel(target)} holds other bytes; kept it (records are never overwritten)` })
    }
  }
  return { store: store.url, created, existing, kept, skipped: [], stats: c.stats, pulledDir: ctx.store.rel(pp.dir) }
}

/** Bridge records pulled before from this store. */
function pulledBridgeIds(pp: ReturnType<typeof pulledPaths>): Array<{ kind: "request" | "runner"; id: string }> {
  const out: Array<{ kind: "request" | "runner"; id: string }> = []
  const list = (d: string) => {
    try {
      return readdirSync(d)
    } catch {
      return []
    }
  }
  for (const key of list(pp.requests)) for (const part of list(path.join(pp.requests, key))) out.push({ kind: "request", id: `${key}/${part}` })
  for (const n of list(pp.runners)) if (n.endsWith(".json")) out.push({ kind: "runner", id: n.slice(0, -5) })
  return out
}

function haveObject(ctx: AlloyContext, hex: string): boolean {
  try {
    const b = ctx.store.readObject(`sha256:${hex}`)
    return !!b && digestOf(b) === `sha256:${hex}`
  } catch {
    return false
  }
}

export async function sync(ctx: AlloyContext, store: StoreRef, opts: TransferOptions = {}): Promise<{ pulled: TransferReport; pushed: TransferReport }> {
  const pulled = await pull(ctx, store, opts)
  const pushed = await push(ctx, store, opts)
  return { pulled, pushed }
}
