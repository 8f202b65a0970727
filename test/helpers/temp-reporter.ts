/**
 * Every test run gets a temp folder of its own: this reporter makes it when Vitest starts (before
 * the test processes fork, so they inherit `TMPDIR`), and when the run ends it names what the tests
 * left there and removes it all. A test that leaves its folder behind (a browser profile, a demo's
 * report) fails the run: litter in the machine's temp folder grew by a few folders per run before.
 * Only names the tests choose (`alloy-…`, `profile-…`) count as leaks; what other programs write
 * there (a browser's own files) is removed without a word.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { Reporter } from "vitest/node"

const OURS = /^(?:alloy-|profile-)/

export default class TempReporter implements Reporter {
  private readonly dir: string

  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), "alloy-vitest-"))
    // as the machine's temp folder is: the fault tests run a worker as another user in it
    chmodSync(this.dir, 0o1777)
    process.env["TMPDIR"] = this.dir
  }

  /** a watch run starts again after the folder was removed */
  onTestRunStart(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o1777 })
    chmodSync(this.dir, 0o1777)
  }

  onTestRunEnd(): void {
    let left: string[] = []
    try {
      left = readdirSync(this.dir).filter((n) => OURS.test(n))
    } catch {
      // gone already: nothing was left in it
    }
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
    if (!left.length) return
    process.stdout.write(`\nTemp folders the tests left behind (each test removes what it makes): ${left.sort().join(", ")}\n`)
    process.exitCode = 1
  }
}
