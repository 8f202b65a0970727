/** Capability manifests as content-addressed files in the outbox: create-once, checked on read, refused when not canonical. */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { encodeCapabilities, decodeCapabilities, type Capabilities } from "../../../src/core/capabilities.js"
import { digestOf } from "../../../src/core/digest.js"
import { capabilitiesDir, listCapabilities, readCapabilities, storeCapabilities } from "../../../src/store/capabilities.js"
import { makeProject, type TestProject } from "../../helpers/project.js"

const manifest: Capabilities = {
  $type: "alloy.capabilities/v1",
  source: "files",
  opencode: { version: null },
  foundry: { version: "3.6.0", generation: "orchestrate-3.6" },
  tools: [],
  agents: ["foundry-b", "foundry-a"],
  stage_kinds: ["forge"],
  features: [],
}

let p: TestProject | undefined
afterEach(() => p?.cleanup())

describe("capability manifest files", () => {
  test("stored under their digest once, inside the git-ignored outbox, and read back checked", () => {
    p = makeProject()
    const { bytes, digest } = encodeCapabilities(manifest)
    expect(storeCapabilities(p.dir, bytes, digest)).toBe(true)
    expect(storeCapabilities(p.dir, bytes, digest)).toBe(false) // create-once
    expect(readFileSync(path.join(p.dir, ".alloy", "runs", ".gitignore"), "utf8").trim()).toBe("*")
    expect(listCapabilities(p.dir)).toEqual([digest])
    expect(readCapabilities(p.dir, digest)?.manifest.agents).toEqual(["foundry-a", "foundry-b"])
    // a file whose bytes changed is no manifest any more (and is not rewritten by a later store)
    const file = path.join(capabilitiesDir(p.dir), `${digest.slice(7)}.json`)
    writeFileSync(file, bytes.toString("utf8").replace("3.6.0", "3.6.1"))
    expect(readCapabilities(p.dir, digest)).toBeUndefined()
    expect(storeCapabilities(p.dir, bytes, digest)).toBe(false)
    expect(readFileSync(file, "utf8")).toContain("3.6.1")
  })

  test("bytes that are not the canonical manifest of their digest are refused with digest_mismatch and nothing is written", () => {
    p = makeProject()
    const { bytes, digest } = encodeCapabilities(manifest)
    const pretty = Buffer.from(JSON.stringify(JSON.parse(bytes.toString("utf8")), null, 2))
    expect(decodeCapabilities(pretty, digestOf(pretty))).toMatch(/canonical/)
    expect(() => storeCapabilities(p!.dir, pretty)).toThrow(expect.objectContaining({ code: "digest_mismatch" }))
    expect(() => storeCapabilities(p!.dir, bytes, `sha256:${"0".repeat(64)}`)).toThrow(expect.objectContaining({ code: "digest_mismatch" }))
    const notOne = Buffer.from('{"$type":"alloy.run/v1"}')
    expect(decodeCapabilities(notOne, digestOf(notOne))).toMatch(/not an alloy.capabilities\/v1 manifest/)
    expect(existsSync(capabilitiesDir(p.dir))).toBe(false)
    expect(decodeCapabilities(bytes, digest)).toMatchObject({ foundry: { generation: "orchestrate-3.6" } })
  })
})
