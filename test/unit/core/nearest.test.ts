/** "Near" for every "did you mean": slips, swaps, short starts, and ties named together. */
import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { nearest, suggest, unknownNameFix } from "../../../src/core/nearest.js"

describe("nearest", () => {
  it("finds a name one slip away: a swap, a letter left out, doubled or wrong", () => {
    expect(nearest("verfiy", ["verify", "status"])).toEqual(["verify"])
    expect(nearest("jsn", ["json", "strict"])).toEqual(["json"])
    expect(nearest("jsonn", ["json", "strict"])).toEqual(["json"])
    expect(nearest("jspn", ["json", "strict"])).toEqual(["json"])
    expect(nearest("Verify", ["verify"])).toEqual(["verify"])
  })

  it("names every equally near name rather than guessing one of them", () => {
    expect(nearest("eport", ["export", "report", "status"])).toEqual(["export", "report"])
    expect(nearest("fsh", ["bash", "zsh", "fish"])).toEqual(["fish", "zsh"])
    expect(nearest("zzzzzz", ["verify", "status"])).toEqual([])
    expect(suggest("zzzzzz", ["verify"])).toBeUndefined()
  })

  it("takes a two-letter start for the name when at most four names start with it", () => {
    expect(nearest("al", ["allow-ungated", "dry-run", "strict"])).toEqual(["allow-ungated"])
    expect(nearest("st", ["status", "store", "sync", "verify"])).toEqual(["status", "store"])
    // up to four names that start with the two letters are named, with any a letter away
    expect(nearest("in", ["init", "insights", "intent", "pin", "verify"]).sort()).toEqual(["init", "insights", "intent", "pin"])
    // five say nothing: only a near spelling does
    expect(nearest("in", ["init", "insights", "intent", "index", "inbox", "pin"])).toEqual(["pin"])
  })

  it("takes a start of three or more letters as closer than any slip", () => {
    expect(nearest("dry", ["dry-run", "dr"])).toEqual(["dry-run"])
  })
})

describe("unknownNameFix: one fix for a name that is not there", () => {
  const create = "opencode-alloy intent new release-note-vocie"
  it("names the nearest name, with the suffix the reference carries, and how to make a new one", () => {
    expect(unknownNameFix("release-note-vocie", ["release-note-voice", "pricing-page"], { kind: "intent", create })).toBe(
      "did you mean release-note-voice? (a new one: `opencode-alloy intent new release-note-vocie`)",
    )
    expect(unknownNameFix("release-note-vocie", ["release-note-voice"], { kind: "intent", suffix: "#AC-2" })).toBe("did you mean release-note-voice#AC-2?")
  })

  it("lists the names there are when none is near, at most ten and how many more", () => {
    const many = Array.from({ length: 12 }, (_, i) => `cycle-${String(i).padStart(2, "0")}`).reverse()
    expect(unknownNameFix("zzzz", many, { kind: "cycle", instead: "remove it from the formation" })).toBe(
      "the cycles here are: cycle-00, cycle-01, cycle-02, cycle-03, cycle-04, cycle-05, cycle-06, cycle-07, cycle-08, cycle-09, and 2 more; otherwise remove it from the formation",
    )
    expect(unknownNameFix("zzzz", ["a-b", "a-b"], { kind: "brief", create: "opencode-alloy brief new zzzz" })).toBe("the briefs here are: a-b; a new one: `opencode-alloy brief new zzzz`")
  })

  it("lists the first ten names in order, whatever order they come in", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{4,8}$/), { minLength: 1, maxLength: 40 }), (names) => {
        const sorted = [...names].sort()
        const expected = `the cycles here are: ${sorted.slice(0, 10).join(", ")}${names.length > 10 ? `, and ${names.length - 10} more` : ""}`
        // "0000" is near no four-to-eight-letter name, so the fix lists them
        expect(unknownNameFix("0000", names, { kind: "cycle" })).toBe(expected)
      }),
      { numRuns: 500 },
    )
  })

  it("says how to make one, or that there are none, when there are no names at all", () => {
    expect(unknownNameFix("x-y", [], { kind: "intent", create })).toBe(`create it with \`${create}\``)
    expect(unknownNameFix("x-y", [], { kind: "flow", instead: "remove it from the formation" })).toBe("there are no flows here yet; otherwise remove it from the formation")
  })
})

describe("nearest: the cut-short distance answers as the whole one would", () => {
  // the oracle: the whole optimal-string-alignment table, and the same rules for prefixes and ties
  function osa(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
        d[i]![j] = v
      }
    }
    return d[a.length]![b.length]!
  }
  function oracle(word: string, candidates: string[]): string[] {
    const w = word.toLowerCase()
    const limit = Math.max(1, Math.min(3, Math.floor(w.length / 3)))
    const shortPrefix = w.length === 2 && candidates.filter((x) => x.startsWith(w)).length <= 4
    const scored = candidates
      .map((c) => ({ c, d: c.startsWith(w) && w.length >= 3 ? 0.5 : c.startsWith(w) && shortPrefix ? 1 : osa(w, c.toLowerCase()), first: c[0]?.toLowerCase() === w[0] }))
      .filter((x) => x.d <= limit)
    if (!scored.length) return []
    const best = Math.min(...scored.map((x) => x.d))
    return scored
      .filter((x) => x.d === best)
      .sort((a, b) => Number(b.first) - Number(a.first))
      .map((x) => x.c)
  }
  it("on generated names (a small alphabet, so near misses are common)", () => {
    const name = fc.stringMatching(/^[ab-]{0,12}$/)
    fc.assert(
      fc.property(name, fc.array(name, { minLength: 1, maxLength: 12 }), (word, candidates) => {
        expect(nearest(word, candidates)).toEqual(oracle(word, candidates))
      }),
      { numRuns: 3000 },
    )
  })
  it("over ten thousand names at once, as a project's cycles are", () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `bench-cycle-${String(i).padStart(4, "0")}`)
    expect(nearest("bench-cycle-0421x", names)).toEqual(["bench-cycle-0421"])
    expect(nearest("bench-cyle-0421", names)).toEqual(["bench-cycle-0421"])
    expect(nearest("gone-cycle", names)).toEqual([])
  })
})
