/** "Near" for every "did you mean": slips, swaps, short starts, and ties named together. */
import { describe, expect, it } from "vitest"
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

  it("says how to make one, or that there are none, when there are no names at all", () => {
    expect(unknownNameFix("x-y", [], { kind: "intent", create })).toBe(`create it with \`${create}\``)
    expect(unknownNameFix("x-y", [], { kind: "flow", instead: "remove it from the formation" })).toBe("there are no flows here yet; otherwise remove it from the formation")
  })
})
