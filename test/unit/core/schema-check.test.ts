import { afterAll, beforeAll, describe, expect, it } from "vitest"
import fc from "fast-check"
import { readFileSync } from "node:fs"
import { z } from "zod"
import { compileSchemaCheck, holdsMoreValuesThan, MAX_PARSED_VALUES, mismatchPath, TOO_MANY_VALUES } from "../../../src/core/schema-check.js"
import { BundleSchema } from "../../../src/core/bundle.js"
import { makePinnedProject, type PinnedProject } from "../../helpers/project.js"

let p: PinnedProject
let bundle: Record<string, unknown>
const check = compileSchemaCheck(BundleSchema)!

beforeAll(async () => {
  p = await makePinnedProject()
  bundle = JSON.parse(readFileSync(p.objectPath, "utf8")) as Record<string, unknown>
})
afterAll(() => p.cleanup())

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Every path to a value in `v` (objects by key, arrays by index). */
function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(at)
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out))
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out)
  return out
}

type Edit = { op: "set"; value: Json } | { op: "delete" } | { op: "add"; key: string; value: Json } | { op: "pad" }

/** A copy of `v` with one edit at `path`. */
function edit(v: Json, path: Array<string | number>, e: Edit): Json {
  const copy = structuredClone(v)
  if (path.length === 0) return e.op === "set" ? e.value : copy
  let parent: Json = copy
  for (const k of path.slice(0, -1)) parent = (parent as Record<string, Json>)[k as string]!
  const last = path[path.length - 1]!
  const box = parent as Record<string, Json>
  if (e.op === "set") box[last as string] = e.value
  else if (e.op === "delete") {
    if (Array.isArray(parent)) parent.splice(last as number, 1)
    else delete box[last as string]
  } else if (e.op === "pad") {
    if (typeof box[last as string] === "string") box[last as string] = ` ${box[last as string] as string} `
  } else {
    const target = box[last as string]
    // an own member, as JSON.parse makes it (assigning `__proto__` would set the prototype instead)
    if (target !== null && typeof target === "object" && !Array.isArray(target)) Object.defineProperty(target, e.key, { value: e.value, enumerable: true, writable: true, configurable: true })
  }
  return copy
}

const anEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> }),
  fc.record({ op: fc.constant("set" as const), value: fc.constantFrom<Json>("", " ", "x", "AC-1", "law", "check", "forge", "sha256:00", 0, 1.5, -1, true, null, [], {}) }),
  fc.constant({ op: "delete" as const }),
  fc.constant({ op: "pad" as const }),
  fc.record({ op: fc.constant("add" as const), key: fc.constantFrom("extra", "__proto__", "kind", "text", "forge", "assay"), value: fc.constantFrom<Json>("x", 1, null, { text: "t" }) }),
)

describe("the cheap schema check (compileSchemaCheck)", () => {
  it("says yes to a real bundle, as zod does", () => {
    expect(check(bundle)).toBe(true)
    expect(BundleSchema.safeParse(bundle).success).toBe(true)
  })

  it("never says yes where zod refuses or would change the value (edits anywhere in a real bundle)", () => {
    const all = paths(bundle as Json)
    let yes = 0
    fc.assert(
      fc.property(fc.nat(), anEdit, (n, e) => {
        const v = edit(bundle as Json, all[n % all.length]!, e)
        if (!check(v)) return
        yes++
        const r = BundleSchema.safeParse(v)
        expect(r.success).toBe(true)
        expect(r.data).toStrictEqual(v)
      }),
      { numRuns: 3000 },
    )
    // edits zod accepts unchanged (another valid title, a deleted optional field) must still get a yes
    expect(yes).toBeGreaterThan(0)
  })

  it("an object parsed from JSON with an own __proto__ member is left to zod", () => {
    const packs = (bundle as { packs: Record<string, unknown> }).packs
    const withProto = JSON.parse(JSON.stringify({ ...bundle, packs }).replace('"packs":{', '"packs":{"__proto__":{"text":"x"},'))
    expect(check(withProto)).toBe(false)
  })

  it("has no cheap check for schemas with parts it does not handle", () => {
    expect(compileSchemaCheck(z.string().transform((s) => s.length))).toBeUndefined()
    expect(compileSchemaCheck(z.object({ a: z.string().default("x") }))).toBeUndefined()
    expect(compileSchemaCheck(z.union([z.string(), z.number()]))).toBeUndefined()
    expect(compileSchemaCheck(z.coerce.number())).toBeUndefined()
    expect(compileSchemaCheck(z.looseObject({ a: z.string() }))).toBeUndefined()
  })

  it("runs zod's own leaf checks: trims that would change a string, lengths, ranges, refinements", () => {
    const s = compileSchemaCheck(z.strictObject({ t: z.string().trim().min(1).max(3), n: z.number().int().min(1).optional(), r: z.string().refine((x) => x.startsWith("a")) }))!
    expect(s({ t: "ab", r: "a" })).toBe(true)
    expect(s({ t: " ab", r: "a" })).toBe(false)
    expect(s({ t: "abcd", r: "a" })).toBe(false)
    expect(s({ t: "", r: "a" })).toBe(false)
    expect(s({ t: "ab", r: "b" })).toBe(false)
    expect(s({ t: "ab", r: "a", n: 0 })).toBe(false)
    expect(s({ t: "ab", r: "a", n: 1.5 })).toBe(false)
    expect(s({ t: "ab", r: "a", n: 2 })).toBe(true)
    expect(s({ t: "ab", r: "a", x: 1 })).toBe(false)
    const rec = compileSchemaCheck(z.record(z.enum(["a", "b"]), z.number()))!
    expect(rec({ a: 1, b: 2 })).toBe(true)
    expect(rec({ a: 1 })).toBe(false) // zod reads a record keyed by an enum as exhaustive
    expect(z.record(z.enum(["a", "b"]), z.number()).safeParse({ a: 1 }).success).toBe(false)
  })

  it("answers exactly as zod for the leaf checks it writes as expressions: trims, bounds, safe integers (property)", () => {
    const leaves = [
      z.string().trim(),
      z.string().trim().min(1).max(4),
      z.number().int(),
      z.number().min(-2).max(3),
      z.number().gt(-2).lt(3),
      z.number().int().positive(),
      z.number().nonnegative().max(10),
    ]
    const values = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom(" a", "a ", "\ta", "a\n", "\u00a0a", "a\u2028", "", " ", "abcd", "abcde"),
      fc.double({ noNaN: true }),
      fc.integer({ min: -5, max: 12 }),
      fc.constantFrom(-2, 3, 0, -0, 1.5, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), Number.MAX_VALUE),
    )
    for (const schema of leaves) {
      const cheap = compileSchemaCheck(schema)!
      fc.assert(
        fc.property(values, (v) => {
          const r = schema.safeParse(v)
          expect(cheap(v)).toBe(r.success && Object.is(r.data, v))
        }),
        { numRuns: 400 },
      )
    }
  })

  it("names where a value first fails: on the path of the one edit that broke it (property)", () => {
    const all = paths(bundle as Json)
    let named = 0
    fc.assert(
      fc.property(fc.nat(), anEdit, (n, e) => {
        const at = all[n % all.length]!
        const v = edit(bundle as Json, at, e)
        if (check(v)) return
        const where = mismatchPath(check, v)
        // the failing value is where the edit was made, inside the edited value's parent: the value
        // itself, what was set into it, an added key, a sibling a changed union tag now forbids,
        // or the parent (a length, a missing member)
        const parent = (e.op === "add" ? [...at, e.key] : at).slice(0, -1)
        expect(where.slice(0, parent.length)).toEqual(parent)
        named++
      }),
      { numRuns: 2000 },
    )
    expect(named).toBeGreaterThan(0)
    expect(mismatchPath(check, bundle)).toEqual([])
    expect(mismatchPath(check, { ...bundle, intents: [...(bundle["intents"] as unknown[]), 1] })).toEqual(["intents", (bundle["intents"] as unknown[]).length])
  })

  it("counts a value's values up to a bound", () => {
    expect(holdsMoreValuesThan([1, 2, 3], 3)).toBe(true) // the array and its three elements
    expect(holdsMoreValuesThan([1, 2, 3], 4)).toBe(false)
    expect(holdsMoreValuesThan({ a: { b: [null] } }, 3)).toBe(true)
    expect(holdsMoreValuesThan({ a: { b: [null] } }, 4)).toBe(false)
    expect(holdsMoreValuesThan("x", 0)).toBe(true)
  })

  it("words the bound it counts to (the wording is written out, so it is checked against the number)", () => {
    expect(TOO_MANY_VALUES).toBe(`holds more than ${MAX_PARSED_VALUES.toLocaleString("en")} values`)
  })
})
