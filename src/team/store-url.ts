/**
 * Where a team store is: `oci://<registry>/<repository>`, from `--store`, `ALLOY_STORE`, or the
 * project's committed `.alloy/config.json` (`{"store": "oci://..."}`) so CI and people use the same.
 * HTTPS always, except a registry on a loopback host (a local test registry), or when asked
 * explicitly (`--plain-http`).
 */
import path from "node:path"
import { AlloyError } from "../core/errors.js"
import { writeFileAtomic } from "../store/atomic.js"
import { ALLOY_DIR } from "../store/store.js"
import { readRegularFile } from "../store/read-file.js"

export const CONFIG_FILE = `${ALLOY_DIR}/config.json`

/** OCI repository names (the Distribution spec's grammar), at most 255 characters */
const REPO_RE = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/
const HOST_RE = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*)(:[0-9]{1,5})?$/

export interface StoreRef {
  /** `oci://<host[:port]>/<repository>` */
  readonly url: string
  /** `<host[:port]>` as written */
  readonly registry: string
  readonly repository: string
  /** `https://<host[:port]>` (or http for loopback / --plain-http) */
  readonly base: string
  readonly plainHttp: boolean
  /** one path segment naming the store under `.alloy/runs/pulled/` */
  readonly slug: string
}

export function isLoopbackHost(registry: string): boolean {
  const host = registry
    .replace(/:[0-9]+$/, "")
    .replace(/^\[|\]$/g, "")
    .toLowerCase()
  return host === "localhost" || host === "::1" || /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(host)
}

export function parseStoreUrl(raw: string, opts: { plainHttp?: boolean } = {}): StoreRef {
  const bad = (why: string) =>
    new AlloyError("usage", `the store ${JSON.stringify(raw.slice(0, 120))} is not usable: ${why}`, { fix: "write it as oci://<registry>/<repository>, e.g. oci://ghcr.io/acme/alloy-evidence" })
  const m = /^oci:\/\/([^/]+)\/(.+)$/.exec(raw.trim())
  if (!m) throw bad("it must start with oci:// and name a registry and a repository")
  const registry = m[1]!
  const repository = m[2]!.replace(/\/+$/, "")
  if (registry.includes("@")) throw bad("credentials do not belong in the store address (use ALLOY_REGISTRY_USERNAME/PASSWORD or docker login)")
  if (!HOST_RE.test(registry)) throw bad("the registry is not a host name with an optional port")
  if (repository.length > 255 || !REPO_RE.test(repository)) throw bad("the repository must be lower-case path components (a-z, 0-9, . _ -)")
  const loopback = isLoopbackHost(registry)
  const plainHttp = loopback || opts.plainHttp === true
  const slug = `${registry.replace(/[[\]]/g, "").replace(/:/g, "_")}+${repository.split("/").join("+")}`.toLowerCase()
  return { url: `oci://${registry}/${repository}`, registry, repository, base: `${plainHttp ? "http" : "https"}://${registry}`, plainHttp, slug }
}

export interface TeamConfig {
  readonly store?: string
  /** how records pushed from this repository name it (default: the project's name) */
  readonly name?: string
}

export function readTeamConfig(root: string): TeamConfig {
  const r = readRegularFile(path.join(root, CONFIG_FILE), 64 * 1024)
  if (r.kind === "absent") return {}
  if (r.kind !== "ok") throw new AlloyError("malformed", `${CONFIG_FILE} is not a readable file under 64 KiB`, { file: CONFIG_FILE })
  let doc: unknown
  try {
    doc = JSON.parse(r.bytes.toString("utf8"))
  } catch {
    throw new AlloyError("malformed", `${CONFIG_FILE} is not valid JSON`, { file: CONFIG_FILE, fix: 'write it as {"store": "oci://<registry>/<repository>"}' })
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new AlloyError("malformed", `${CONFIG_FILE} must hold a JSON object`, { file: CONFIG_FILE })
  const d = doc as Record<string, unknown>
  const out: { store?: string; name?: string } = {}
  if (typeof d["store"] === "string") out.store = d["store"]
  if (typeof d["name"] === "string" && /^[A-Za-z0-9@/._-]{1,200}$/.test(d["name"])) out.name = d["name"]
  return out
}

/** Set `store` in `.alloy/config.json`, keeping every other key. */
export function writeStoreSetting(root: string, store: StoreRef): void {
  const file = path.join(root, CONFIG_FILE)
  let doc: Record<string, unknown> = {}
  const r = readRegularFile(file, 64 * 1024)
  if (r.kind === "ok") {
    try {
      const d = JSON.parse(r.bytes.toString("utf8")) as unknown
      if (d && typeof d === "object" && !Array.isArray(d)) doc = d as Record<string, unknown>
    } catch {
      throw new AlloyError("malformed", `${CONFIG_FILE} is not valid JSON; fix it before changing the store`, { file: CONFIG_FILE })
    }
  }
  doc["store"] = store.url
  writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`, 0o644, CONFIG_FILE)
}

/** The store to use: the command's `--store`, else `ALLOY_STORE`, else the project's setting. */
export function resolveStore(root: string, given: string | undefined, opts: { plainHttp?: boolean; env?: NodeJS.ProcessEnv } = {}): StoreRef {
  const env = opts.env ?? process.env
  const raw = given ?? env["ALLOY_STORE"] ?? readTeamConfig(root).store
  if (!raw) {
    throw new AlloyError("usage", "no team store is set", {
      fix: `pass --store oci://<registry>/<repository>, or set it for everyone with \`opencode-alloy store set oci://<registry>/<repository>\` (writes ${CONFIG_FILE}; commit it)`,
    })
  }
  return parseStoreUrl(raw, { plainHttp: opts.plainHttp === true || env["ALLOY_REGISTRY_PLAIN_HTTP"] === "1" })
}
