import { describe, expect, it } from "vitest"
import { groupedOnce } from "../../../src/core/maps.js"

describe("groupedOnce", () => {
  it("groups a list once, by every key of each item, in the order asked for", () => {
    let calls = 0
    const byWord = groupedOnce<string>(
      (s) => s.split(" "),
      (l) => {
        calls++
        return [...l].sort()
      },
    )
    const list = ["b x", "a x", "c y"]
    expect(byWord("x", list)).toEqual(["a x", "b x"])
    expect(byWord("y", list)).toEqual(["c y"])
    expect(byWord("z", list)).toEqual([])
    expect(calls).toBe(1)
    // another list (even with the same items) is grouped afresh: nothing stale is answered
    const other = [...list, "d x"]
    expect(byWord("x", other)).toEqual(["a x", "b x", "d x"])
    expect(calls).toBe(2)
  })
})
