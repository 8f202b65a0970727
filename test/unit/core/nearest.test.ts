/** "Near" for every "did you mean": slips, swaps, short starts, and ties named together. */
import { describe, expect, it } from "vitest"
import { nearest, suggest } from "../../../src/core/nearest.js"

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
