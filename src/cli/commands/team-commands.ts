/** push, pull, sync and store: share bundles, evidence and run records through an OCI registry (docs/oci-store.md). */
import { AlloyContext } from "../../service/context.js"
import { push, pull, sync, type TransferReport } from "../../team/transfer.js"
import { parseStoreUrl, readTeamConfig, resolveStore, writeStoreSetting, CONFIG_FILE } from "../../team/store-url.js"
import { assertNotOnFlowBranch } from "../../service/guard.js"
import { EXIT_OK, usageError, type Io } from "../io.js"
import { str, type Command, type Commands, type OptionSpec, type OptionValues } from "./types.js"

const KINDS = ["object", "run", "evidence"] as const
const NAMES = { object: ["bundle", "bundles"], run: ["run record", "run records"], evidence: ["ledger file", "ledger files"] } as const

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
    if (r.created.run || r.created.evidence) io.out(`  Records of others are in ${r.pulledDir}/; \`opencode-alloy report\` and \`status\` include them with their origin.`)
  }
  for (const k of r.kept) io.out(`  kept ${k.kind} ${k.id}: ${k.reason}`)
  for (const s of r.skipped) io.out(`  ! not pushed: ${s.file}: ${s.reason}`)
}

function storeOf(io: Io, v: OptionValues) {
  return resolveStore(io.cwd, str(v["store"]), { plainHttp: v["plain-http"] === true })
}

const pushCmd: Command = async (io, rest, v) => {
  if (rest.length) throw usageError("usage: opencode-alloy push [--store oci://<registry>/<repository>]")
  const ctx = new AlloyContext(io.cwd)
  const r = await push(ctx, storeOf(io, v))
  if (io.json) io.out(JSON.stringify({ ok: true, ...r }, null, 2))
  else printReport(io, "Pushed to", r)
  return EXIT_OK
}

const pullCmd: Command = async (io, rest, v) => {
  if (rest.length) throw usageError("usage: opencode-alloy pull [--store oci://<registry>/<repository>]")
  const ctx = new AlloyContext(io.cwd)
  const r = await pull(ctx, storeOf(io, v))
  if (io.json) io.out(JSON.stringify({ ok: true, ...r }, null, 2))
  else printReport(io, "Pulled from", r)
  return EXIT_OK
}

const syncCmd: Command = async (io, rest, v) => {
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

const storeSet: Command = (io, rest, v) => {
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

const storeShow: Command = (io, rest) => {
  if (rest.length) throw usageError(`unknown store command "${String(rest[0]).slice(0, 24)}"`, "use `opencode-alloy store` or `store set oci://<registry>/<repository>`")
  const ctx = new AlloyContext(io.cwd)
  const cfg = readTeamConfig(ctx.root)
  const env = process.env["ALLOY_STORE"]
  const shown = env ?? cfg.store
  if (io.json) io.out(JSON.stringify({ ok: true, store: shown ?? null, from: env ? "ALLOY_STORE" : cfg.store ? CONFIG_FILE : null }, null, 2))
  else io.out(shown ? `${parseStoreUrl(shown).url} (from ${env ? "ALLOY_STORE" : CONFIG_FILE})` : "No team store is set. Set one with `opencode-alloy store set oci://<registry>/<repository>`.")
  return EXIT_OK
}

const STORE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  store: { type: "string", value: "oci://registry/repo", description: "the team store (default: ALLOY_STORE, else `store` in .alloy/config.json)" },
  "plain-http": { type: "boolean", description: "allow plain http to a registry that is not on this machine (loopback registries always use http)" },
}

const TRANSFER_DETAILS =
  "Credentials: ALLOY_REGISTRY_USERNAME + ALLOY_REGISTRY_PASSWORD, ALLOY_REGISTRY_TOKEN, or the `auths` entry of ~/.docker/config.json (docker login). The stored layout: docs/oci-store.md."

export const teamCommands: Commands = {
  push: {
    summary: "send bundles, run records and the evidence ledger to the team store (an OCI registry); what is there already is not sent again",
    usage: "push [--store oci://<registry>/<repository>] [--plain-http] [--json]",
    details: TRANSFER_DETAILS,
    options: STORE_OPTIONS,
    examples: ["opencode-alloy push --store oci://ghcr.io/acme/alloy-evidence", "opencode-alloy push --json"],
    run: pushCmd,
  },
  pull: {
    summary: "fetch what others pushed to the team store; every byte is checked against its digest before anything is stored",
    usage: "pull [--store oci://<registry>/<repository>] [--plain-http] [--json]",
    details: `${TRANSFER_DETAILS} Run records and ledger files of others go to .alloy/runs/pulled/<store>/; report, status and evidence include them with their origin.`,
    options: STORE_OPTIONS,
    examples: ["opencode-alloy pull", "opencode-alloy pull --store oci://127.0.0.1:5000/team/alloy"],
    run: pullCmd,
  },
  sync: {
    summary: "pull from the team store, then push to it",
    usage: "sync [--store oci://<registry>/<repository>] [--plain-http] [--json]",
    details: TRANSFER_DETAILS,
    options: STORE_OPTIONS,
    examples: ["opencode-alloy sync"],
    run: syncCmd,
  },
  store: {
    summary: "show the project's team store",
    usage: ["store [--json]", "store set oci://<registry>/<repository>"],
    examples: ["opencode-alloy store", "opencode-alloy store set oci://ghcr.io/acme/alloy-evidence"],
    run: storeShow,
    subcommands: {
      set: {
        summary: `set the project's team store in ${CONFIG_FILE} (commit it so CI and everyone use the same)`,
        usage: "store set oci://<registry>/<repository> [--plain-http]",
        options: { "plain-http": STORE_OPTIONS["plain-http"]! },
        examples: ["opencode-alloy store set oci://ghcr.io/acme/alloy-evidence"],
        run: storeSet,
      },
    },
  },
}
