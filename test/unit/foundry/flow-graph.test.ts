import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { reachableCycles } from "../../../src/foundry/flow-graph.js"

const graph = (edges: Record<string, string[]>) => (c: string) => edges[c] ?? []

describe("reachableCycles", () => {
  it("walks starting cycles, then targets, breadth first, each cycle once", () => {
    expect(reachableCycles(["a"], graph({ a: ["b", "c"], b: ["d"], c: ["d", "a"], d: ["d"] }))).toEqual(["a", "b", "c", "d"])
  })

  it("reaches nothing that no starting cycle leads to", () => {
    expect(reachableCycles(["a"], graph({ a: [], x: ["a"] }))).toEqual(["a"])
    expect(reachableCycles([], graph({ a: ["b"] }))).toEqual([])
  })

  it("keeps a named cycle that has no definition (its branch ends there); callers decide whether it counts", () => {
    expect(reachableCycles(["a"], graph({ a: ["ghost"] }))).toEqual(["a", "ghost"])
  })

  it("reaches exactly the closure of the graph, however cyclic, and expands each cycle once", () => {
    const id = fc.constantFrom("a", "b", "c", "d", "e", "f")
    fc.assert(
      fc.property(fc.dictionary(id, fc.array(id, { maxLength: 6 })), fc.array(id, { maxLength: 3 }), (edges, start) => {
        const asked: string[] = []
        const got = reachableCycles(start, (c) => {
          asked.push(c)
          return edges[c] ?? []
        })
        // the closure, computed the slow way
        let closure = new Set(start)
        for (let k = 0; k < 7; k++) closure = new Set([...closure, ...[...closure].flatMap((c) => edges[c] ?? [])])
        expect(new Set(got)).toEqual(closure)
        expect(got.length).toBe(closure.size)
        expect(asked).toEqual(got)
      }),
    )
  })
})
