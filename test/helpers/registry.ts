/**
 * Debian's `docker-registry` (the CNCF distribution registry) on 127.0.0.1 for the team-store tests,
 * and a small HTTP proxy in front of it that counts requests, can change one byte of a blob, fail
 * the first requests, or demand a Bearer token from its own token endpoint.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import http from "node:http"
import net from "node:net"
import os from "node:os"
import path from "node:path"

export const REGISTRY_BIN = "/usr/bin/docker-registry"
export const HTPASSWD_BIN = "/usr/bin/htpasswd"

/** In CI (`CI` set, or ALLOY_OCI_REQUIRE=1 as .ci/run sets it) a missing binary fails the tests instead of skipping them. */
const REQUIRED = !!process.env["CI"] || process.env["ALLOY_OCI_REQUIRE"] === "1"

/** Why the registry tests cannot run here, or undefined when they can. */
export function registryUnavailable(): string | undefined {
  if (existsSync(REGISTRY_BIN)) return undefined
  const why = `${REGISTRY_BIN} is not installed (apt-get install docker-registry)`
  if (REQUIRED) throw new Error(`${why}; CI must install it (.ci/run)`)
  return why
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

export interface Registry {
  readonly port: number
  readonly host: string
  readonly dataDir: string
  stop(): Promise<void>
}

/** Start a registry with filesystem storage in a temp folder; `htpasswd` lines turn on basic auth. */
export async function startRegistry(opts: { htpasswd?: string } = {}): Promise<Registry> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "alloy-registry-"))
  const port = await freePort()
  const auth = opts.htpasswd ? `auth:\n  htpasswd:\n    realm: alloy-test\n    path: ${path.join(dir, "htpasswd")}\n` : ""
  if (opts.htpasswd) writeFileSync(path.join(dir, "htpasswd"), opts.htpasswd)
  writeFileSync(
    path.join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: alloy-test-secret\n${auth}`,
  )
  const child: ChildProcess = spawn(REGISTRY_BIN, ["serve", path.join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString("utf8")
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once("exit", () => r()))
      child.kill("SIGTERM")
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))])
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    }
    rmSync(dir, { recursive: true, force: true })
  }
  // ready when /v2/ answers (200, or 401 with auth); bounded
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1_000) })
      await res.body?.cancel()
      if (res.status === 200 || res.status === 401) return { port, host: `127.0.0.1:${port}`, dataDir: path.join(dir, "data"), stop }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  await stop()
  throw new Error(`docker-registry did not start: ${stderr.slice(0, 2000)}`)
}

/** An htpasswd line (bcrypt, as the registry requires) from Debian's apache2-utils. */
export function htpasswdLine(user: string, password: string): string | undefined {
  if (!existsSync(HTPASSWD_BIN)) {
    if (REQUIRED) throw new Error(`${HTPASSWD_BIN} is not installed (apt-get install apache2-utils); CI must install it`)
    return undefined
  }
  const r = spawnSync(HTPASSWD_BIN, ["-nbB", user, password], { encoding: "utf8", timeout: 10_000 })
  return r.status === 0 ? r.stdout.trim() + "\n" : undefined
}

export interface ProxyLog {
  readonly method: string
  readonly path: string
  readonly status: number
}

export interface Proxy {
  readonly host: string
  readonly log: ProxyLog[]
  tokenRequests: number
  tampered: number
  /** the path of the blob download that was tampered with (tamperBlob) */
  readonly tamperedPath: string | undefined
  stop(): Promise<void>
}

export interface ProxyOptions {
  /** change one byte of the first blob download larger than 2 bytes (exactly one, however many run at once) */
  readonly tamperBlob?: boolean
  /** answer this many requests to /v2/ paths with 503 first */
  readonly failFirst?: number
  /** answer a request itself (n counts the /v2/ requests so far, from 1); undefined forwards it */
  readonly intercept?: (method: string, path: string, n: number) => { status: number; body?: string } | undefined
  /** demand `Authorization: Bearer <token>`; tokens come from /token for these basic credentials */
  readonly bearer?: { readonly user: string; readonly password: string; readonly refreshToken?: string }
}

/** A proxy to `target` (host:port) on 127.0.0.1. */
export async function startProxy(target: string, opts: ProxyOptions = {}): Promise<Proxy> {
  const [thost, tport] = target.split(":")
  const log: ProxyLog[] = []
  let failures = opts.failFirst ?? 0
  let seen = 0
  const token = `tok-${Math.random().toString(36).slice(2)}`
  const state = { tokenRequests: 0, tampered: 0, tamperedPath: undefined as string | undefined }
  // which download is tampered with is decided when its answer starts, and claimed there at once:
  // several blob downloads run at the same time, and one whose answer started while another's body
  // was still streaming used to see the count still at 0 and be tampered with too
  let claimed = false
  let self = ""
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/"
    const done = (status: number) => log.push({ method: req.method ?? "", path: url.split("?")[0]!, status })
    if (opts.bearer && url.startsWith("/token")) {
      state.tokenRequests++
      const want = `Basic ${Buffer.from(`${opts.bearer.user}:${opts.bearer.password}`).toString("base64")}`
      if (req.method === "POST" && opts.bearer.refreshToken) {
        // the OAuth2 refresh-token exchange
        const parts: Buffer[] = []
        req.on("data", (d: Buffer) => parts.push(d))
        req.on("end", () => {
          const f = new URLSearchParams(Buffer.concat(parts).toString("utf8"))
          const ok = f.get("grant_type") === "refresh_token" && f.get("refresh_token") === opts.bearer!.refreshToken && !!f.get("scope")
          res.writeHead(ok ? 200 : 401, { "content-type": "application/json" }).end(ok ? JSON.stringify({ access_token: token }) : '{"errors":[{"code":"UNAUTHORIZED"}]}')
          done(ok ? 200 : 401)
        })
        return
      }
      if (req.headers.authorization !== want) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"errors":[{"code":"UNAUTHORIZED"}]}')
        return done(401)
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, expires_in: 300 }))
      return done(200)
    }
    if (url.startsWith("/v2/")) seen++
    const answer = url.startsWith("/v2/") ? opts.intercept?.(req.method ?? "", url.split("?")[0]!, seen) : undefined
    if (answer) {
      req.resume()
      res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body ?? "")
      return done(answer.status)
    }
    if (failures > 0 && url.startsWith("/v2/")) {
      failures--
      req.resume()
      res.writeHead(503, { "content-type": "application/json" }).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}')
      return done(503)
    }
    if (opts.bearer && req.headers.authorization !== `Bearer ${token}`) {
      req.resume()
      const m = /^\/v2\/(.+?)\/(blobs|manifests|tags)\//.exec(url)
      const scope = m ? `,scope="repository:${m[1]}:pull,push"` : ""
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://${self}/token",service="alloy-test"${scope}`, "content-type": "application/json" }).end('{"errors":[{"code":"UNAUTHORIZED"}]}')
      return done(401)
    }
    const headers = { ...req.headers }
    delete headers.authorization
    const up = http.request({ host: thost, port: Number(tport), method: req.method, path: url, headers }, (upRes) => {
      const isBlobGet = req.method === "GET" && /\/blobs\/sha256:/.test(url)
      if (opts.tamperBlob && isBlobGet && !claimed && Number(upRes.headers["content-length"] ?? 0) > 2) {
        claimed = true
        state.tamperedPath = url.split("?")[0]!
        const parts: Buffer[] = []
        upRes.on("data", (d: Buffer) => parts.push(d))
        upRes.on("end", () => {
          const body = Buffer.concat(parts)
          body[Math.floor(body.length / 2)] = body[Math.floor(body.length / 2)]! ^ 0x01
          state.tampered++
          res.writeHead(upRes.statusCode ?? 502, upRes.headers).end(body)
          done(upRes.statusCode ?? 502)
        })
        return
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.headers)
      upRes.pipe(res)
      upRes.on("end", () => done(upRes.statusCode ?? 502))
    })
    up.on("error", () => {
      res.writeHead(502).end()
      done(502)
    })
    req.pipe(up)
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  self = `127.0.0.1:${(server.address() as net.AddressInfo).port}`
  return {
    host: self,
    log,
    get tokenRequests() {
      return state.tokenRequests
    },
    set tokenRequests(v: number) {
      state.tokenRequests = v
    },
    get tampered() {
      return state.tampered
    },
    get tamperedPath() {
      return state.tamperedPath
    },
    set tampered(v: number) {
      state.tampered = v
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
