/** The team store's layout, addresses and credentials as pure rules (no registry needed). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { digestOf } from "../../../src/core/digest.js"
import { EMPTY_BYTES, EMPTY_DIGEST, isLedgerPath, manifestBytes, parseManifest, parseTag, tagOf, type ManifestInput } from "../../../src/team/layout.js"
import { parseStoreUrl } from "../../../src/team/store-url.js"
import { findCredentials } from "../../../src/team/credentials.js"

const hex = (c: string) => c.repeat(64)

describe("layout", () => {
  test("the empty config digest is the digest of {}", () => {
    expect(digestOf(EMPTY_BYTES)).toBe(EMPTY_DIGEST)
  })

  test("tags name records by identity and read back", () => {
    expect(tagOf({ kind: "object", id: hex("a") })).toBe(`object-${hex("a")}`)
    expect(parseTag(`run-${hex("b")}`)).toEqual({ kind: "run", id: hex("b") })
    const t = tagOf({ kind: "evidence", id: "signoffs/x.json" })
    expect(parseTag(t)).toMatchObject({ kind: "evidence" })
    expect(parseTag("latest")).toBeUndefined()
    expect(parseTag(`run-${hex("B")}`)).toBeUndefined()
    expect(t.length).toBeLessThanOrEqual(128)
  })

  test("ledger paths are plain relative names", () => {
    expect(isLedgerPath("signoffs/2026/a.json")).toBe(true)
    for (const bad of ["../x", "/etc/passwd", "a/../b", ".hidden", "a//b", "a/.git/x", "x.tmp", "a\\b", ""]) expect(isLedgerPath(bad), bad).toBe(false)
  })

  const input = (bytes: Buffer, extra: Partial<ManifestInput["annotations"]> = {}): ManifestInput => ({
    kind: "run",
    id: hex("c"),
    blob: { mediaType: "", digest: digestOf(bytes), size: bytes.length },
    annotations: { repository: "acme/notes", machine: "ci-1", sourceCommit: "abc1234", ...extra },
  })

  test("manifests are deterministic: same record and facts, same bytes (concurrent pushers write one manifest)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 20 }), (data, brief) => {
        const b = Buffer.from(data)
        expect(manifestBytes(input(b, { briefId: brief }))).toEqual(manifestBytes(input(b, { briefId: brief })))
      }),
    )
  })

  test("parseManifest reads both shapes and binds the record to its tag", () => {
    const b = Buffer.from('{"x":1}')
    for (const shape of ["oci-1.1", "oras-1.0"] as const) {
      const m = manifestBytes(input(b), shape)
      const p = parseManifest(m, { kind: "run", id: hex("c") })
      expect(typeof p === "string" ? p : p.layer.digest).toBe(digestOf(b))
      expect(parseManifest(m, { kind: "run", id: hex("d") })).toMatch(/another record/)
      expect(parseManifest(m, { kind: "object" })).toMatch(/artifact type/)
    }
    // an object's layer must be the object itself
    const obj = manifestBytes({ kind: "object", id: hex("e"), blob: { mediaType: "", digest: digestOf(b), size: b.length }, annotations: {} })
    expect(parseManifest(obj, { kind: "object", id: hex("e") })).toMatch(/not its name/)
    expect(parseManifest(Buffer.from("nope"), { kind: "run" })).toMatch(/not JSON/)
  })

  test("a capability manifest is named by its digest, like a bundle: its layer must be the manifest itself", () => {
    const b = Buffer.from('{"$type":"alloy.capabilities/v1"}')
    const id = digestOf(b).slice(7)
    expect(tagOf({ kind: "capabilities", id })).toBe(`capabilities-${id}`)
    expect(parseTag(`capabilities-${id}`)).toEqual({ kind: "capabilities", id })
    const good = manifestBytes({ kind: "capabilities", id, blob: { mediaType: "", digest: digestOf(b), size: b.length }, annotations: {} })
    expect(parseManifest(good, { kind: "capabilities", id })).toMatchObject({ kind: "capabilities", id, layer: { mediaType: "application/vnd.opencode-alloy.capabilities.v1+json" } })
    // another blob under a manifest's name, and a bundle's artifact read as a manifest, are refused
    const other = manifestBytes({ kind: "capabilities", id: hex("f"), blob: { mediaType: "", digest: digestOf(b), size: b.length }, annotations: {} })
    expect(parseManifest(other, { kind: "capabilities", id: hex("f") })).toMatch(/capability manifest's layer digest is not its name/)
    const bundle = manifestBytes({ kind: "object", id, blob: { mediaType: "", digest: digestOf(b), size: b.length }, annotations: {} })
    expect(parseManifest(bundle, { kind: "capabilities", id })).toMatch(/artifact type/)
  })
})

describe("store address", () => {
  test("https by default; http only for loopback or when asked", () => {
    expect(parseStoreUrl("oci://ghcr.io/acme/alloy-evidence")).toMatchObject({ base: "https://ghcr.io", repository: "acme/alloy-evidence", plainHttp: false })
    expect(parseStoreUrl("oci://127.0.0.1:5000/team/alloy").base).toBe("http://127.0.0.1:5000")
    expect(parseStoreUrl("oci://localhost:5000/team").base).toBe("http://localhost:5000")
    expect(parseStoreUrl("oci://registry.internal:5000/team").base).toBe("https://registry.internal:5000")
    expect(parseStoreUrl("oci://registry.internal:5000/team", { plainHttp: true }).base).toBe("http://registry.internal:5000")
  })

  test("bad addresses are usage errors, and credentials in them are refused", () => {
    for (const bad of ["https://ghcr.io/acme/x", "oci://ghcr.io", "oci://ghcr.io/Acme/X", "oci://user:pw@ghcr.io/acme/x", "oci://ghcr.io/acme/../x"]) {
      expect(() => parseStoreUrl(bad), bad).toThrow(expect.objectContaining({ code: "usage" }))
    }
  })
})

describe("credentials", () => {
  test("environment first, then the Docker credential file's auths entry for the registry", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "alloy-creds-"))
    try {
      writeFileSync(path.join(dir, "config.json"), JSON.stringify({ auths: { "https://ghcr.io": { auth: Buffer.from("bot:ghp_x:y").toString("base64") }, "other.io": { auth: "xx" } } }))
      expect(findCredentials("ghcr.io", { DOCKER_CONFIG: dir })).toMatchObject({ username: "bot", password: "ghp_x:y" })
      expect(findCredentials("quay.io", { DOCKER_CONFIG: dir })).toBeUndefined()
      expect(findCredentials("ghcr.io", { DOCKER_CONFIG: dir, ALLOY_REGISTRY_USERNAME: "u", ALLOY_REGISTRY_PASSWORD: "p" })).toMatchObject({
        username: "u",
        source: "ALLOY_REGISTRY_USERNAME/ALLOY_REGISTRY_PASSWORD",
      })
      expect(findCredentials("ghcr.io", { DOCKER_CONFIG: dir, ALLOY_REGISTRY_TOKEN: "t" })).toMatchObject({ token: "t" })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
