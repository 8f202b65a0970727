import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import fc from "fast-check"
import { readFileSync } from "node:fs"
import { execFileSync } from "node:child_process"
import { verifyObjectBytes, parseBundle } from "../../../src/core/verify.js"
import { canonicalBytes, digestOf, type Json } from "../../../src/core/digest.js"
import { BundleSchema } from "../../../src/core/bundle.js"
import { makePinnedProject, type PinnedProject } from "../../helpers/project.js"
import { codeOf } from "../../helpers/errors.js"

let p: PinnedProject
let bytes: Buffer

beforeAll(async () => {
  p = await makePinnedProject()
  bytes = readFileSync(p.objectPath)
})
afterAll(() => p.cleanup())

describe("tamper detection", () => {
  it("the object file's sha256sum equals the pinned digest", () => {
    const out = execFileSync("sha256sum", [p.objectPath], { encoding: "utf8" })
    expect(`sha256:${out.split(" ")[0]}`).toBe(p.digest)
  })

  it("verifies the untouched object", () => {
    const b = verifyObjectBytes(bytes, { brief_id: p.briefId, digest: p.digest }, "obj")
    expect(b.brief.id).toBe(p.briefId)
  })

  it(`catches a flipped bit at every one of the object's byte positions`, () => {
    let caught = 0
    const copy = Buffer.from(bytes)
    for (let i = 0; i < copy.length; i++) {
      copy[i] = copy[i]! ^ 0x01
      if (codeOf(() => verifyObjectBytes(copy, { brief_id: p.briefId, digest: p.digest }, "obj")) === "digest_mismatch") caught++
      copy[i] = copy[i]! ^ 0x01
    }
    expect(bytes.length).toBeGreaterThan(1000)
    expect(caught).toBe(bytes.length)
  })

  it("catches any single-byte replacement, insertion or deletion (property)", () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("replace", "insert", "delete"), (pos, value, op) => {
        const i = pos % bytes.length
        let mutated: Buffer
        if (op === "replace") {
          if (bytes[i] === value) return
          mutated = Buffer.from(bytes)
          mutated[i] = value
        } else if (op === "insert") mutated = Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)])
        else mutated = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)])
        expect(codeOf(() => verifyObjectBytes(mutated, { brief_id: p.briefId, digest: p.digest }, "obj"))).toBe("digest_mismatch")
      }),
      { numRuns: 2000 },
    )
  })

  it("a re-hashed edit (new digest) is still refused when it is not canonical or not a bundle", () => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(bytes.toString("utf8")), null, 2))
    expect(codeOf(() => parseBundle(pretty, "obj"))).toBe("malformed")
    expect(codeOf(() => parseBundle(Buffer.from('{"$type":"alloy.bundle/v1"}'), "obj"))).toBe("malformed")
    expect(codeOf(() => parseBundle(Buffer.from("not json"), "obj"))).toBe("malformed")
    // compact but with the top-level keys reversed, or a string in NFD: valid bundles, not canonical bytes
    const parsed = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>
    const reversed = Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(parsed).reverse())))
    expect(codeOf(() => parseBundle(reversed, "obj"))).toBe("malformed")
    const brief = parsed["brief"] as Record<string, unknown>
    const nfd = Buffer.from(JSON.stringify({ ...parsed, brief: { ...brief, title: "Cafe\u0301" } }))
    expect(codeOf(() => parseBundle(nfd, "obj"))).toBe("malformed")
    expect(codeOf(() => parseBundle(bytes, "obj"))).toBeUndefined()
  })

  it("a re-hashed, canonical bundle with a key the schema does not have is refused at every depth", () => {
    const parsed = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>
    const brief = parsed["brief"] as Record<string, unknown>
    const withExtra = [
      { ...parsed, zz_extra: "smuggled" },
      { ...parsed, brief: { ...brief, aa_extra: 1 } },
      { ...parsed, overlay: { ...(parsed["overlay"] as Record<string, unknown>), note: "smuggled" } },
    ]
    for (const v of withExtra) {
      const canonical = canonicalBytes(v)
      const digest = digestOf(canonical)
      expect(codeOf(() => verifyObjectBytes(canonical, { brief_id: p.briefId, digest }, "obj"))).toBe("malformed")
    }
  })

  it("refuses an object of millions of bad values by where it first differs, without zod's parse of every one", () => {
    // anyone can write such an object and pin it: zod's parse words every fault (an 8 MB object
    // held verify for 72 s and ran it out of memory), so above 100,000 values only the first is named
    const parsed = JSON.parse(bytes.toString("utf8")) as { [key: string]: Json; intents: Json[] }
    const at = parsed.intents.length
    const huge = canonicalBytes({ ...parsed, intents: [...parsed.intents, ...Array<number>(150_000).fill(1)] })
    const small = canonicalBytes({ ...parsed, intents: [...parsed.intents, 1, 1, 1] })
    const zod = vi.spyOn(BundleSchema, "safeParse")
    try {
      expect(() => parseBundle(huge, "obj")).toThrow(`obj is not an alloy.bundle/v1 object: intents.${at}: does not match the schema`)
      expect(zod).not.toHaveBeenCalled()
      // an object of ordinary size still gets zod's own words for its first fault
      expect(() => parseBundle(small, "obj")).toThrow(new RegExp(`intents\\.${at}: .*expected object`))
      expect(zod).toHaveBeenCalledTimes(1)
    } finally {
      zod.mockRestore()
    }
  })

  it("a pinned object with a key of a megabyte is refused in a message of a few kilobytes", () => {
    // the key is quoted in zod's words for the fault; it made a 1 MB `verify` line
    const parsed = JSON.parse(bytes.toString("utf8")) as Record<string, Json>
    const canonical = canonicalBytes({ ...parsed, ["k".repeat(1 << 20)]: 1 })
    let message = ""
    try {
      verifyObjectBytes(canonical, { brief_id: p.briefId, digest: digestOf(canonical) }, "obj")
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(/^object obj is not an alloy\.bundle\/v1 object: .*Unrecognized key: "k+… \(\d+ more characters\)$/)
    expect(message.length).toBeLessThan(10_000)
  })

  it("refuses the right bytes under the wrong brief id", () => {
    expect(codeOf(() => verifyObjectBytes(bytes, { brief_id: "other-brief", digest: p.digest }, "obj"))).toBe("brief_id_mismatch")
  })
})
