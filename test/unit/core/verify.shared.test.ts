/**
 * withSharedBundles: inside it each object is parsed once for every reader (the evidence model,
 * then the pin scan), and never at the cost of fail-closed verification: bytes that do not hash to
 * the digest fail there as anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import { verifyObjectBytes, withSharedBundles } from "../../../src/core/verify.js"
import { canonicalBytes, digestOf, normalizeJson } from "../../../src/core/digest.js"
import { makePinnedProject, type PinnedProject } from "../../helpers/project.js"
import { codeOf } from "../../helpers/errors.js"

let p: PinnedProject
let base: Record<string, unknown>
let n = 0

beforeAll(async () => {
  p = await makePinnedProject()
  base = JSON.parse(readFileSync(p.objectPath, "utf8")) as Record<string, unknown>
})
afterAll(() => p.cleanup())

/** A bundle no other test has verified (so no cache of this process holds it): its bytes and pin. */
function fresh() {
  const v = structuredClone(base) as { brief: { title: string } }
  v.brief.title = `${v.brief.title} (variant ${++n})`
  const bytes = canonicalBytes(normalizeJson(v))
  return { bytes, pin: { brief_id: p.briefId, digest: digestOf(bytes) } }
}

describe("withSharedBundles", () => {
  it("a kept bundle is parsed once for every reader in the scope, the scan's keep: false reads too", () => {
    const { bytes, pin } = fresh()
    withSharedBundles(() => {
      const model = verifyObjectBytes(bytes, pin, "obj")
      expect(verifyObjectBytes(bytes, pin, "obj")).toBe(model)
      expect(verifyObjectBytes(Buffer.from(bytes), pin, "obj", { keep: false })).toBe(model)
    })
  })

  it("a keep: false read is not held: the scan's own bundles are dropped as before", () => {
    const { bytes, pin } = fresh()
    withSharedBundles(() => {
      const scanned = verifyObjectBytes(bytes, pin, "obj", { keep: false })
      expect(verifyObjectBytes(bytes, pin, "obj", { keep: false })).not.toBe(scanned)
    })
  })

  it("still fails closed: changed bytes of a held bundle are a digest mismatch", () => {
    const { bytes, pin } = fresh()
    withSharedBundles(() => {
      verifyObjectBytes(bytes, pin, "obj")
      const tampered = Buffer.from(bytes)
      tampered[tampered.length - 2] = tampered[tampered.length - 2]! ^ 0x01
      expect(codeOf(() => verifyObjectBytes(tampered, pin, "obj"))).toBe("digest_mismatch")
      expect(codeOf(() => verifyObjectBytes(bytes, { ...pin, brief_id: "another-brief" }, "obj"))).toBe("brief_id_mismatch")
    })
  })

  it("holds nothing once it returns, and a nested scope shares the outer one", () => {
    const { bytes, pin } = fresh()
    const held = withSharedBundles(() => {
      const outer = verifyObjectBytes(bytes, pin, "obj")
      expect(withSharedBundles(() => verifyObjectBytes(bytes, pin, "obj", { keep: false }))).toBe(outer)
      return outer
    })
    expect(verifyObjectBytes(bytes, pin, "obj", { keep: false })).not.toBe(held)
  })
})
