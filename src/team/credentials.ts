/**
 * Registry credentials, found where people already keep them, never printed or written:
 *
 *   ALLOY_REGISTRY_USERNAME + ALLOY_REGISTRY_PASSWORD   basic credentials (also exchanged for a Bearer token)
 *   ALLOY_REGISTRY_TOKEN                                 a registry token, sent as `Authorization: Bearer`
 *   $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json
 *                                                        `auths.<registry>.auth` (base64 `user:password`)
 *
 * (or `identitytoken`, an OAuth2 refresh token exchanged at the registry's token realm).
 * Credential helpers (`credsStore`, `credHelpers`) are not run: Alloy starts no program to read secrets.
 */
import os from "node:os"
import path from "node:path"
import { readRegularFile } from "../store/read-file.js"

export interface Credentials {
  readonly username?: string
  readonly password?: string
  readonly token?: string
  /** an OAuth2 refresh token (`identitytoken`, as `az acr login` writes it), exchanged at the Bearer realm */
  readonly identityToken?: string
  /** where they came from, for messages (never the values) */
  readonly source: string
}

function hostKey(k: string): string {
  return k
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase()
}

function fromAuthFile(file: string, registry: string): Credentials | undefined {
  let r
  try {
    r = readRegularFile(file, 1024 * 1024, { followSymlink: true })
  } catch {
    return undefined
  }
  if (r.kind !== "ok") return undefined
  let doc: unknown
  try {
    doc = JSON.parse(r.bytes.toString("utf8"))
  } catch {
    return undefined
  }
  const auths = doc && typeof doc === "object" ? (doc as { auths?: unknown }).auths : undefined
  if (!auths || typeof auths !== "object") return undefined
  const want = registry.toLowerCase()
  for (const [k, v] of Object.entries(auths as Record<string, unknown>)) {
    if (hostKey(k) !== want || !v || typeof v !== "object") continue
    const e = v as Record<string, unknown>
    const shown = `the credential file's entry for ${registry}`
    // `az acr login` writes a dummy `auth` beside the refresh token: the token is the credential
    if (typeof e["identitytoken"] === "string" && e["identitytoken"]) return { identityToken: e["identitytoken"], source: shown }
    if (typeof e["auth"] === "string" && e["auth"]) {
      const plain = Buffer.from(e["auth"], "base64").toString("utf8")
      const i = plain.indexOf(":")
      if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1), source: shown }
    }
    if (typeof e["username"] === "string" && typeof e["password"] === "string") return { username: e["username"], password: e["password"], source: shown }
    if (typeof e["registrytoken"] === "string" && e["registrytoken"]) return { token: e["registrytoken"], source: shown }
  }
  return undefined
}

export function findCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const user = env["ALLOY_REGISTRY_USERNAME"]
  const pass = env["ALLOY_REGISTRY_PASSWORD"]
  if (user && pass) return { username: user, password: pass, source: "ALLOY_REGISTRY_USERNAME/ALLOY_REGISTRY_PASSWORD" }
  if (env["ALLOY_REGISTRY_TOKEN"]) return { token: env["ALLOY_REGISTRY_TOKEN"], source: "ALLOY_REGISTRY_TOKEN" }
  const files: string[] = []
  if (env["REGISTRY_AUTH_FILE"]) files.push(env["REGISTRY_AUTH_FILE"])
  const dockerDir = env["DOCKER_CONFIG"] || (env["HOME"] ? path.join(env["HOME"], ".docker") : path.join(os.homedir(), ".docker"))
  files.push(path.join(dockerDir, "config.json"))
  for (const f of files) {
    const c = fromAuthFile(f, registry)
    if (c) return c
  }
  return undefined
}
