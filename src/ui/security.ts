/**
 * Who may talk to the local web app (pure checks, no I/O).
 *
 * The server listens on 127.0.0.1 only, but any web page the user visits can make their browser send
 * requests to 127.0.0.1, and a DNS-rebinding page can even read the answers. So every request must:
 *  - name this server in `Host` (`127.0.0.1:<port>` or `localhost:<port>`): a rebinding page's requests
 *    carry its own host name;
 *  - carry the per-launch secret, as `?token=` (the URL printed at start) or as the HttpOnly,
 *    SameSite=Strict cookie set when that URL is first opened: another site can neither read it nor
 *    make the browser send it;
 *  - when it says where it comes from (`Origin`, `Sec-Fetch-Site`), come from this server's own origin.
 * The secret is compared in constant time.
 */
import { randomBytes, timingSafeEqual } from "node:crypto"

export const TOKEN_RE = /^[A-Za-z0-9_-]{32,128}$/

export function newToken(): string {
  return randomBytes(24).toString("base64url")
}

export function sameToken(given: string | undefined, token: string): boolean {
  if (typeof given !== "string" || given.length !== token.length) return false
  return timingSafeEqual(Buffer.from(given), Buffer.from(token))
}

/** Cookie names are per port: two apps for two projects on one machine keep their own secrets. */
export const cookieName = (port: number) => `alloy_ui_${port}`

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(";")) {
    const eq = part.indexOf("=")
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export function sessionCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`
}

export interface RequestFacts {
  readonly method: string
  readonly host: string | undefined
  readonly origin: string | undefined
  readonly secFetchSite: string | undefined
  readonly cookie: string | undefined
  /** `token` from the query string */
  readonly queryToken: string | undefined
}

export type Verdict = { ok: true; via: "cookie" | "query" } | { ok: false; status: 403 | 421; reason: string }

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`]
}

/** Decide whether a request may be served. */
export function checkRequest(f: RequestFacts, port: number, token: string): Verdict {
  const hosts = allowedHosts(port)
  if (!f.host || !hosts.includes(f.host.toLowerCase())) {
    return { ok: false, status: 421, reason: "this server answers only to 127.0.0.1 and localhost on its own port (Host header refused)" }
  }
  if (f.origin !== undefined && !hosts.some((h) => f.origin === `http://${h}`)) {
    return { ok: false, status: 403, reason: "cross-site request refused (Origin is not this server)" }
  }
  if (f.secFetchSite !== undefined && f.secFetchSite !== "same-origin" && f.secFetchSite !== "none") {
    return { ok: false, status: 403, reason: "cross-site request refused (Sec-Fetch-Site)" }
  }
  if (sameToken(readCookie(f.cookie, cookieName(port)), token)) return { ok: true, via: "cookie" }
  if (sameToken(f.queryToken, token)) return { ok: true, via: "query" }
  return { ok: false, status: 403, reason: "missing or wrong launch secret: open the URL `opencode-alloy ui` printed" }
}
