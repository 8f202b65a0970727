/**
 * The part of the OCI Distribution API Alloy uses, over `fetch`: blobs (HEAD, GET, monolithic or
 * chunked upload), manifests (HEAD, GET, PUT by tag) and the tag list. Auth as registries do it:
 * anonymous first, then the challenge in `WWW-Authenticate` (Basic, or Bearer: a token from the
 * realm for the service and scope asked for). Bounded retries with backoff for network failures,
 * 429 and 5xx; every failure is an AlloyError with a stable code and no credential in it.
 */
import { createHash } from "node:crypto"
import { AlloyError, type ErrorCode } from "../core/errors.js"
import type { Credentials } from "./credentials.js"
import { isLoopbackHost, type StoreRef } from "./store-url.js"
import { OCI_MANIFEST } from "./layout.js"

export interface ClientOptions {
  readonly credentials?: Credentials | undefined
  /** attempts per request for retryable failures (default 4) */
  readonly maxAttempts?: number
  /** first backoff in ms (doubles, with jitter; default 250) */
  readonly backoffMs?: number
  /** per-request timeout in ms (default 60 000) */
  readonly timeoutMs?: number
  /** chunk size of chunked uploads (default 4 MiB; smaller blobs go in one PUT) */
  readonly chunkBytes?: number
  readonly fetch?: typeof fetch
}

export interface TransferStats {
  requests: number
  blobsUploaded: number
  bytesUploaded: number
  blobsDownloaded: number
  bytesDownloaded: number
  retries: number
}

interface Req {
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "PATCH"
  /** `/v2/...` or an absolute upload location */
  readonly url: string
  readonly headers?: Record<string, string>
  readonly body?: Buffer
  /** statuses that are answers, not failures */
  readonly ok: readonly number[]
  /** what the request is for, in messages */
  readonly what: string
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504])
const MAX_REDIRECTS = 3

export class RegistryClient {
  readonly store: StoreRef
  readonly stats: TransferStats = { requests: 0, blobsUploaded: 0, bytesUploaded: 0, blobsDownloaded: 0, bytesDownloaded: 0, retries: 0 }
  private authorization: string | undefined
  private readonly opts: Required<Omit<ClientOptions, "credentials" | "fetch">> & Pick<ClientOptions, "credentials">
  private readonly fetchImpl: typeof fetch
  private readonly secrets: string[]

  constructor(store: StoreRef, opts: ClientOptions = {}) {
    this.store = store
    this.opts = {
      maxAttempts: opts.maxAttempts ?? 4,
      backoffMs: opts.backoffMs ?? 250,
      timeoutMs: opts.timeoutMs ?? 60_000,
      chunkBytes: opts.chunkBytes ?? 4 * 1024 * 1024,
      credentials: opts.credentials,
    }
    this.fetchImpl = opts.fetch ?? fetch
    const c = opts.credentials
    this.secrets = [c?.password, c?.token, c?.identityToken, c?.username && c?.password ? Buffer.from(`${c.username}:${c.password}`).toString("base64") : undefined].filter(
      (s): s is string => !!s && s.length >= 3,
    )
    if (c?.token) this.authorization = `Bearer ${c.token}`
  }

  private repoPath(tail: string): string {
    return `/v2/${this.store.repository}/${tail}`
  }

  /** Text from the server for a message: one line, clipped, with any credential removed. */
  private clean(s: string): string {
    let t = s
      .replace(/[\u0000-\u001f\u007f]+/g, " ")
      .trim()
      .slice(0, 300)
    for (const x of this.secrets) t = t.split(x).join("***")
    return t
  }

  private fail(code: ErrorCode, message: string, fix?: string): AlloyError {
    return new AlloyError(code, `${this.store.url}: ${this.clean(message)}`, fix ? { fix } : {})
  }

  private async send(method: string, url: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Response> {
    this.stats.requests++
    return this.fetchImpl(url, {
      method,
      headers,
      ...(body ? { body } : {}),
      redirect: "manual",
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    })
  }

  private async errorText(res: Response): Promise<string> {
    try {
      const text = (await res.text()).slice(0, 4000)
      try {
        const j = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }
        if (Array.isArray(j.errors) && j.errors.length) return j.errors.map((e) => `${e.code ?? ""}${e.message ? ` ${e.message}` : ""}`.trim()).join("; ")
      } catch {
        /* not the registry's JSON error */
      }
      return text
    } catch {
      return ""
    }
  }

  /** One request with auth, redirects and bounded retries. */
  async request(r: Req): Promise<Response> {
    let url = r.url.startsWith("/") ? `${this.store.base}${r.url}` : r.url
    const origin = new URL(this.store.base).origin
    let authRounds = 0
    let redirects = 0
    for (let attempt = 1; ; attempt++) {
      const sameOrigin = new URL(url).origin === origin
      const headers: Record<string, string> = { ...(r.headers ?? {}) }
      if (this.authorization && sameOrigin) headers["authorization"] = this.authorization
      let res: Response
      try {
        res = await this.send(r.method, url, headers, r.body)
      } catch (e) {
        if (attempt < this.opts.maxAttempts) {
          await this.backoff(attempt)
          continue
        }
        const why = (e as Error).name === "TimeoutError" ? `no answer within ${Math.round(this.opts.timeoutMs / 1000)} s` : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message)
        throw this.fail(
          "network_error",
          `${r.what}: the registry could not be reached (${why}) after ${attempt} attempt${attempt === 1 ? "" : "s"}`,
          "check the address and the network, then run the command again (it resumes: what is there already is not sent again)",
        )
      }
      if (r.ok.includes(res.status)) return res
      if (res.status >= 300 && res.status < 400 && res.headers.get("location") && (r.method === "GET" || r.method === "HEAD") && redirects < MAX_REDIRECTS) {
        redirects++
        const next = new URL(res.headers.get("location")!, url)
        if (next.protocol !== "https:" && !(next.protocol === "http:" && (this.store.plainHttp || isLoopbackHost(next.host))))
          throw this.fail("registry_error", `${r.what}: the registry redirected to a plain-http address`)
        url = next.toString()
        attempt--
        continue
      }
      if (res.status === 401 && authRounds < 2) {
        authRounds++
        const challenge = res.headers.get("www-authenticate") ?? ""
        await res.body?.cancel().catch(() => undefined)
        await this.answerChallenge(challenge, r)
        attempt--
        continue
      }
      const text = await this.errorText(res)
      if (res.status === 401 || res.status === 403) {
        if (/quota|storage limit|exceed/i.test(text)) throw this.fail("quota_exceeded", `${r.what}: ${res.status} ${text}`, "free space in the registry or raise its quota")
        throw this.fail(
          "auth_failed",
          `${r.what}: the registry refused ${this.opts.credentials ? `the credentials from ${this.opts.credentials.source}` : "anonymous access"} (${res.status}${text ? ` ${text}` : ""})`,
          "set ALLOY_REGISTRY_USERNAME and ALLOY_REGISTRY_PASSWORD (or ALLOY_REGISTRY_TOKEN), or log in with `docker login <registry>`; pushing needs write access to the repository",
        )
      }
      if (res.status === 413 || res.status === 507)
        throw this.fail("quota_exceeded", `${r.what}: ${res.status} ${text || "the registry has no room for this"}`, "free space in the registry or raise its quota")
      if (RETRY_STATUS.has(res.status) && attempt < this.opts.maxAttempts) {
        const after = Number(res.headers.get("retry-after"))
        await this.backoff(attempt, Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 10_000) : undefined)
        continue
      }
      if (res.status === 429)
        throw this.fail("quota_exceeded", `${r.what}: the registry limits requests (429) and still did after ${attempt} attempts`, "wait, then run the command again (it resumes)")
      if (res.status >= 500)
        throw this.fail("network_error", `${r.what}: the registry failed (${res.status}${text ? ` ${text}` : ""}) after ${attempt} attempts`, "run the command again later (it resumes)")
      throw this.fail("registry_error", `${r.what}: unexpected answer ${res.status}${text ? ` ${text}` : ""}`)
    }
  }

  private async backoff(attempt: number, ms?: number): Promise<void> {
    this.stats.retries++
    const base = ms ?? Math.min(this.opts.backoffMs * 2 ** (attempt - 1), 5_000)
    await sleep(base / 2 + Math.random() * (base / 2))
  }

  /** Answer `WWW-Authenticate`: Basic with the credentials, or Bearer with a token from the realm. */
  private async answerChallenge(header: string, r: Req): Promise<void> {
    const c = this.opts.credentials
    const scheme = /^\s*(\w+)/.exec(header)?.[1]?.toLowerCase()
    const params: Record<string, string> = {}
    for (const m of header.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!
    const need = () =>
      this.fail(
        "auth_failed",
        `${r.what}: the registry asks for credentials and none were found`,
        "set ALLOY_REGISTRY_USERNAME and ALLOY_REGISTRY_PASSWORD (or ALLOY_REGISTRY_TOKEN), or log in with `docker login <registry>`",
      )
    if (scheme === "basic") {
      if (!c?.username || c.password === undefined) throw need()
      if (!this.store.plainHttp || isLoopbackHost(this.store.registry)) this.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`
      else throw this.fail("auth_failed", "refusing to send credentials over plain http to a registry that is not on this machine")
      return
    }
    if (scheme !== "bearer" || !params["realm"]) throw this.fail("auth_failed", `${r.what}: the registry asks for an authentication scheme Alloy does not speak (${this.clean(header.slice(0, 60))})`)
    let realm: URL
    try {
      realm = new URL(params["realm"])
    } catch {
      throw this.fail("auth_failed", `${r.what}: the registry's token realm is not a URL`)
    }
    if (realm.protocol !== "https:" && !(realm.protocol === "http:" && (isLoopbackHost(realm.host) || this.store.plainHttp)))
      throw this.fail("auth_failed", "refusing to ask a plain-http token realm for a token")
    const write = r.method !== "GET" && r.method !== "HEAD"
    const scope = params["scope"] ?? `repository:${this.store.repository}:${write ? "pull,push" : "pull"}`
    if (params["service"]) realm.searchParams.set("service", params["service"])
    for (const s of scope.split(" ")) if (s) realm.searchParams.append("scope", s)
    const headers: Record<string, string> = { accept: "application/json" }
    if (c?.username && c.password !== undefined) headers["authorization"] = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`
    else if (c?.token) headers["authorization"] = `Bearer ${c.token}`
    // an OAuth2 refresh token is exchanged with a POST (the registry token spec's OAuth2 flow)
    let form: Buffer | undefined
    if (c?.identityToken && !headers["authorization"]) {
      const f = new URLSearchParams({ grant_type: "refresh_token", client_id: "opencode-alloy", refresh_token: c.identityToken })
      if (params["service"]) f.set("service", params["service"])
      f.set("scope", scope)
      form = Buffer.from(f.toString(), "utf8")
      headers["content-type"] = "application/x-www-form-urlencoded"
    }
    const tokenUrl = form ? `${realm.origin}${realm.pathname}` : realm.toString()
    let res: Response | undefined
    for (let attempt = 1; attempt <= this.opts.maxAttempts; attempt++) {
      try {
        res = await this.send(form ? "POST" : "GET", tokenUrl, headers, form)
      } catch {
        res = undefined
      }
      if (res && !RETRY_STATUS.has(res.status)) break
      if (attempt < this.opts.maxAttempts) await this.backoff(attempt)
    }
    if (!res) throw this.fail("network_error", `${r.what}: the token service could not be reached`)
    if (res.status === 401 || res.status === 403)
      throw this.fail("auth_failed", `${r.what}: the token service refused ${c ? `the credentials from ${c.source}` : "anonymous access"} (${res.status})`, "check the user name and password or token")
    if (res.status !== 200) throw this.fail("auth_failed", `${r.what}: the token service answered ${res.status}`)
    let token: unknown
    try {
      const j = (await res.json()) as { token?: unknown; access_token?: unknown }
      token = j.token ?? j.access_token
    } catch {
      token = undefined
    }
    if (typeof token !== "string" || !token || token.length > 16384) throw this.fail("auth_failed", `${r.what}: the token service gave no token`)
    this.secrets.push(token)
    this.authorization = `Bearer ${token}`
  }

  // ---- blobs ---------------------------------------------------------------------------

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request({ method: "HEAD", url: this.repoPath(`blobs/${digest}`), ok: [200, 404], what: `checking blob ${digest.slice(7, 19)}` })
    return res.status === 200
  }

  /** Upload a blob (HEAD first: an existing blob is not sent again). Returns true when it was uploaded. */
  async putBlob(digest: string, bytes: Buffer): Promise<boolean> {
    if (await this.hasBlob(digest)) return false
    try {
      await this.upload(digest, bytes)
    } catch (e) {
      // a retried upload whose first try did land (the session is then gone): the blob is there
      if (await this.hasBlob(digest).catch(() => false)) return true
      throw e
    }
    this.stats.blobsUploaded++
    this.stats.bytesUploaded += bytes.length
    return true
  }

  private location(res: Response, base: string): string {
    const loc = res.headers.get("location")
    if (!loc) throw this.fail("registry_error", "the registry started an upload without a Location")
    const u = new URL(loc, base)
    if (u.origin !== new URL(this.store.base).origin) throw this.fail("registry_error", "the registry sent the upload to another host")
    return u.toString()
  }

  private async upload(digest: string, bytes: Buffer): Promise<void> {
    const what = `uploading blob ${digest.slice(7, 19)}`
    const start = await this.request({ method: "POST", url: this.repoPath("blobs/uploads/"), ok: [202], what })
    await start.body?.cancel().catch(() => undefined)
    let loc = this.location(start, this.store.base)
    if (bytes.length > this.opts.chunkBytes) {
      for (let off = 0; off < bytes.length; off += this.opts.chunkBytes) {
        const chunk = bytes.subarray(off, Math.min(off + this.opts.chunkBytes, bytes.length))
        const res = await this.request({
          method: "PATCH",
          url: loc,
          headers: { "content-type": "application/octet-stream", "content-range": `${off}-${off + chunk.length - 1}`, "content-length": String(chunk.length) },
          body: Buffer.from(chunk),
          ok: [202],
          what,
        })
        await res.body?.cancel().catch(() => undefined)
        loc = this.location(res, loc)
      }
      const u = new URL(loc)
      u.searchParams.set("digest", digest)
      const done = await this.request({ method: "PUT", url: u.toString(), headers: { "content-length": "0" }, ok: [201], what })
      await done.body?.cancel().catch(() => undefined)
      return
    }
    const u = new URL(loc)
    u.searchParams.set("digest", digest)
    const res = await this.request({ method: "PUT", url: u.toString(), headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length) }, body: bytes, ok: [201], what })
    await res.body?.cancel().catch(() => undefined)
  }

  /**
   * A blob's bytes, checked against its digest and size before they are returned: a server that
   * sends other bytes fails with `digest_mismatch` (nothing is kept).
   */
  async getBlob(digest: string, size: number, limit: number): Promise<Buffer> {
    if (size > limit) throw this.fail("malformed", `blob ${digest} is ${size} bytes, over the ${limit}-byte limit`)
    const res = await this.request({ method: "GET", url: this.repoPath(`blobs/${digest}`), ok: [200], what: `downloading blob ${digest.slice(7, 19)}` })
    const bytes = await readLimited(res, size + 1)
    this.stats.blobsDownloaded++
    this.stats.bytesDownloaded += bytes.length
    const got = `sha256:${createHash("sha256").update(bytes).digest("hex")}`
    if (got !== digest || bytes.length !== size) {
      throw new AlloyError("digest_mismatch", `${this.store.url}: blob ${digest} arrived as ${bytes.length} bytes that hash to ${got}; nothing was stored`, {
        fix: "the registry (or something between it and you) changed the data: check the registry and the network path, then pull again",
      })
    }
    return bytes
  }

  // ---- manifests and tags ----------------------------------------------------------------

  /** The digest a tag points at now (a hint), or undefined when there is no such tag. */
  async headManifest(tag: string): Promise<string | undefined> {
    const res = await this.request({ method: "HEAD", url: this.repoPath(`manifests/${tag}`), headers: { accept: OCI_MANIFEST }, ok: [200, 404], what: `checking ${tag}` })
    if (res.status === 404) return undefined
    return res.headers.get("docker-content-digest") ?? "unknown"
  }

  /** A manifest's bytes; when the registry names their digest, the bytes must hash to it. */
  async getManifest(ref: string): Promise<{ bytes: Buffer; digest: string } | undefined> {
    const res = await this.request({ method: "GET", url: this.repoPath(`manifests/${ref}`), headers: { accept: OCI_MANIFEST }, ok: [200, 404], what: `reading ${ref}` })
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined)
      return undefined
    }
    const bytes = await readLimited(res, 4 * 1024 * 1024)
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`
    const said = res.headers.get("docker-content-digest")
    const asked = ref.startsWith("sha256:") ? ref : undefined
    if ((said && said !== digest) || (asked && asked !== digest)) {
      throw new AlloyError("digest_mismatch", `${this.store.url}: the manifest of ${ref} does not hash to ${asked ?? said}; nothing was stored`, {
        fix: "the registry (or something between it and you) changed the data: check the registry and the network path, then pull again",
      })
    }
    return { bytes, digest }
  }

  async putManifest(tag: string, bytes: Buffer): Promise<{ status: number; text: string }> {
    const res = await this.request({
      method: "PUT",
      url: this.repoPath(`manifests/${tag}`),
      headers: { "content-type": OCI_MANIFEST, "content-length": String(bytes.length) },
      body: bytes,
      ok: [201, 400],
      what: `writing ${tag}`,
    })
    const text = res.status === 201 ? "" : await this.errorText(res)
    if (res.status === 201) await res.body?.cancel().catch(() => undefined)
    return { status: res.status, text }
  }

  /** Every tag of the repository (following `Link: <...>; rel="next"`), bounded; none when it does not exist yet. */
  async listTags(maxTags = 1_000_000): Promise<string[]> {
    const out: string[] = []
    let next: string | undefined = this.repoPath("tags/list?n=1000")
    for (let page = 0; next && page < 10_000 && out.length < maxTags; page++) {
      const res = await this.request({ method: "GET", url: next, ok: [200, 404], what: "listing tags" })
      if (res.status === 404) {
        await res.body?.cancel().catch(() => undefined)
        break
      }
      const bytes = await readLimited(res, 64 * 1024 * 1024)
      let j: { tags?: unknown }
      try {
        j = JSON.parse(bytes.toString("utf8")) as { tags?: unknown }
      } catch {
        throw this.fail("registry_error", "the tag list is not JSON")
      }
      if (Array.isArray(j.tags)) for (const t of j.tags) if (typeof t === "string") out.push(t)
      const link = res.headers.get("link")
      const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null
      if (!m) break
      const u = new URL(m[1]!, this.store.base)
      if (u.origin !== new URL(this.store.base).origin) break
      next = `${u.pathname}${u.search}`
    }
    return out
  }
}

/** Read a response body, failing when it is longer than `limit` bytes (the body is cancelled). */
async function readLimited(res: Response, limit: number): Promise<Buffer> {
  const reader = res.body?.getReader()
  if (!reader) return Buffer.alloc(0)
  const parts: Buffer[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel().catch(() => undefined)
      return Buffer.concat([...parts, Buffer.from(value)]).subarray(0, limit)
    }
    parts.push(Buffer.from(value))
  }
  return Buffer.concat(parts)
}
