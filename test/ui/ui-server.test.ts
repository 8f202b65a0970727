// The web app without a browser: who may talk to it, the event stream's resume by byte offset,
// escaping, and the pure pieces (form <-> schema paths, worst-first order, who acts next, line diff).
// Network only to 127.0.0.1; every wait is bounded by an event count, never by a clock.
import http from "node:http"
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { isolateEnv } from "../helpers/env.js"
import { git, gitInitCommitAll } from "../helpers/git.js"
import { makeProject, writeExampleSources, BRIEF_ID, CYCLE_ID, type TestProject } from "../helpers/project.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"
import { startUi, type UiServer } from "../../src/ui/server.js"
import { checkRequest, cookieName } from "../../src/ui/security.js"
import { compact, fieldOf, formFromPost, formToData } from "../../src/ui/intent-form.js"
import { worstFirst } from "../../src/ui/pages.js"
import { nextActor } from "../../src/ui/next-actor.js"
import { lineDiff } from "../../src/core/line-diff.js"
import type { IntentVerdict } from "../../src/evidence/satisfaction.js"
import { badge } from "../../src/evidence/report-html.js"
import { runCli } from "../helpers/cli.js"
import { Ledger } from "../../src/bridge/ledger.js"
import { runnerRecord } from "../helpers/bridge.js"

const TOKEN = "unit-test-token-0123456789abcdefghijklm"

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

function request(port: number, p: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: p, method: o.method ?? "GET", headers: { host: `127.0.0.1:${port}`, ...o.headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }))
    })
    req.on("error", reject)
    req.end(o.body)
  })
}

/** Read SSE messages until `count` `run` events arrived, then close. */
function readEvents(port: number, headers: Record<string, string>, count: number, from?: number): Promise<Array<{ id: number; data: string }>> {
  return new Promise((resolve, reject) => {
    const out: Array<{ id: number; data: string }> = []
    const req = http.request({ host: "127.0.0.1", port, path: `/events${from !== undefined ? `?from=${from}` : ""}`, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let buf = ""
      res.on("data", (c: Buffer) => {
        buf += c.toString()
        let cut
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const msg = buf.slice(0, cut)
          buf = buf.slice(cut + 2)
          const id = /^id: (\d+)$/m.exec(msg)
          if (id && /^event: run$/m.test(msg))
            out.push({
              id: Number(id[1]),
              data: msg
                .split("\n")
                .filter((l) => l.startsWith("data: "))
                .map((l) => l.slice(6))
                .join("\n"),
            })
          if (out.length >= count) {
            req.destroy()
            return resolve(out)
          }
        }
      })
      res.on("error", () => undefined)
    })
    req.on("error", (e) => (out.length >= count ? undefined : reject(e)))
    req.end()
  })
}

const ev = (kind: string, stage: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ $type: "alloy.event/v1", kind, at: "2026-05-25T10:00:00.000Z", cycle: CYCLE_ID, stage, ...extra }) + "\n"

describe("ui server", () => {
  let p: TestProject
  let s: UiServer
  let cookie: string
  let events: string

  beforeAll(async () => {
    p = makeProject("alloy-ui-unit-")
    writeExampleSources(p.dir)
    buildBrief(p.ctx, BRIEF_ID)
    pinBrief(p.ctx, { cycle: CYCLE_ID, brief_id: BRIEF_ID })
    events = path.join(p.dir, ".alloy", "runs", "events.jsonl")
    mkdirSync(path.dirname(events), { recursive: true })
    s = await startUi({ root: p.dir, port: 0, token: TOKEN, pollMs: 20 })
    cookie = `${cookieName(s.port)}=${TOKEN}`
  })
  afterAll(async () => {
    await s?.close()
    p?.cleanup()
  })

  test("listens on 127.0.0.1 and prints a URL with the secret", () => {
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/?token=${TOKEN}`)
  })

  test("the secret in the URL becomes an HttpOnly SameSite=Strict cookie, and leaves the URL", async () => {
    const r = await request(s.port, `/intents?q=x&token=${TOKEN}`)
    expect(r.status).toBe(303)
    expect(r.headers.location).toBe("/intents?q=x")
    expect(String(r.headers["set-cookie"])).toBe(`${cookieName(s.port)}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`)
  })

  test("no secret, a wrong one, a foreign Host or a foreign Origin: refused, with nothing of the page", async () => {
    for (const r of [
      await request(s.port, "/"),
      await request(s.port, "/", { headers: { cookie: `${cookieName(s.port)}=${TOKEN.replace(/.$/, "x")}` } }),
      await request(s.port, "/", { headers: { cookie, host: `evil.example:${s.port}` } }),
      await request(s.port, "/", { headers: { cookie, host: `127.0.0.1:${s.port + 1}` } }),
      await request(s.port, `/briefs/${BRIEF_ID}/build`, { method: "POST", headers: { cookie, origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" }, body: "" }),
      await request(s.port, `/briefs/${BRIEF_ID}/build`, { method: "POST", headers: { cookie, origin: "null", "content-type": "application/x-www-form-urlencoded" }, body: "" }),
      await request(s.port, "/events", { headers: { cookie, "sec-fetch-site": "cross-site" } }),
    ]) {
      expect([403, 421]).toContain(r.status)
      expect(r.body).toMatch(/^refused: /)
      expect(r.body).not.toContain("Satisfaction")
    }
  })

  test("pages carry a CSP that allows nothing from elsewhere, and a nonce on the one script", async () => {
    const r = await request(s.port, "/", { headers: { cookie } })
    expect(r.status).toBe(200)
    const csp = String(r.headers["content-security-policy"])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("connect-src 'self'")
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]
    expect(r.body.match(/<script/g)!.length).toBe(1)
    expect(r.body).toContain(`<script nonce="${nonce}">`)
    expect(r.body).not.toMatch(/(src|href)="(https?:)?\/\//)
  })

  test("the runs page lists this project's runners with their lease state, and says how many it left out", async () => {
    const ledger = new Ledger(p.dir)
    const runner = (i: number, lease: string) =>
      runnerRecord({ id: `01JZRUNNER${String(i).padStart(16, "0")}`, host: `ci-${i}`, opencode_version: "1.18.33", project_roots: [p.dir], labels: ["os:<linux>"], lease_until: lease })
    ledger.writeRunner(runner(0, "2999-01-01T00:00:00.000Z"))
    ledger.writeRunner(runner(1, "2020-01-01T00:00:00.000Z"))
    let r = await request(s.port, "/runs", { headers: { cookie } })
    expect(r.status).toBe(200)
    expect(r.body).toContain("Runners of this project (2)")
    expect(r.body).toMatch(/data-runner="01JZRUNNER0000000000000000" data-state="alive"/)
    expect(r.body).toMatch(/data-runner="01JZRUNNER0000000000000001" data-state="lost"/)
    expect(r.body).toContain("os:&lt;linux&gt;")
    expect(r.body).not.toContain("data-left-out")
    for (let i = 2; i < 53; i++) ledger.writeRunner(runner(i, "2999-01-01T00:00:00.000Z"))
    r = await request(s.port, "/runs", { headers: { cookie } })
    expect(r.body).toContain("Runners of this project (53)")
    expect(r.body.match(/data-runner="/g)).toHaveLength(50)
    expect(r.body).toContain('data-left-out="3">Showing 50 of 53 runners')
  })

  test("every authored text is escaped", async () => {
    const form = new URLSearchParams({ id: "hostile", title: "<script>alert(1)</script>", goal: '"><img src=x onerror=alert(1)>', status: "draft" })
    const created = await request(s.port, "/intents", {
      method: "POST",
      headers: { cookie, origin: `http://127.0.0.1:${s.port}`, "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    })
    expect(created.status).toBe(303)
    for (const page of ["/intents", "/intents/hostile", "/intents/hostile/edit", "/", "/satisfaction/hostile"]) {
      const r = await request(s.port, page, { headers: { cookie } })
      expect(r.status, page).toBe(200)
      expect(r.body).not.toContain("<script>alert(1)")
      expect(r.body).not.toContain("<img src=x")
      expect(r.body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;")
    }
  })

  test("a rejected form writes nothing and answers 422 with every problem", async () => {
    const before = readdirSync(path.join(p.dir, ".alloy", "intents")).sort()
    const form = new URLSearchParams({
      id: "BAD ID",
      title: "",
      goal: "",
      status: "nope",
      "acceptance_criteria[0].id": "",
      "acceptance_criteria[0].text": "x",
      "acceptance_criteria[0].evidence[0].kind": "check",
      "acceptance_criteria[0].evidence[0].value": "",
    })
    const r = await request(s.port, "/intents", {
      method: "POST",
      headers: { cookie, origin: `http://127.0.0.1:${s.port}`, "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    })
    expect(r.status).toBe(422)
    for (const f of ["id", "title", "goal", "status", "acceptance_criteria[0].evidence[0].value"])
      expect(r.body, f).toMatch(new RegExp(`data-field="${f.replace(/[[\].]/g, "\\$&")}"[^>]*><label[^]*?class="ferr"`))
    expect(readdirSync(path.join(p.dir, ".alloy", "intents")).sort()).toEqual(before)
  })

  test("SSE: ids are byte offsets; Last-Event-ID resumes at the next line, with no gap and no duplicate", async () => {
    const lines = [
      ev("stage_begun", `forge:${CYCLE_ID}`),
      "not json\n",
      ev("heartbeat", `forge:${CYCLE_ID}`),
      ev("stage_ended", `forge:${CYCLE_ID}`),
      ev("stage_begun", `quench:${CYCLE_ID}`, { reason: "<b>x</b>" }),
    ]
    for (const l of lines) appendFileSync(events, l)
    const ends: number[] = []
    let at = 0
    lines.forEach((l) => {
      at += Buffer.byteLength(l)
      if (l.startsWith("{")) ends.push(at)
    })
    const all = await readEvents(s.port, { cookie }, 4, 0)
    expect(all.map((e) => e.id)).toEqual(ends)
    expect(all[3]!.data).toContain("&lt;b&gt;x&lt;/b&gt;")
    expect(all[0]!.data).toContain(`data-event-offset="${ends[0]}"`)
    // a reconnect after the second event gets exactly the third and fourth, even when `from` says otherwise
    const rest = await readEvents(s.port, { cookie, "last-event-id": String(ends[1]) }, 2, 0)
    expect(rest.map((e) => e.id)).toEqual(ends.slice(2))
    // and new lines arrive as they are appended
    const next = readEvents(s.port, { cookie, "last-event-id": String(ends[3]) }, 1)
    appendFileSync(events, ev("stage_ended", `quench:${CYCLE_ID}`))
    expect((await next)[0]!.id).toBe(ends[3]! + Buffer.byteLength(ev("stage_ended", `quench:${CYCLE_ID}`)))
  })

  test("a bundle that does not verify is refused and nothing of it is shown", async () => {
    const r = await request(s.port, `/bundles/${BRIEF_ID}/sha256:${"0".repeat(64)}`, { headers: { cookie } })
    expect(r.status).toBe(409)
    expect(r.body).toContain('data-error-code="object_missing"')
    expect(r.body).not.toContain("data-stage=")
  })
})

describe("ui pure pieces", () => {
  test("checkRequest: loopback hosts on the right port only; the cookie or the query token", () => {
    const base = { method: "GET", origin: undefined, secFetchSite: undefined, cookie: undefined, queryToken: undefined }
    expect(checkRequest({ ...base, host: "127.0.0.1:80", queryToken: TOKEN }, 80, TOKEN)).toEqual({ ok: true, via: "query" })
    expect(checkRequest({ ...base, host: "LOCALHOST:80", cookie: `a=b; ${cookieName(80)}=${TOKEN}` }, 80, TOKEN)).toEqual({ ok: true, via: "cookie" })
    expect(checkRequest({ ...base, host: "127.0.0.1.nip.io:80", queryToken: TOKEN }, 80, TOKEN).ok).toBe(false)
    expect(checkRequest({ ...base, host: undefined, queryToken: TOKEN }, 80, TOKEN).ok).toBe(false)
    expect(checkRequest({ ...base, host: "127.0.0.1:80", cookie: `${cookieName(81)}=${TOKEN}` }, 80, TOKEN).ok).toBe(false)
    expect(checkRequest({ ...base, host: "127.0.0.1:80", origin: "http://127.0.0.1:81", queryToken: TOKEN }, 80, TOKEN).ok).toBe(false)
    expect(checkRequest({ ...base, host: "127.0.0.1:80", secFetchSite: "same-site", queryToken: TOKEN }, 80, TOKEN).ok).toBe(false)
  })

  test("form rows map to schema paths and back, blank rows dropped", () => {
    const f = formFromPost(
      new URLSearchParams([
        ["id", "x"],
        ["acceptance_criteria[0].id", ""],
        ["acceptance_criteria[0].text", ""],
        ["acceptance_criteria[0].evidence[0].kind", ""],
        ["acceptance_criteria[1].id", "AC-4"],
        ["acceptance_criteria[1].text", "kept"],
        ["acceptance_criteria[1].evidence[0].kind", ""],
        ["acceptance_criteria[1].evidence[1].kind", "check"],
        ["acceptance_criteria[1].evidence[1].value", "npm test"],
        ["acceptance_criteria[2].id", ""],
        ["acceptance_criteria[2].text", "new"],
        ["acceptance_criteria[2].evidence[0].kind", "human"],
      ]),
    )
    expect(f.criteria.map((c) => c.text)).toEqual(["kept", "new"])
    const d = formToData(f)
    expect(d.data["acceptance_criteria"]).toEqual([
      { id: "AC-4", text: "kept", evidence: [{ kind: "check", command: "npm test" }] },
      { id: "AC-5", text: "new", evidence: [{ kind: "human" }] },
    ])
    expect(fieldOf("acceptance_criteria[1].evidence[0].who", d.rowOf, d.evRowOf)).toBe("acceptance_criteria[1].evidence[0].value")
    expect(fieldOf("set.title", d.rowOf, d.evRowOf)).toBe("title")
    expect(fieldOf("(body)", d.rowOf, d.evRowOf)).toBe("body")
    expect(fieldOf("metadata.x", d.rowOf, d.evRowOf)).toBeUndefined()
    expect(compact(f)).toEqual(f)
  })

  test("worst first, with a verdict string the app does not know placed right below failing", () => {
    const i = (id: string, verdict: string) => ({ id, verdict, criteria: [] }) as unknown as IntentVerdict
    expect(worstFirst([i("a", "satisfied"), i("b", "waived"), i("c", "contested"), i("d", "failing"), i("e", "unproven"), i("f", "stale")]).map((x) => x.verdict)).toEqual([
      "failing",
      "contested",
      "stale",
      "unproven",
      "waived",
      "satisfied",
    ])
    expect(badge("contested")).toContain('data-verdict="contested"')
    expect(badge("contested")).toContain("Contested")
    expect(badge('<x">')).not.toContain('<x">')
  })

  test("who acts next", () => {
    const g = (kind: string, verdict: string) => ({ id: `x#AC-1/${kind}`, kind, verdict, reason: "", decisive: [] }) as never
    expect(nextActor({ ref: "x#AC-1", verdict: "unproven", gates: [g("human", "unproven")] }, { humanWho: "the product owner", cycles: ["c"] }).who).toBe("the product owner")
    expect(nextActor({ ref: "x#AC-1", verdict: "failing", gates: [g("law", "failing")] }, { cycles: ["c"] }).what).toContain("run c again")
    expect(nextActor({ ref: "x#AC-1", verdict: "satisfied", gates: [g("law", "satisfied")] }, { cycles: [] }).done).toBe(true)
    expect(nextActor({ ref: "x#AC-1", verdict: "contested", gates: [] }, { cycles: [] }).who).toBe("a reviewer")
    expect(nextActor({ ref: "x#AC-1", verdict: "unproven", gates: [] }, { cycles: [] }).who).toBe("the intent's author")
  })

  test("line diff keeps common lines and marks the rest", () => {
    expect(lineDiff("a\nb\nc", "a\nx\nc").ops).toEqual([
      { op: "same", line: "a" },
      { op: "del", line: "b" },
      { op: "add", line: "x" },
      { op: "same", line: "c" },
    ])
    const big = lineDiff("a\n".repeat(3000), "b\n".repeat(3000), 1000)
    expect(big.whole).toBe(true)
  })
})

describe("ui on the evidence fixture", () => {
  test("the trend across builds agrees with the verdict for the current build, and a stale criterion shows its older build's verdict", async () => {
    const { makeEvidenceProject, EXPECTED } = await import("../integration/import-fixtures.js")
    const { importAll } = await import("../../src/evidence/import.js")
    const { loadEvidence } = await import("../../src/evidence/model.js")
    const { trendOf } = await import("../../src/ui/pages.js")
    const proj = await makeEvidenceProject()
    try {
      importAll(proj.ctx)
      const model = loadEvidence(proj.ctx)
      const current = new Map(model.briefs.map((b) => [b.id, b.current]))
      let checked = 0
      for (const i of model.intents)
        for (const c of i.criteria) {
          expect(c.verdict).toBe(EXPECTED[c.ref as keyof typeof EXPECTED])
          const t = trendOf(c)
          const cur = t.find((r) => r.digest !== undefined && i.briefs.some((b) => current.get(b) === r.digest))
          if (c.evidence.some((o) => o.current)) {
            expect(cur?.verdict, c.ref).toBe(c.verdict)
            checked++
          }
          if (c.verdict === "stale") {
            expect(cur).toBeUndefined()
            expect(t.length).toBeGreaterThan(0)
            for (const r of t) expect(r.verdict).not.toBe("stale")
          }
        }
      expect(checked).toBeGreaterThanOrEqual(4)
    } finally {
      proj.cleanup()
    }
  })

  test("the insights page shows every finding, follow-up and lifecycle proposal of the learning loop, escaped", async () => {
    const { makeEvidenceProject } = await import("../integration/import-fixtures.js")
    const { importAll } = await import("../../src/evidence/import.js")
    const { loadInsights } = await import("../../src/evidence/learning.js")
    const proj = await makeEvidenceProject()
    const srv = await startUi({ root: proj.dir, port: 0, token: TOKEN })
    try {
      importAll(proj.ctx)
      const ins = loadInsights(proj.ctx)
      const r = await request(srv.port, "/insights", { headers: { cookie: `${cookieName(srv.port)}=${TOKEN}` } })
      expect(r.status).toBe(200)
      expect((r.body.match(/data-finding="/g) ?? []).length).toBe(ins.findings.length)
      expect((r.body.match(/data-followup="/g) ?? []).length).toBe(ins.followups.length)
      expect((r.body.match(/data-lifecycle="/g) ?? []).length).toBe(ins.lifecycle.length)
      expect(ins.findings.length + ins.followups.length).toBeGreaterThan(0)
      expect(r.body).not.toMatch(/<script(?! nonce)/)
    } finally {
      await srv.close()
      proj.cleanup()
    }
  })

  test("`ui --port` takes a number", async () => {
    const r = await runCli(process.cwd(), "ui", "--port", "http")
    expect(r.code).toBe(2)
    expect(r.err).toContain("--port takes a number")
  })
})

describe("trend across builds (pure)", () => {
  test("each build is judged by its own observations", async () => {
    const { trendOf } = await import("../../src/ui/pages.js")
    const obs = (id: string, digest: string, outcome: "pass" | "fail", at: string, session: string) => ({
      id,
      criterion: "x#AC-1",
      gate_kind: "law" as const,
      kind: "appraisal" as const,
      outcome,
      summary: id,
      subject: "item-1",
      at,
      provenance: { run_id: id, record: id, stage: "appraise", cycle: "c", session, source: "hook", brief_id: "b", digest },
      current: digest === "sha256:" + "b".repeat(64),
      older_bundle: digest !== "sha256:" + "b".repeat(64),
    })
    const A = "sha256:" + "a".repeat(64)
    const B = "sha256:" + "b".repeat(64)
    const c = {
      ref: "x#AC-1",
      id: "AC-1",
      text: "t",
      verdict: "satisfied" as const,
      reason: "",
      gates: [{ id: "x#AC-1/law", kind: "law" as const, verdict: "satisfied" as const, reason: "", decisive: [] }],
      evidence: [obs("r2", B, "pass", "2026-05-02T00:00:00Z", "c@2"), obs("r1", A, "fail", "2026-05-01T00:00:00Z", "c@1")],
    }
    expect(trendOf(c).map((r) => [r.digest, r.verdict, r.pass, r.fail])).toEqual([
      [A, "failing", 0, 1],
      [B, "satisfied", 1, 0],
    ])
  })
})

describe("ui sign-off: the signer is git's identity", () => {
  let p: TestProject
  let s: UiServer
  let cookie: string
  const AC4 = `${BRIEF_ID}#AC-4`
  // the server reads git's identity from the repository's own config only
  isolateEnv({ GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" })
  beforeAll(async () => {
    p = makeProject("alloy-ui-signoff-")
    writeExampleSources(p.dir)
    const intent = path.join(p.dir, ".alloy", "intents", `${BRIEF_ID}.md`)
    writeFileSync(intent, readFileSync(intent, "utf8").replace("who: the product owner", 'who: "Pat Owner <pat@example.com>"'))
    buildBrief(p.ctx, BRIEF_ID)
    pinBrief(p.ctx, { cycle: CYCLE_ID, brief_id: BRIEF_ID })
    gitInitCommitAll(p.dir)
    git(p.dir, ["config", "user.name", "Mallory"])
    s = await startUi({ root: p.dir, port: 0, token: TOKEN, pollMs: 20 })
    cookie = `${cookieName(s.port)}=${TOKEN}`
  })
  afterAll(async () => {
    await s?.close()
    p?.cleanup()
  })
  const post = (body: Record<string, string>) =>
    request(s.port, "/signoff", {
      method: "POST",
      headers: { cookie, origin: `http://127.0.0.1:${s.port}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(body).toString(),
    })

  test("no git identity: the form says so and the post is refused with the fix; nothing written", async () => {
    const page = await request(s.port, `/satisfaction/${BRIEF_ID}/AC-4`, { headers: { cookie } })
    expect(page.body).toContain('data-signer=""')
    expect(page.body).toContain("user.email is not set")
    const r = await post({ ref: AC4, decision: "approve" })
    expect(r.body).toContain('data-error-code="no_identity"')
    expect(existsSync(path.join(p.dir, ".alloy", "evidence"))).toBe(false)
  })

  test("the form shows who will sign and the who: mismatch; the sign-off is committed but does not satisfy", async () => {
    git(p.dir, ["config", "user.email", "mallory@example.com"])
    const page = await request(s.port, `/satisfaction/${BRIEF_ID}/AC-4`, { headers: { cookie } })
    expect(page.body).toContain('data-signer="mallory@example.com"')
    expect(page.body).toContain('data-who="mismatch"')
    const r = await post({ ref: AC4, decision: "approve", note: "looks fine" })
    expect(r.status).toBe(303)
    expect(String(r.headers.location)).toContain("done=signed")
    expect(git(p.dir, ["log", "-1", "--format=%an <%ae> %s"]).trim()).toBe(`Mallory <mallory@example.com> alloy: approve ${AC4}`)
    const after = await request(s.port, `/satisfaction/${BRIEF_ID}/AC-4`, { headers: { cookie } })
    expect(after.body).toMatch(/class="ihead"[\s\S]*?data-verdict="unproven"/)
    expect(after.body).toContain('data-excluded="true"')
  })
})
