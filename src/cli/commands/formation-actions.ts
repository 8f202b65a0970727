/** formation design: what the formation commands do. */
import { AlloyContext } from "../../service/context.js"
import { designBriefFormation, designView, writeFormationDesign } from "../../service/formation-design.js"
import { EXIT_FAIL, EXIT_OK, usageError, type Io } from "../io.js"
import { assertKnownBrief } from "./known-names.js"

export function cmdFormationDesign(io: Io, rest: string[], opts: { write: boolean }): number {
  if (rest.length !== 1) throw usageError("usage: opencode-alloy formation design <brief-id> [--write] [--json]", "name one brief, e.g. `opencode-alloy formation design release-note-voice`")
  const ctx = new AlloyContext(io.cwd)
  assertKnownBrief(ctx, rest[0]!)
  const report = designBriefFormation(ctx, rest[0])
  const written = opts.write ? writeFormationDesign(ctx, report) : undefined
  const changes = report.files.filter((f) => f.action !== "unchanged")
  const ok = report.problems.length === 0
  if (io.json) {
    io.out(JSON.stringify({ ok, ...designView(report, written) }, null, 2))
    return ok ? EXIT_OK : EXIT_FAIL
  }
  io.out(`Formation of brief ${report.brief_id}: ${report.cycles.join(", ") || "no cycles"}${report.flow ? ` (flow ${report.flow})` : ""}`)
  io.out(`Pin: ${report.pin.digest}${report.built ? "" : ` (not built yet: after the config is merged, \`opencode-alloy brief build ${report.brief_id}\` gives this digest)`}`)
  if (!changes.length) io.out("Nothing to change: the config already carries this formation.")
  for (const f of report.files)
    io.out(
      `  ${f.action === "create" ? "create " : f.action === "modify" ? "change " : "keep   "} ${f.path}${f.action === "modify" ? " (existing file, changed only as shown)" : ""} — ${f.why.join("; ")}`,
    )
  for (const p of report.problems) for (const e of p.errors) io.out(`! ${p.file}: ${e}`)
  for (const n of report.notes) io.out(`note: ${n}`)
  if (written) io.out(`Wrote ${written.written.length} file${written.written.length === 1 ? "" : "s"} on ${written.branch}; review, commit, and finish the config branch with Foundry.`)
  else if (changes.length) {
    io.out("")
    io.out(report.diff)
    io.out("")
    io.out(`Preview only. To write it: \`git switch -c config/${report.brief_id}-formation\` (from the base branch), then \`opencode-alloy formation design ${report.brief_id} --write\`.`)
  }
  return ok ? EXIT_OK : EXIT_FAIL
}
