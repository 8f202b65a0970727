/** check: what the command does (runs the gates through the one service, prints or records them). */
import { AlloyContext } from "../../service/context.js"
import { runChecks } from "../../service/check.js"
import { EXIT_FAIL, EXIT_OK, usageError, type Io } from "../io.js"
import { str, type OptionValues } from "./types.js"

function positiveInt(v: unknown, name: string, max: number): number | undefined {
  const s = str(v)
  if (s === undefined) return undefined
  const n = Number(s)
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1 || n > max) throw usageError(`--${name} takes a whole number from 1 to ${max}; got ${JSON.stringify(s.slice(0, 40))}`)
  return n
}

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`

export async function cmdCheck(io: Io, rest: string[], v: OptionValues): Promise<number> {
  const ctx = new AlloyContext(io.cwd)
  const timeoutSeconds = positiveInt(v["timeout"], "timeout", 3600)
  const maxOutputBytes = positiveInt(v["max-output"], "max-output", 1024 * 1024 * 1024)
  const report = await runChecks(ctx, {
    intents: rest,
    record: v["record"] === true,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(maxOutputBytes !== undefined ? { maxOutputBytes } : {}),
  })
  const code = report.failed ? EXIT_FAIL : EXIT_OK
  if (io.json) {
    io.out(JSON.stringify({ ok: report.failed === 0, ...report }, null, 2))
    return code
  }
  if (!report.results.length) {
    io.out("No check gates: no criterion of the selected intents has `evidence: {kind: check, command: ...}`.")
    for (const w of report.warnings) io.out(`  ! ${w}`)
    return EXIT_OK
  }
  for (const r of report.results) {
    io.out(`${r.passed ? "PASS" : "FAIL"}  ${r.criterion}  ${r.command}`)
    for (const c of r.commands) {
      const how = c.error ?? (c.timed_out ? "timed out" : c.output_over_limit ? "stopped: output over the limit" : `exit ${c.exit_code ?? c.signal ?? "?"}`)
      if (r.commands.length > 1 || !r.passed) io.out(`      ${c.command}: ${how}, ${secs(c.duration_ms)}, ${c.output_bytes} bytes of output`)
      else io.out(`      ${how}, ${secs(c.duration_ms)}, ${c.output_bytes} bytes of output`)
      if (!r.passed && c.tail && !(c.exit_code === 0 && !c.timed_out && !c.output_over_limit)) {
        for (const line of c.tail.trimEnd().split("\n").slice(-8)) io.out(`      | ${line}`)
      }
    }
    for (const x of r.recorded) io.out(`      recorded ${x.run_id} for cycle ${x.cycle} under ${x.brief_id}@${x.digest.replace(/^sha256:/, "").slice(0, 12)}`)
    if (r.not_recorded) io.out(`      not recorded: ${r.not_recorded}`)
  }
  for (const w of report.warnings) io.out(`  ! ${w}`)
  io.out(
    `${report.passed} passed, ${report.failed} failed${v["record"] === true ? `; ${report.recorded} record${report.recorded === 1 ? "" : "s"} written (see \`opencode-alloy report\`)` : " (not recorded: add --record to count them as evidence)"}.`,
  )
  return code
}
