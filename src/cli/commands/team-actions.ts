/** push, pull, sync and store: what the team commands do (share bundles, evidence and run records through an OCI registry). */
import { AlloyContext } from "../../service/context.js"
import { push, pull, sync, type TransferReport } from "../../team/transfer.js"
import { parseStoreUrl, readTeamConfig, resolveStore, writeStoreSetting, CONFIG_FILE } from "../../team/store-url.js"
import { assertNotOnFlowBranch } from "../../service/guard.js"
import { EXIT_OK, usageError, type Io } from "../io.js"
import { str, type Command, type OptionValues } from "./types.js"

const KINDS = ["object", "capabilities", "run", "evidence", "request", "runner"] as const
const NAMES = {
  object: ["bundle", "bundles"],
  capabilities: ["capability manifest", "capability manifests"],
  run: ["run record", "run records"],
  evidence: ["ledger file", "ledger files"],
  request: ["request file", "request files"],
  runner: ["runner", "runners"],
} as const

function counts(c: TransferReport["created"]): string {
  const parts = KINDS.filter((k) => c[k]).map((k) => `${c[k]} ${NAMES[k][c[k] === 1 ? 0 : 1]}`)
  return parts.length ? parts.join(", ") : "nothing"
}

function printReport(io: Io, verb: "Pushed to" | "Pulled from", r: TransferReport): void {
  const existing = KINDS.reduce((n, k) => n + r.existing[k], 0)
  io.out(`${verb} ${r.store}: ${counts(r.created)} new; ${existing} already there.`)
  if (verb === "Pushed to") io.out(`  ${r.stats.blobsUploaded} blob${r.stats.blobsUploaded === 1 ? "" : "s"} uploaded (${r.stats.bytesUploaded} bytes) in ${r.stats.requests} requests.`)
  else {
    io.out(`  ${r.stats.blobsDownloaded} blob${r.stats.blobsDownloaded === 1 ? "" : "s"} downloaded and checked (${r.stats.bytesDownloaded} bytes) in ${r.stats.requests} requests.`)
    if (r.created.run || r.created.evidence || r.created.request || r.created.runner)
      io.out(`  Records of others are in ${r.pulledDir}/; \`opencode-alloy report\` and \`status\` include them with their origin.`)
  }
  for (const k of r.kept) io.out(`  kept ${k.kind} ${k.id}: ${k.reason}`)
  for (const s of r.skipped) io.out(`  ! not pushed: ${s.file}: ${s.reason}`)
}

function storeOf(io: Io, v: OptionValues) {
  return resolveStore(io.cwd, str(v["store"]), { plainHttp: v["plain-http"] === true })
}

export const pushCmd: Command = async (io, rest, v) => {
  if (rest.length) throw usageError("usage: opencode-alloy push [--store oci://<registry>/<repository>]")
  const ctx = new AlloyContext(io.cwd)
  const r = await push(ctx, storeOf(io, v))
  if (io.json) io.out(JSON.stringify({ ok: true, ...r }, null, 2))
  else printReport(io, "Pushed to", r)
  return EXIT_OK
}

export const pullCmd: Command = async (io, rest, v) => {
  if (rest.length) throw usageError("usage: opencode-alloy pull [--store oci://<registry>/<repository>]")
  const ctx = new AlloyContext(io.cwd)
  const r = await pull(ctx, storeOf(io, v))
  if (io.json) io.out(JSON.stringify({ ok: true, ...r }, null, 2))
  else printReport(io, "Pulled from", r)
  return EXIT_OK
}

export const syncCmd: Command = async (io, rest, v) => {
  if (rest.length) throw usageError("usage: opencode-alloy sync [--store oci://<registry>/<repository>]")
  const ctx = new AlloyContext(io.cwd)
  const r = await sync(ctx, storeOf(io, v))
  if (io.json) io.out(JSON.stringify({ ok: true, ...r }, null, 2))
  else {
    printReport(io, "Pulled from", r.pulled)
    printReport(io, "Pushed to", r.pushed)
  }
  return EXIT_OK
}

export const storeSet: Command = (io, rest, v) => {
  const [url, ...more] = rest
  if (!url || more.length) throw usageError("usage: opencode-alloy store set oci://<registry>/<repository>")
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  assertNotOnFlowBranch(ctx, `change ${CONFIG_FILE}`)
  const s = parseStoreUrl(url, { plainHttp: v["plain-http"] === true })
  writeStoreSetting(ctx.root, s)
  if (io.json) io.out(JSON.stringify({ ok: true, store: s.url, file: CONFIG_FILE }, null, 2))
  else io.out(`Set the team store to ${s.url} in ${CONFIG_FILE}; commit it so CI and everyone use the same.`)
  return EXIT_OK
}

export const storeShow: Command = (io, rest) => {
  if (rest.length) throw usageError(`unknown store command "${String(rest[0]).slice(0, 24)}"`, "use `opencode-alloy store` or `store set oci://<registry>/<repository>`")
  const ctx = new AlloyContext(io.cwd)
  const cfg = readTeamConfig(ctx.root)
  const env = process.env["ALLOY_STORE"]
  const shown = env ?? cfg.store
  if (io.json) io.out(JSON.stringify({ ok: true, store: shown ?? null, from: env ? "ALLOY_STORE" : cfg.store ? CONFIG_FILE : null }, null, 2))
  else io.out(shown ? `${parseStoreUrl(shown).url} (from ${env ? "ALLOY_STORE" : CONFIG_FILE})` : "No team store is set. Set one with `opencode-alloy store set oci://<registry>/<repository>`.")
  return EXIT_OK
}
