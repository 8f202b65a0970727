/**
 * Skips that say why. A suite that may not run here puts the reason in its title, only when it
 * skips: `describe.skipIf(why !== undefined)(\`title${skipNote(why)}\`, ...)`. The skip reporter
 * (./skip-reporter.ts) prints the count of skipped tests per reason at the end of every run.
 */
export const SKIP_MARK = " — skipped: "

export function skipNote(why: string | undefined): string {
  return why === undefined ? "" : `${SKIP_MARK}${why}`
}
