/**
 * Prints, after every run, how many tests were skipped and why (the reason each suite gives in its
 * title through skipNote()); a skip without a reason is counted as such, so it gets one.
 */
import type { Reporter, TestModule } from "vitest/node"
import { SKIP_MARK } from "./skip.js"

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, number>()
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        if (t.result().state !== "skipped") continue
        const at = t.fullName.indexOf(SKIP_MARK)
        const why = at >= 0 ? t.fullName.slice(at + SKIP_MARK.length).split(" > ")[0]! : "no reason given"
        byReason.set(why, (byReason.get(why) ?? 0) + 1)
      }
    }
    const total = [...byReason.values()].reduce((a, b) => a + b, 0)
    if (!total) {
      process.stdout.write("\nSkipped tests: none\n")
      return
    }
    const lines = [...byReason.entries()].sort((a, b) => b[1] - a[1]).map(([why, n]) => `  ${String(n).padStart(4)}  ${why}`)
    process.stdout.write(`\nSkipped tests: ${total}, by reason:\n${lines.join("\n")}\n`)
  }
}
