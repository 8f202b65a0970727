import { describe, expect, it } from "vitest"
import { showsProgress, startProgress, type ProgressStream } from "../../../src/cli/progress.js"

/** A stream that records what is written and says it is (or is not) a terminal. */
function fakeStream(isTTY: boolean, columns = 80): ProgressStream & { text: string } {
  const s = {
    isTTY,
    columns,
    text: "",
    write(x: string) {
      s.text += x
      return true
    },
  }
  return s
}

describe("progress line (src/cli/progress.ts)", () => {
  it("draws a compact line in place on a terminal, and clears it at the end", () => {
    const stream = fakeStream(true)
    let t = 0
    const p = startProgress("importing", 3, { stream, env: {}, now: () => t })
    expect(p.active).toBe(true)
    p.update(1, "work/a")
    t += 1000
    p.update(2, "work/b")
    t += 1000
    p.update(3)
    p.end()
    expect(stream.text).toBe("\r[alloy] importing 1/3 (33%) work/a\u001b[K" + "\r[alloy] importing 2/3 (66%) work/b\u001b[K" + "\r[alloy] importing 3/3 (100%)\u001b[K" + "\r\u001b[K")
  })

  it("redraws at most once an interval, but always draws the last item", () => {
    const stream = fakeStream(true)
    const p = startProgress("building", 1000, { stream, env: {}, now: () => 0, intervalMs: 100 })
    for (let i = 1; i <= 1000; i++) p.update(i)
    p.end()
    const draws = stream.text.split("\r").filter((x) => x.startsWith("[alloy]"))
    expect(draws).toEqual(["[alloy] building 1/1000 (0%)\u001b[K", "[alloy] building 1000/1000 (100%)\u001b[K"])
  })

  it("is silent when standard error is not a terminal, with --json, and on a dumb terminal", () => {
    for (const [tty, json, env] of [
      [false, false, {}],
      [true, true, {}],
      [true, false, { TERM: "dumb" }],
    ] as const) {
      const stream = fakeStream(tty)
      const p = startProgress("reading records", 10, { stream, json, env })
      expect(p.active).toBe(false)
      for (let i = 1; i <= 10; i++) p.update(i, "x")
      p.end()
      expect(stream.text).toBe("")
      expect(showsProgress(stream, json, env)).toBe(false)
    }
  })

  it("keeps the line within the terminal width and escapes control characters in the detail", () => {
    const stream = fakeStream(true, 60)
    const p = startProgress("importing", 2, { stream, env: {}, now: () => 0 })
    p.update(2, "\u001b]52;c;evil\u0007-branch-with-a-very-long-name")
    const line = stream.text.slice(1, stream.text.indexOf("\u001b[K"))
    expect(line.length).toBeLessThanOrEqual(59)
    expect(line.endsWith("…")).toBe(true)
    expect(line).not.toMatch(/[\u0000-\u001f]/)
    expect(line.startsWith("[alloy] importing 2/2 (100%) ?]52;c;evil?")).toBe(true)
  })
})

describe("progress line with a total known only later", () => {
  it("counts alone until the total is known, then shows it", () => {
    const stream = fakeStream(true)
    let t = 0
    const p = startProgress("importing", 0, { stream, env: {}, now: () => t })
    p.update(0, "discovering")
    t += 1000
    p.update(1, "work/a", 4)
    expect(stream.text).toBe("\r[alloy] importing 0 discovering\u001b[K\r[alloy] importing 1/4 (25%) work/a\u001b[K")
  })
})
