/**
 * Trace upload to an OTLP/HTTP receiver on 127.0.0.1 that decodes what arrives with the official OTLP
 * definitions (the protobuf root shipped in @opentelemetry/otlp-transformer), for both encodings.
 */
import http from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, test } from "vitest"
import { buildEvidenceModel } from "../../../src/evidence/model.js"
import { exportOtel } from "../../../src/evidence/export-otel.js"
import type { Bundle } from "../../../src/core/bundle.js"
import { hexIdsToBytes, otlpTraceRequestType, uploadConfig, uploadTraces } from "../../../src/bridge/otlp-upload.js"
import { exampleBundle, fbItem, feedback, record } from "../../helpers/evidence.js"

interface Received {
  path: string
  contentType: string
  headers: http.IncomingHttpHeaders
  decoded: Record<string, any>
}

const servers: http.Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(() => r(undefined)))
  }
})

/** A receiver that fails the first `failFirst` posts with 503, then decodes and keeps every request. */
async function receiver(failFirst = 0): Promise<{ url: string; got: Received[]; posts: () => number }> {
  const T = otlpTraceRequestType()
  const got: Received[] = []
  let posts = 0
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      posts++
      if (posts <= failFirst) {
        res.writeHead(503, { "retry-after": "0" })
        res.end("busy")
        return
      }
      const body = Buffer.concat(chunks)
      const ct = String(req.headers["content-type"] ?? "")
      // both encodings through the same official message type
      const msg = ct === "application/x-protobuf" ? T.decode(body) : T.fromObject(hexIdsToBytes(JSON.parse(body.toString("utf8"))))
      const decoded = T.toObject(msg, { longs: String, bytes: String, defaults: false })
      got.push({ path: req.url ?? "", contentType: ct, headers: req.headers, decoded })
      res.writeHead(200, { "content-type": "application/json" })
      res.end("{}")
    })
  })
  servers.push(srv)
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()))
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, got, posts: () => posts }
}

const cur = exampleBundle()
const session = "draft-release-note@2026-05-27T10:00:00.000Z"
const request = exportOtel(
  buildEvidenceModel({
    project: "acme",
    now: "2026-05-28T08:00:00.000Z",
    bundles: new Map<string, Bundle>([[cur.digest, cur.bundle]]),
    current: new Map([["release-note-voice", cur.digest]]),
    validators: [],
    records: [
      record({
        digest: cur.digest,
        session,
        stage: "forge:draft-release-note",
        started_at: "2026-05-27T10:00:00.000Z",
        at: "2026-05-27T10:05:00.000Z",
        feedback: feedback([fbItem("I1", "law:alloy--release-note-voice--ac-2", [["resolved", "2026-05-27T10:04:00.000Z"]])]),
      }),
    ],
  }),
)

const b64hex = (s: string) => Buffer.from(s, "base64").toString("hex")
const attr = (span: Record<string, any>, key: string) => span["attributes"]?.find((a: { key: string }) => a.key === key)?.value

describe.each(["http/protobuf", "http/json"] as const)("upload over %s", (protocol) => {
  test("the receiver decodes the spans, their durations and alloy.* attributes", async () => {
    const rx = await receiver()
    const cfg = uploadConfig({ endpoint: rx.url, protocol }, { OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=s%3Dcret,x-team=alloy" })
    const r = await uploadTraces(request, cfg)
    expect(r).toMatchObject({ status: 200, attempts: 1, protocol })
    expect(rx.got).toHaveLength(1)
    const g = rx.got[0]!
    expect(g.path).toBe("/v1/traces")
    expect(g.contentType).toBe(protocol === "http/json" ? "application/json" : "application/x-protobuf")
    expect(g.headers["x-api-key"]).toBe("s=cret")
    const spans: Array<Record<string, any>> = g.decoded.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans))
    const sent: Array<Record<string, any>> = (request as any).resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans))
    expect(spans.length).toBe(sent.length)
    expect(r.spans).toBe(sent.length)
    const stage = spans.find((s) => attr(s, "gen_ai.operation.name")?.stringValue === "invoke_agent")!
    expect(stage).toBeDefined()
    // five minutes, to the nanosecond
    expect(BigInt(stage.endTimeUnixNano) - BigInt(stage.startTimeUnixNano)).toBe(300_000_000_000n)
    expect(attr(stage, "alloy.bundle.digest")?.stringValue).toBe(cur.digest)
    const ids = new Set(sent.map((s) => s["spanId"]))
    expect(ids.has(b64hex(stage.spanId))).toBe(true)
    expect(b64hex(stage.traceId)).toMatch(/^[0-9a-f]{32}$/)
  })
})

test("a busy receiver (503, Retry-After) is retried; a 400 is not", async () => {
  const rx = await receiver(2)
  const slept: number[] = []
  const r = await uploadTraces(request, uploadConfig({ endpoint: rx.url, protocol: "http/protobuf" }, {}), { sleep: async (ms) => void slept.push(ms) })
  expect(r.attempts).toBe(3)
  expect(rx.got).toHaveLength(1)
  expect(slept).toEqual([0, 0])

  const bad = http.createServer((_req, res) => {
    res.writeHead(400)
    res.end("bad")
  })
  servers.push(bad)
  await new Promise<void>((res) => bad.listen(0, "127.0.0.1", () => res()))
  const url = `http://127.0.0.1:${(bad.address() as AddressInfo).port}`
  await expect(uploadTraces(request, uploadConfig({ endpoint: url, protocol: "http/json" }, {}), { sleep: async () => undefined })).rejects.toMatchObject({ code: "bridge_error" })
})

test("an unreachable receiver is retried with growing back-off, then fails with a fix", async () => {
  const slept: number[] = []
  const cfg = uploadConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9/", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })
  expect(cfg.url).toBe("http://127.0.0.1:9/v1/traces")
  await expect(uploadTraces(request, cfg, { maxAttempts: 4, baseDelayMs: 100, sleep: async (ms) => void slept.push(ms) })).rejects.toMatchObject({ code: "bridge_error" })
  expect(slept).toHaveLength(3)
  expect(slept[2]!).toBeGreaterThan(slept[0]!)
})

test("endpoint and protocol from the standard variables", () => {
  expect(uploadConfig({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://h:4318/custom" })).toMatchObject({ url: "http://h:4318/custom", protocol: "http/protobuf" })
  expect(uploadConfig({ endpoint: "http://h:6006/v1/traces" }, {}).url).toBe("http://h:6006/v1/traces")
  expect(() => uploadConfig({}, {})).toThrow(expect.objectContaining({ code: "usage" }))
  expect(() => uploadConfig({ endpoint: "h:1", protocol: "grpc" }, {})).toThrow(expect.objectContaining({ code: "usage" }))
})

test("the CLI: export --format otel --endpoint uploads; with no endpoint anywhere it is a usage error", async () => {
  const { runCli } = await import("../../helpers/cli.js")
  const { makePinnedProject } = await import("../../helpers/project.js")
  const p = await makePinnedProject()
  try {
    const rx = await receiver()
    const r = await runCli(p.dir, "export", "--format", "otel", "--endpoint", rx.url, "--protocol", "http/json", "--json")
    expect(r.code, r.err + r.out).toBe(0)
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, status: 200, protocol: "http/json" })
    expect(rx.got).toHaveLength(1)
    const plain = await runCli(p.dir, "export", "--format", "otel")
    expect(plain.code).toBe(0)
    expect(JSON.parse(plain.out)).toHaveProperty("resourceSpans")
    const none = await runCli(p.dir, "export", "--format", "otel", "--protocol", "http/json")
    expect(none.code).toBe(2)
  } finally {
    p.cleanup()
  }
})
