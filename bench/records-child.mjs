/**
 * One measurement of the evidence readers at one size, in a fresh process (so peak memory is its own):
 * `node bench/records-child.mjs <project-dir>` prints JSON: the record count read and, for each use
 * case (`runs list` read, `status`, `report`, `report --html`, `export` otel and in-toto), the time in
 * microseconds; and the peak resident memory of the process.
 */
import { pathToFileURL } from "node:url"
import path from "node:path"
import { DIST_DIR } from "./lib.mjs"

const dir = process.argv[2]
const load = (p) => import(pathToFileURL(path.join(DIST_DIR, p)).href)
const { readRecords } = await load("store/outbox.js")
const { loadEvidence, summaryOf } = await load("evidence/model.js")
const { renderReportHtml } = await load("evidence/report-html.js")
const { exportOtelJson } = await load("evidence/export-otel.js")
const { exportIntoto } = await load("evidence/export-intoto.js")
const { AlloyContext } = await load("service/context.js")

const us = (t0) => Number(process.hrtime.bigint() - t0) / 1000
const out = {}
let t = process.hrtime.bigint()
const read = readRecords(dir)
out.read_us = us(t)
out.records = read.records.length
out.problems = read.problems.length
const ctx = new AlloyContext(dir)
t = process.hrtime.bigint()
const model = loadEvidence(ctx)
summaryOf(model)
out.status_us = us(t)
t = process.hrtime.bigint()
out.html_bytes = renderReportHtml(model).length
out.html_us = us(t)
t = process.hrtime.bigint()
// the OTLP text as the CLI writes it, a span at a time, counted rather than kept
let otelChars = 0
for (const piece of exportOtelJson(model)) otelChars += piece.length + 1
out.otel_chars = otelChars
JSON.stringify(exportIntoto(model, () => undefined))
out.export_us = us(t)
out.model_records = model.records.length
out.max_rss_mib = Math.round(process.resourceUsage().maxRSS / 1024)
process.stdout.write(JSON.stringify(out))
