// One check command, run directly: what a record says when the command cannot start, exits non-zero,
// or cannot even be split; none of them passes.
import os from "node:os"
import { describe, expect, it } from "vitest"
import { checkCommandPassed } from "../../../src/core/run-record.js"
import { runCheckCommand } from "../../../src/service/check.js"

const limits = { timeoutMs: 30_000, maxOutputBytes: 1024 * 1024 }
const run = (command: string, shell = false) => runCheckCommand(os.tmpdir(), { command, shell }, limits)

describe("runCheckCommand", () => {
  it("a program that is not installed fails with 'not found', no exit code", async () => {
    const r = await run("alloy-no-such-program-7f3a --version")
    expect(r).toMatchObject({ exit_code: null, argv: ["alloy-no-such-program-7f3a", "--version"] })
    expect(r.error).toContain("was not found")
    expect(checkCommandPassed(r)).toBe(false)
  })

  it("a non-zero exit fails and keeps its code; exit 0 passes", async () => {
    const bad = await run(`node -e "process.exit(7)"`)
    expect(bad.exit_code).toBe(7)
    expect(checkCommandPassed(bad)).toBe(false)
    const ok = await run(`node -e "process.stdout.write('fine')"`)
    expect(ok).toMatchObject({ exit_code: 0, tail: "fine", output_bytes: 4 })
    expect(checkCommandPassed(ok)).toBe(true)
  })

  it("a command that cannot be split, or holds a NUL byte, runs nothing and fails", async () => {
    const open = await run(`node -e "process.exit(0)`)
    expect(open.error).toContain("unterminated double quote")
    expect(checkCommandPassed(open)).toBe(false)
    const nul = await run("node a\u0000b")
    expect(nul.error).toMatch(/could not start/)
    expect(checkCommandPassed(nul)).toBe(false)
  })
})
