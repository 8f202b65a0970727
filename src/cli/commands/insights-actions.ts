/** insights, followups and intent lifecycle: what the insights commands do (the learning loop). */
import { AlloyContext } from "../../service/context.js"
import { acceptFollowups, applyLifecycle, loadInsights } from "../../evidence/learning.js"
import { bridgeUsage } from "../../bridge/usage.js"
import type { Finding } from "../../evidence/insights.js"
import { EXIT_FAIL, EXIT_OK, usageError, type Io } from "../io.js"
import { strs, type OptionValues } from "./types.js"

const noArgs = (what: string, rest: string[]) => {
  if (rest.length) throw usageError(`${what} takes no arguments`, `run \`opencode-alloy ${what} --help\``)
}

function line(f: Finding): string {
  return `${f.kind.padEnd(13)} ${f.code.padEnd(28)} ${f.message}${f.fix ? `\n${" ".repeat(43)}fix: ${f.fix}` : ""}`
}

export function cmdInsights(io: Io, rest: string[]): number {
  noArgs("insights", rest)
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  const ins = loadInsights(ctx, undefined, undefined, { usage: bridgeUsage(ctx.root) })
  if (io.json) {
    io.out(JSON.stringify({ ok: true, ...ins }, null, 2))
    return EXIT_OK
  }
  if (ins.findings.length === 0) io.out("No findings: nothing has drifted, contradicted or been traded off in the recorded runs.")
  for (const f of ins.findings) io.out(line(f))
  if (ins.lifecycle.length) {
    io.out("")
    io.out("Lifecycle (apply with `opencode-alloy intent lifecycle --apply`):")
    for (const p of ins.lifecycle) io.out(`  ${p.intent}: ${p.from} -> ${p.to}${p.superseded_by ? ` (by ${p.superseded_by})` : ""} — ${p.because}`)
  }
  if (ins.followups.length) io.out(`\n${ins.followups.length} follow-up question(s): \`opencode-alloy followups\``)
  if (ins.thin.length) {
    io.out("\nToo little data to conclude:")
    for (const t of ins.thin) io.out(`  - ${t}`)
  }
  for (const p of ins.problems) io.out(`! ${p}`)
  return EXIT_OK
}

export function cmdFollowups(io: Io, rest: string[], v: OptionValues): number {
  noArgs("followups", rest)
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  const accept = strs(v["accept"])
  if (accept.length) {
    const added = acceptFollowups(ctx, accept)
    if (io.json) io.out(JSON.stringify({ ok: true, accepted: added }, null, 2))
    else for (const a of added) io.out(`${a.added ? "added" : "already there"}: ${a.intent} open_questions: ${a.question}`)
    return EXIT_OK
  }
  const ins = loadInsights(ctx)
  if (io.json) {
    io.out(JSON.stringify({ ok: true, followups: ins.followups }, null, 2))
    return EXIT_OK
  }
  if (ins.followups.length === 0) io.out("No follow-up questions: every criterion has evidence, and none contradicts another.")
  for (const q of ins.followups) {
    io.out(`${q.id}  ${q.criterion}`)
    io.out(`    ${q.question}`)
    io.out(`    because ${q.because}${q.evidence.length ? ` (${q.evidence.length} observation(s))` : ""}`)
  }
  if (ins.followups.length) io.out("\nAccept one into its intent's open_questions: `opencode-alloy followups --accept <id>`")
  return EXIT_OK
}

export function cmdLifecycle(io: Io, rest: string[], v: OptionValues): number {
  noArgs("intent lifecycle", rest)
  if (v["apply"] === true && v["propose"] === true) throw usageError("give --propose or --apply, not both")
  const ctx = new AlloyContext(io.cwd)
  ctx.store.requireInit()
  const ins = loadInsights(ctx)
  if (v["apply"] !== true) {
    if (io.json) io.out(JSON.stringify({ ok: true, proposals: ins.lifecycle }, null, 2))
    else if (ins.lifecycle.length === 0) io.out("No lifecycle changes are due.")
    else for (const p of ins.lifecycle) io.out(`${p.intent}: ${p.from} -> ${p.to}${p.superseded_by ? ` (by ${p.superseded_by})` : ""} — ${p.because}`)
    return EXIT_OK
  }
  const r = applyLifecycle(ctx, ins.lifecycle)
  if (io.json) io.out(JSON.stringify({ ok: true, ...r }, null, 2))
  else if (r.applied.length === 0) io.out("No lifecycle changes are due.")
  else {
    for (const p of r.applied) io.out(`${p.intent}: ${p.from} -> ${p.to}`)
    io.out(r.commit ? `Committed as ${r.commit.slice(0, 12)}.` : "Written; git did not commit (not a repository, or nothing to commit): commit the files on the base branch.")
  }
  return r.applied.length && !r.commit ? EXIT_FAIL : EXIT_OK
}
