/** import, runs list|watch, evidence (+ signoff), report, export: what the evidence commands do. */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs"
import path from "node:path"
import { AlloyContext } from "../../service/context.js"
import { AlloyError, toAlloyError } from "../../core/errors.js"
import { sha256Hex } from "../../core/digest.js"
import { writeFileAtomic, type FileData } from "../../store/atomic.js"
import { importAll, type ImportSource, type ImportReport } from "../../evidence/import.js"
import { MAX_RECORD_BYTES } from "../../store/outbox.js"
import { readAllRecords } from "../../service/pulled.js"
import { eventsFile, watchEvents } from "../../evidence/events.js"
import { loadEvidence, reportSummary, summaryOf } from "../../evidence/model.js"
import { VERDICT_ORDER } from "../../evidence/satisfaction.js"
import { describePulled } from "../../evidence/observations.js"
import { listPulledBridge, pulledBridgeLines } from "../../bridge/pulled.js"
import { reportHtmlChunks } from "../../evidence/report-html.js"
import { loadInsights } from "../../evidence/learning.js"
import { withSharedBundles } from "../../core/verify.js"
import { bridgeUsage } from "../../bridge/usage.js"
import { exportOtelJson } from "../../evidence/export-otel.js"
import { exportIntoto } from "../../evidence/export-intoto.js"
import { recordSignoff } from "../../evidence/signoff.js"
import { describeSigner } from "../../core/signoff.js"
import { EXIT_FAIL, EXIT_OK, outJsonStreamed, unknownNameError, usageError, type Io } from "../io.js"
import { startProgress } from "../progress.js"
import { shown } from "../args.js"
import { unknownNameFix } from "../../core/nearest.js"
import { str, strs, type OptionValues } from "./types.js"
import { assertKnownIntent } from "./known-names.js"
import { isTerminal } from "../stdio.js"

const shortDigest = (d: string | undefined) => (d ? d.replace(/^sha256:/, "").slice(0, 12) : "-")

function printImport(io: Io, r: ImportReport): number {
  if (io.json) {
    io.out(JSON.stringify(r, null, 2))
    return r.ok ? EXIT_OK : EXIT_FAIL
  }
  if (!r.sources.length) {
    io.out("Nothing to import: no work/* or archive/* branch, no .snapshots/ folder, no WORK files in the work tree.")
    io.out("Pass a source explicitly: `opencode-alloy import snapshot <dir>` or `import branch <name>`.")
    return EXIT_OK
  }
  for (const s of r.sources) {
    if (s.error) {
      io.out(`FAIL  ${s.kind} ${s.ref} [${s.error.code}]: ${s.error.message}`)
      if (s.error.fix) io.out(`      fix: ${s.error.fix}`)
      continue
    }
    io.out(
      `ok    ${s.kind} ${s.ref}: ${s.records} record${s.records === 1 ? "" : "s"} (${s.created} new, ${s.existing} already imported)${s.sessions ? `, ${s.sessions} session${s.sessions === 1 ? "" : "s"}` : ""}`,
    )
    for (const w of s.warnings) io.out(`      ! ${w}`)
  }
  io.out(
    `Imported ${r.created} new record${r.created === 1 ? "" : "s"}${r.existing ? ` (${r.existing} were already there)` : ""}.${r.created ? " See them with `opencode-alloy runs list`; verdicts with `opencode-alloy report`." : ""}`,
  )
  return r.ok ? EXIT_OK : EXIT_FAIL
}

function looksLikeOutbox(dir: string): boolean {
  return existsSync(path.join(dir, "records")) || path.basename(dir) === "records"
}

/** `import`, `import snapshot <dir>...`, `import branch <name>...`, `import worktree`, `import outbox <dir>...`, `import --from <x>`. */
export function cmdImport(io: Io, rest: string[], v: OptionValues): number {
  const ctx = new AlloyContext(io.cwd)
  const sources: ImportSource[] = []
  const abs = (p: string) => path.resolve(io.cwd, p)
  for (const s of strs(v["snapshot"])) sources.push({ kind: "snapshot", ref: abs(s) })
  for (const b of strs(v["branch"])) sources.push({ kind: "branch", ref: b })
  if (v["outbox"] === true) sources.push({ kind: "outbox", ref: ctx.store.runsDir })
  for (const o of typeof v["outbox"] === "string" ? [v["outbox"]] : []) sources.push({ kind: "outbox", ref: abs(o) })
  const from = str(v["from"])
  if (from !== undefined) {
    const p = abs(from)
    if (existsSync(p) && statSync(p).isDirectory()) sources.push({ kind: looksLikeOutbox(p) ? "outbox" : "snapshot", ref: p })
    else sources.push({ kind: "branch", ref: from })
  }
  if (rest.length) {
    const [kind, ...args] = rest
    if (kind === "snapshot" || kind === "outbox") {
      if (!args.length) throw usageError(`usage: opencode-alloy import ${kind} <dir>...`)
      for (const a of args) sources.push({ kind, ref: abs(a) })
    } else if (kind === "branch") {
      if (!args.length) throw usageError("usage: opencode-alloy import branch <name>...")
      for (const a of args) sources.push({ kind: "branch", ref: a })
    } else if (kind === "worktree") {
      if (args.length) throw usageError("usage: opencode-alloy import worktree")
      sources.push({ kind: "worktree", ref: ctx.root })
    } else throw usageError(`unknown import source "${kind}"`, "use snapshot <dir>, branch <name>, worktree or outbox <dir> (or nothing, to import everything found)")
  }
  const progress = startProgress("importing", 0, { json: io.json })
  let report
  try {
    report = importAll(ctx, sources.length ? sources : undefined, (done, total, ref) => progress.update(done, ref, total))
  } finally {
    progress.end()
  }
  return printImport(io, report)
}

export function cmdRunsList(io: Io): number {
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  const { records, problems } = readAllRecords(ctx.root, (f) => ctx.store.readBytes(f, MAX_RECORD_BYTES))
  // bridge requests and runners pulled from team stores, with their origin (this project's own: `runs requests`)
  const pulled = listPulledBridge(ctx.root)
  if (io.json) {
    io.out(JSON.stringify({ ok: true, records, problems, pulled }, null, 2))
    return EXIT_OK
  }
  if (!records.length) io.out("No run records yet. They appear as Foundry stages end (with the plugin loaded) or with `opencode-alloy import`.")
  const current = new Map<string, string | undefined>()
  const cur = (b: string) => {
    if (!current.has(b)) {
      try {
        current.set(b, ctx.store.readRef(b))
      } catch {
        current.set(b, undefined)
      }
    }
    return current.get(b)
  }
  for (const r of records) {
    const open = (r.feedback?.by_state?.["open"] ?? 0) + (r.feedback?.by_state?.["actioned"] ?? 0) + (r.feedback?.by_state?.["rejected"] ?? 0)
    const older = r.pin && cur(r.pin.brief_id) !== r.pin.digest ? " (older bundle)" : ""
    const from = `${r.origin ? `${r.source}:${r.origin.kind}` : r.source}${r.pulled ? ` from ${describePulled(r.pulled)}` : ""}`
    io.out(
      `${r.ended_at.slice(0, 19).replace("T", " ")}  ${r.run_id}  ${r.stage.padEnd(32)} ${r.pin ? `${r.pin.brief_id}@${shortDigest(r.pin.digest)}${older}` : "unpinned"}  ${from}${r.commit ? `  ${r.commit.slice(0, 7)}` : ""}  ${r.outcome === "error" ? "ERROR" : open ? `${open} open` : "ok"}`,
    )
  }
  const lines = pulledBridgeLines(pulled)
  if (lines.length) {
    io.out(
      `Bridge requests and runners from team stores (${pulled.requests.length} request${pulled.requests.length === 1 ? "" : "s"}, ${pulled.runners.length} runner${pulled.runners.length === 1 ? "" : "s"}):`,
    )
    for (const l of lines) io.out(`  ${l}`)
  }
  for (const p of problems) io.err(`! ${p.file}: ${p.error}`)
  return EXIT_OK
}

export async function cmdRunsWatch(io: Io, v: OptionValues): Promise<number> {
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  const follow = v["follow"] === true
  const envIdle = Number(process.env["ALLOY_WATCH_IDLE_SECONDS"])
  const idleMs = Number.isFinite(envIdle) && envIdle > 0 ? envIdle * 1000 : isTerminal(1) ? 24 * 3600_000 : 10 * 60_000
  const ac = new AbortController()
  const onSigint = () => ac.abort()
  if (follow) process.once("SIGINT", onSigint)
  try {
    const file = eventsFile(ctx)
    if (!follow && !existsSync(file) && !io.json) io.out(`No events yet (${ctx.store.rel(file)} does not exist). Events are written by the plugin's hooks while Foundry stages run.`)
    const r = await watchEvents({ file, follow, out: (s) => io.out(s), json: io.json, idleMs, signal: ac.signal })
    if (follow && r.stopped === "idle" && !io.json) io.out(`(no new event for ${Math.round(idleMs / 1000)}s; stopped following)`)
  } finally {
    process.removeListener("SIGINT", onSigint)
  }
  return EXIT_OK
}

export function cmdSignoff(io: Io, rest: string[], v: OptionValues): number {
  const [ref, ...words] = rest
  if (!ref) throw usageError("usage: opencode-alloy evidence signoff <intent>#AC-n [note] [--reject|--waive --reason <why>] [--sign]")
  if (str(v["by"]) !== undefined) {
    throw usageError(
      "the signer is your git identity, not a typed name: --by is no longer accepted",
      `check it with \`git config user.name\` and \`git config user.email\`, then: opencode-alloy evidence signoff ${ref}`,
    )
  }
  if (v["reject"] === true && v["waive"] === true) throw usageError("--reject and --waive exclude each other", `opencode-alloy evidence signoff ${ref} --waive --reason "<why>"`)
  const decision = v["reject"] === true ? "reject" : v["waive"] === true ? "waive" : "approve"
  const reason = str(v["reason"]) ?? str(v["note"]) ?? (words.join(" ").trim() || undefined)
  const ctx = new AlloyContext(io.cwd)
  let r
  try {
    r = recordSignoff(ctx, { ref, decision, ...(reason ? { reason } : {}), sign: v["sign"] === true })
  } catch (e) {
    throw unknownIntentIn(ctx, ref, e)
  }
  if (io.json) {
    io.out(
      JSON.stringify(
        {
          ok: true,
          created: r.created,
          signer: r.signer,
          ...(r.commit ? { commit: r.commit } : {}),
          signoffs: r.signoffs.map((x) => ({ file: x.file, brief_id: x.signoff.bundle.brief_id, digest: x.signoff.bundle.digest, decision: x.signoff.decision, who: x.who })),
        },
        null,
        2,
      ),
    )
    return EXIT_OK
  }
  const verb = decision === "approve" ? "signed off" : decision === "reject" ? "rejected" : "waived"
  for (const x of r.signoffs) {
    io.out(`${r.created ? "Recorded" : "Already recorded"}: ${describeSigner(r.signer)} ${verb} ${ref} under ${x.signoff.bundle.brief_id}@${shortDigest(x.signoff.bundle.digest)} (${x.file}).`)
    if (x.who.kind === "mismatch") io.out(`  ! who: names ${x.who.expected.join(", ")}, not ${r.signer.email}: this sign-off is recorded but does not satisfy the gate`)
    else if (x.who.kind === "role") io.out(`  who: ${x.who.who} (a role; git's identity cannot check it)`)
  }
  if (r.commit)
    io.out(`Committed ${r.commit.sha.slice(0, 12)} on the current branch; signature: ${r.commit.signature}${r.commit.signed_by ? ` (${r.commit.signed_by})` : ""}. Push it so CI and your team see it.`)
  return EXIT_OK
}

/** A sign-off of a criterion whose intent does not exist is a usage error naming the intent, not a pointer at a file that is not there. */
function unknownIntentIn(ctx: AlloyContext, ref: string, e: unknown): unknown {
  const intent = /^([^#]+)#/.exec(ref)?.[1]
  if (!(e instanceof AlloyError) || e.code !== "usage" || intent === undefined || !ctx.store.exists()) return e
  const known = ctx.store.listIntentIds()
  if (known.includes(intent)) return e
  return unknownNameError(
    "intent_not_found",
    `unknown intent ${shown(intent)}: there is no .alloy/intents/${intent}.md and no built brief has a human gate for ${shown(ref)}`,
    unknownNameFix(intent, known, { kind: "intent", suffix: ref.slice(intent.length) }),
  )
}

export function cmdEvidence(io: Io, _rest: string[], v: OptionValues): number {
  const ctx = new AlloyContext(io.cwd)
  const model = loadEvidence(ctx)
  const only = strs(v["intent"])
  const built = model.intents.map((i) => i.id)
  for (const id of only) assertKnownIntent(ctx, id, built)
  const intents = only.length ? model.intents.filter((i) => only.includes(i.id)) : model.intents
  if (io.json) {
    io.out(
      JSON.stringify(
        {
          ok: true,
          criteria: intents.flatMap((i) => i.criteria.map((c) => ({ ref: c.ref, verdict: c.verdict, reason: c.reason, gates: c.gates, observations: c.evidence }))),
          problems: model.problems,
        },
        null,
        2,
      ),
    )
    return EXIT_OK
  }
  const icon = { pass: "✓", fail: "✗", waived: "~" } as const
  for (const i of intents) {
    io.out(`${i.id} — ${i.verdict.toUpperCase()}: ${i.reason}`)
    for (const c of i.criteria) {
      io.out(`  ${c.ref}  ${c.verdict}  ${c.text}`)
      if (!c.evidence.length) io.out(`      (no observations)`)
      for (const o of c.evidence) {
        const p = o.provenance
        io.out(
          `      ${icon[o.outcome]} ${o.kind.padEnd(11)} ${o.summary}${o.reason && o.outcome !== "pass" && !o.summary.includes(o.reason) ? ` — ${o.reason}` : ""}\n` +
            (o.excluded ? `        not counted: ${o.excluded}\n` : "") +
            `        ${p.source === "ledger" ? `ledger ${p.record}${p.store ? ` from ${p.store}` : ""}` : `run ${p.run_id}`} · ${p.stage} · ${p.digest ? shortDigest(p.digest) : "no pin"}${o.older_bundle ? " (older bundle)" : ""}${p.commit ? ` · commit ${p.commit.slice(0, 7)}` : ""} · ${o.at}`,
        )
      }
    }
  }
  for (const p of model.problems) io.err(`! ${p}`)
  return EXIT_OK
}

export function cmdReport(io: Io, rest: string[], v: OptionValues): number {
  // the HTML report's insights read the current builds again through the pin scan: each parsed once
  return withSharedBundles(() => report(io, rest, v))
}

function report(io: Io, rest: string[], v: OptionValues): number {
  if (rest.length) throw usageError("usage: opencode-alloy report [--json [--full]] [--html <file>]")
  const full = v["full"] === true
  if (full && (!io.json || v["html"] !== undefined))
    throw usageError("--full goes with --json: `opencode-alloy report --json --full`", "without --json the report prints the verdicts; the HTML report lists every run in its timeline")
  const ctx = new AlloyContext(io.cwd)
  const progress = startProgress("reading records", 0, { json: io.json })
  let read = 0
  let model
  try {
    model = loadEvidence(ctx, new Date(), () => progress.update(++read))
  } finally {
    progress.end()
  }
  const html = str(v["html"])
  if (html !== undefined) {
    if (!html) throw usageError("usage: opencode-alloy report --html <file>")
    // the learning loop's findings are a section of the report, from the same load of the evidence;
    // when they cannot be computed the report still renders, and its Insights section says why
    let insights: Parameters<typeof reportHtmlChunks>[1]
    try {
      insights = loadInsights(ctx, model, undefined, { usage: bridgeUsage(ctx.root) })
    } catch (e) {
      insights = { findings: [], followups: [], lifecycle: [], thin: [], problems: [`insights unavailable: ${toAlloyError(e).describe()}`] }
    }
    // written as it is rendered: the page over 10,000 intents is about 90 MB
    writeOutput(io.cwd, html, reportHtmlChunks(model, insights))
    if (io.json) io.out(JSON.stringify({ ok: true, file: html, counts: model.counts }, null, 2))
    else {
      const total = Object.values(model.counts).reduce((a, b) => a + b, 0)
      const parts = VERDICT_ORDER.filter((k) => model.counts[k]).map((k) => `${model.counts[k]} ${k}`)
      io.out(`Wrote ${html}: ${model.intents.length} intent(s), ${total} criteria — ${parts.join(", ") || "none"}.`)
    }
    return EXIT_OK
  }
  if (io.json) {
    // the summary by default: its size follows the intents, not the records; everything only when asked, streamed
    if (full) outJsonStreamed(io, { ok: true, detail: "full", ...model })
    else io.out(JSON.stringify({ ok: true, ...reportSummary(model) }, null, 2))
    return EXIT_OK
  }
  for (const l of summaryOf(model).lines) io.out(l)
  return EXIT_OK
}

/** Each piece as a line of a file. */
function* withNewlines(pieces: Iterable<string>): Generator<string> {
  for (const p of pieces) yield `${p}\n`
}

/** Write an output file the user named, creating its folder. */
function writeOutput(cwd: string, file: string, text: FileData): void {
  const abs = path.resolve(cwd, file)
  try {
    mkdirSync(path.dirname(abs), { recursive: true })
  } catch (e) {
    throw new AlloyError("io_error", `could not create the folder for ${file}: ${(e as Error).message}`)
  }
  writeFileAtomic(abs, text)
}

/** sha256 of a work-tree file named by a repo-relative path (never outside the project). */
function hashWorkFile(root: string, rel: string): string | undefined {
  const p = path.resolve(root, rel)
  if (path.isAbsolute(rel) || !(p + path.sep).startsWith(root + path.sep) || p === root) return undefined
  try {
    const st = statSync(p)
    if (!st.isFile() || st.size > 256 * 1024 * 1024) return undefined
    return sha256Hex(readFileSync(p))
  } catch {
    return undefined
  }
}

export function cmdExport(io: Io, rest: string[], v: OptionValues): number {
  if (rest.length) throw usageError("usage: opencode-alloy export --format otel|intoto [--out <file>]")
  const format = str(v["format"])
  if (format !== "otel" && format !== "intoto") throw usageError("export needs --format otel or --format intoto", "e.g. `opencode-alloy export --format otel --out traces.json`")
  const ctx = new AlloyContext(io.cwd)
  const model = loadEvidence(ctx)
  const out = str(v["out"])
  if (format === "otel") {
    // written (or printed) a span at a time: the whole document is never held
    if (!out) for (const piece of exportOtelJson(model)) io.out(piece)
    else {
      writeOutput(io.cwd, out, withNewlines(exportOtelJson(model)))
      io.out(io.json ? JSON.stringify({ ok: true, file: out, format }, null, 2) : `Wrote ${out} (${model.records.length} stage span(s)).`)
    }
    return EXIT_OK
  }
  const text =
    exportIntoto(model, (p) => hashWorkFile(ctx.root, p))
      .map((s) => JSON.stringify(s))
      .join("\n") + "\n"
  if (out) {
    writeOutput(io.cwd, out, text)
    if (!io.json) io.out(`Wrote ${out} (${text.trim() ? text.trim().split("\n").length : 0} statement(s)).`)
    else io.out(JSON.stringify({ ok: true, file: out, format }, null, 2))
  } else io.out(text.trimEnd())
  return EXIT_OK
}
