/**
 * During a Foundry flow (a `work/*` or `dry-run/*` branch) nothing in the work tree may change
 * except what Foundry allows; Alloy writes only to its git-ignored `runs/` there.
 */
import { AlloyError } from "../core/errors.js"
import type { AlloyContext } from "./context.js"

export function assertNotOnFlowBranch(ctx: AlloyContext, what: string): void {
  const branch = ctx.project.onFlowBranch()
  if (branch) {
    throw new AlloyError("work_branch", `refusing to ${what}: the repository is on Foundry flow branch '${branch}', where Foundry treats any file it did not write as unexpected and stops the flow`, {
      fix: "switch to the base branch (e.g. `git switch main`), make the change there and commit it, then start the flow again (a pin in foundry/ may also be made on a `config/*` branch, but Foundry's config finish accepts only foundry/** changes, so .alloy/ is committed on the base branch)",
    })
  }
}
