/** push, pull, sync and store: share bundles, evidence and run records through an OCI registry (docs/oci-store.md).
 * The command table only: it is loaded for every call, even --help, so the work is in
 * ./team-actions.ts, loaded when a command runs.
 */
import type { Commands, OptionSpec } from "./types.js"

const load = () => import("./team-actions.js")

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
    run: async (io, rest, v, cli) => (await load()).pushCmd(io, rest, v, cli),
  },
  pull: {
    summary: "fetch what others pushed to the team store; every byte is checked against its digest before anything is stored",
    usage: "pull [--store oci://<registry>/<repository>] [--plain-http] [--json]",
    details: `${TRANSFER_DETAILS} Run records and ledger files of others go to .alloy/runs/pulled/<store>/; report, status and evidence include them with their origin.`,
    options: STORE_OPTIONS,
    examples: ["opencode-alloy pull", "opencode-alloy pull --store oci://127.0.0.1:5000/team/alloy"],
    run: async (io, rest, v, cli) => (await load()).pullCmd(io, rest, v, cli),
  },
  sync: {
    summary: "pull from the team store, then push to it",
    usage: "sync [--store oci://<registry>/<repository>] [--plain-http] [--json]",
    details: TRANSFER_DETAILS,
    options: STORE_OPTIONS,
    examples: ["opencode-alloy sync"],
    run: async (io, rest, v, cli) => (await load()).syncCmd(io, rest, v, cli),
  },
  store: {
    summary: "show the project's team store",
    usage: ["store [--json]", "store set oci://<registry>/<repository>"],
    examples: ["opencode-alloy store", "opencode-alloy store set oci://ghcr.io/acme/alloy-evidence"],
    run: async (io, rest, v, cli) => (await load()).storeShow(io, rest, v, cli),
    subcommands: {
      set: {
        summary: `set the project's team store in .alloy/config.json (commit it so CI and everyone use the same)`,
        usage: "store set oci://<registry>/<repository> [--plain-http]",
        options: { "plain-http": STORE_OPTIONS["plain-http"]! },
        examples: ["opencode-alloy store set oci://ghcr.io/acme/alloy-evidence"],
        run: async (io, rest, v, cli) => (await load()).storeSet(io, rest, v, cli),
      },
    },
  },
}
