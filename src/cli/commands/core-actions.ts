/** init, verify, pin, show: the foundation commands: what the commands do. */
import { AlloyContext } from "../../service/context.js"
import { verifyAllPins } from "../../service/verify-pins.js"
import { pinBrief } from "../../service/pin.js"
import { resolveTarget } from "../../service/resolve.js"
import { briefText } from "../../core/build.js"
import { packFor } from "../../core/formation.js"
import { assertDigest, isDigest, parseStage } from "../../core/ids.js"
import { digestOf } from "../../core/digest.js"
import { parseBundle } from "../../core/verify.js"
import { AlloyError } from "../../core/errors.js"
import { assertNotOnFlowBranch } from "../../service/guard.js"
import { EXIT_FAIL, EXIT_OK, paint, usageError, type Io } from "../io.js"
import { assertKnownBrief } from "./known-names.js"

export function cmdInit(io: Io): number {
  const ctx = new AlloyContext(io.cwd)
  assertNotOnFlowBranch(ctx, "initialise .alloy/")
  const { created } = ctx.store.init()
  if (io.json) io.out(JSON.stringify({ ok: true, created }, null, 2))
  else if (created.length) io.out(`Initialised .alloy/ (created ${created.join(", ")}).\nNext: write an intent with \`opencode-alloy intent new <id>\`.`)
  else io.out(".alloy/ is already initialised; nothing changed.")
  return EXIT_OK
}

export function cmdVerify(io: Io, opts: { strict: boolean }): number {
  const ctx = new AlloyContext(io.cwd)
  if (!ctx.project.isFoundryProject()) {
    throw new AlloyError("usage", "there is no foundry/ folder here, so there are no cycles to verify", { fix: "run the command at the root of a Foundry project (or pass --cwd <dir>)" })
  }
  const report = verifyAllPins(ctx, opts)
  if (io.json) {
    io.out(JSON.stringify(report, null, 2))
  } else {
    for (const p of report.pins) {
      if (p.status === "ok") io.out(`${paint(io, "green", "ok")}      ${p.kind} ${p.id}: ${p.brief_id} @ ${p.digest}${p.covers?.length ? ` (covers ${p.covers.join(", ")})` : ""}`)
      else if (p.status === "stale")
        io.out(
          `${paint(io, "yellow", "stale")}   ${p.kind} ${p.id}: ${p.brief_id} @ ${p.digest} (a newer build exists: ${p.current}; re-pin with \`opencode-alloy pin ${p.kind === "flow" ? "--flow " : ""}${p.id} ${p.brief_id}\`)`,
        )
      else {
        io.out(`${paint(io, "red", "FAIL")}    ${p.message} [${p.code}]`)
        if (p.fix) io.out(`        fix: ${p.fix}`)
      }
    }
    // findings the pin lines above do not already say
    const pinFiles = new Set(report.pins.filter((p) => p.status === "error").map((p) => p.file))
    for (const f of report.findings) {
      if (f.code === "pin_behind" || (f.severity === "error" && f.file !== undefined && pinFiles.has(f.file) && f.code !== "not_pinned" && f.code !== "ambiguous_pin")) continue
      io.out(`${f.severity === "error" ? paint(io, "red", "FAIL   ") : "warning"} ${f.message} [${f.code}]`)
      if (f.fix) io.out(`        fix: ${f.fix}`)
    }
    const ok = report.checked - report.failed - report.stale
    const extra = [
      report.covered.length ? `${report.covered.length} cycle(s) covered by a flow pin` : "",
      report.unpinned.length ? `${report.unpinned.length} cycle(s) without a pin` : "",
      report.errors - report.failed ? `${report.errors - report.failed} other error(s)` : "",
      report.warning_count - report.stale ? `${report.warning_count - report.stale} warning(s)${opts.strict ? " (--strict: failing)" : ""}` : "",
    ].filter(Boolean)
    io.out(`${report.checked} pin${report.checked === 1 ? "" : "s"} checked: ${ok} ok, ${report.stale} stale, ${report.failed} failed${extra.length ? `; ${extra.join("; ")}` : ""}`)
  }
  return report.ok ? EXIT_OK : EXIT_FAIL
}

export function cmdPin(io: Io, positionals: string[], opts: { flow?: string | undefined; digest?: string | undefined }): number {
  const ctx = new AlloyContext(io.cwd)
  let target: { cycle?: string; flow?: string }
  let briefId: string | undefined
  if (opts.flow !== undefined) {
    target = { flow: opts.flow }
    briefId = positionals[0]
    if (positionals.length !== 1) throw usageError("usage: opencode-alloy pin --flow <flow-id> <brief-id>")
  } else if (positionals.length === 1) {
    // the brief's own formation decides (its single cycle, else its flow)
    target = {}
    briefId = positionals[0]
  } else {
    if (positionals.length !== 2) throw usageError("usage: opencode-alloy pin [<cycle-id>] <brief-id>")
    target = { cycle: positionals[0]! }
    briefId = positionals[1]
  }
  assertKnownBrief(ctx, briefId!)
  const r = pinBrief(ctx, { ...target, brief_id: briefId, ...(opts.digest ? { digest: opts.digest } : {}) })
  if (io.json) io.out(JSON.stringify({ ok: true, ...r }, null, 2))
  else {
    if (!r.changed) io.out(`${r.target.file} already pins ${r.brief_id} @ ${r.digest}; nothing changed (verified: the pin reads back and its object hashes to it).`)
    else
      io.out(
        `Pinned ${r.brief_id} @ ${r.digest} in ${r.target.file}${r.previous ? ` (was ${r.previous.brief_id} @ ${r.previous.digest})` : ""}; verified: the pin reads back and its object hashes to it.`,
      )
    if (r.note) io.out(`note: ${r.note}`)
    if (r.changed) io.out(`Commit it before starting the flow: git add ${r.target.file} .alloy && git commit -m "alloy: pin ${r.brief_id}"`)
  }
  return EXIT_OK
}

export function cmdShow(io: Io, positionals: string[], opts: { stage?: string | undefined }): number {
  if (positionals.length !== 1) throw usageError("usage: opencode-alloy show <brief-id|digest> [--stage <stage>]")
  const ctx = new AlloyContext(io.cwd)
  const what = positionals[0]!
  const stage = opts.stage !== undefined ? parseStage(opts.stage) : undefined
  let target: { brief_id: string; digest?: string }
  if (what.startsWith("sha256:")) assertDigest(what)
  if (isDigest(what)) {
    const bytes = ctx.store.readObject(what)
    if (!bytes) throw new AlloyError("object_missing", `no object ${what} in .alloy/objects/`)
    if (digestOf(bytes) !== what) {
      throw new AlloyError("digest_mismatch", `object ${ctx.store.rel(ctx.store.objectFile(what))} does not hash to its name ${what}`, {
        fix: "rebuild the brief that produced it, or restore the file from git",
      })
    }
    target = { brief_id: parseBundle(bytes, ctx.store.rel(ctx.store.objectFile(what))).brief.id, digest: what }
  } else {
    assertKnownBrief(ctx, what)
    target = { brief_id: what }
  }
  const r = resolveTarget(ctx, target)
  const b = r.bundle
  if (io.json) {
    const pack = stage ? packFor(b, undefined, stage.raw) : undefined
    io.out(
      JSON.stringify(
        {
          ok: true,
          brief_id: b.brief.id,
          digest: r.pin.digest,
          stale: r.stale,
          current: r.current,
          object: r.objectFile,
          ...(pack ? { stage: stage!.raw, pack: pack.key, text: pack.text } : { bundle: b }),
        },
        null,
        2,
      ),
    )
    return EXIT_OK
  }
  io.out(`${b.brief.id} @ ${r.pin.digest} (verified${r.stale ? `; stale, current is ${r.current}` : ""})`)
  io.out(`object: ${r.objectFile}`)
  io.out(`sources: ${b.sources.map((s) => `${s.kind} ${s.id} ${s.digest.slice(0, 19)}…`).join(", ")}`)
  io.out(`packs: ${Object.keys(b.packs).sort().join(", ")}; gates: ${b.overlay.gates.length}`)
  io.out("")
  io.out(stage ? packFor(b, undefined, stage.raw).text : briefText(b))
  return EXIT_OK
}
