import { afterEach, describe, expect, it } from "vitest"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, statSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { AlloyStore } from "../../../src/store/store.js"
import type { AlloyError } from "../../../src/core/errors.js"
import { digestOf } from "../../../src/core/digest.js"
import { writeFileAtomic, writeFileOnce } from "../../../src/store/atomic.js"
import { codeOf } from "../../helpers/errors.js"
import { BRIEF_ID, writeExampleSources } from "../../helpers/project.js"

const dirs: string[] = []
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true })
})
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "alloy-store-"))
  dirs.push(d)
  return d
}

describe("AlloyStore", () => {
  it("init creates the layout and the .gitignore files, idempotently", () => {
    const s = new AlloyStore(tmp())
    const first = s.init()
    expect(first.created).toContain(".alloy/.gitignore")
    expect(readFileSync(path.join(s.dir, ".gitignore"), "utf8")).toMatch(/^runs\/$/m)
    expect(readFileSync(path.join(s.dir, "runs", ".gitignore"), "utf8")).toBe("*\n")
    for (const d of ["intents", "briefs", "objects/sha256", "refs/briefs", "runs"]) expect(existsSync(path.join(s.dir, d))).toBe(true)
    writeFileSync(path.join(s.dir, ".gitignore"), "custom\n")
    expect(s.init().created).toEqual([])
    expect(readFileSync(path.join(s.dir, ".gitignore"), "utf8")).toBe("custom\n")
  })

  it("objects are stored under their digest, read-only, never overwritten, repaired if damaged", () => {
    const s = new AlloyStore(tmp())
    s.init()
    const bytes = Buffer.from('{"a":1}')
    const d = digestOf(bytes)
    expect(s.writeObject(bytes, d).created).toBe(true)
    const file = s.objectFile(d)
    expect(statSync(file).mode & 0o222).toBe(0)
    expect(s.writeObject(bytes, d).created).toBe(false)
    expect(codeOf(() => s.writeObject(Buffer.from("x"), d))).toBe("digest_mismatch")
    rmSync(file)
    writeFileSync(file, "damaged")
    expect(s.writeObject(bytes, d).created).toBe(true)
    expect(readFileSync(file)).toEqual(bytes)
  })

  it("ids are never paths", () => {
    const s = new AlloyStore(tmp())
    for (const id of ["../x", "a/b", "A", "", "x".repeat(65), "a\0b", "-a", "a--b"]) {
      expect(
        codeOf(() => s.refFile(id)),
        id,
      ).toBe("invalid_id")
      expect(
        codeOf(() => s.intentFile(id)),
        id,
      ).toBe("invalid_id")
    }
    expect(codeOf(() => s.objectFile("sha256:../../etc"))).toBe("invalid_digest")
  })

  it("refuses symlinks that lead out of .alloy/, follows ones that stay inside", () => {
    const root = tmp()
    const s = new AlloyStore(root)
    s.init()
    const outside = path.join(root, "outside.txt")
    writeFileSync(outside, `sha256:${"a".repeat(64)}\n`)
    symlinkSync(outside, s.refFile("leak"))
    expect(codeOf(() => s.readRef("leak"))).toBe("unsafe_path")
    writeFileSync(path.join(s.dir, "refs", "briefs", "real"), `sha256:${"b".repeat(64)}\n`)
    symlinkSync(path.join(s.dir, "refs", "briefs", "real"), s.refFile("alias"))
    expect(s.readRef("alias")).toBe(`sha256:${"b".repeat(64)}`)
    // a whole folder pointing outside
    const ext = path.join(root, "ext-objects")
    mkdirSync(ext)
    rmSync(path.join(s.dir, "objects", "sha256"), { recursive: true })
    symlinkSync(ext, path.join(s.dir, "objects", "sha256"))
    const fresh = new AlloyStore(root)
    expect(codeOf(() => fresh.readObject(`sha256:${"c".repeat(64)}`))).toBe("unsafe_path")
    expect(codeOf(() => fresh.writeObject(Buffer.from("{}"), digestOf("{}")))).toBe("unsafe_path")
    expect(readdirSync(ext)).toEqual([])
  })

  it("a folder is proven inside .alloy/ on every read, once per scan inside inOneScan: a swap for a symlink between two reads is refused", () => {
    const root = tmp()
    const s = new AlloyStore(root)
    s.init()
    const bytes = Buffer.from("{}")
    const digest = digestOf(bytes)
    s.writeObject(bytes, digest)
    const ext = path.join(root, "ext-objects")
    mkdirSync(ext)
    writeFileSync(path.join(ext, `${digest.slice(7)}.json`), bytes)
    const objects = path.join(s.dir, "objects", "sha256")
    const swap = () => {
      rmSync(objects, { recursive: true })
      symlinkSync(ext, objects)
    }
    // outside a scan: read, swap, read again (no yield between) — the second read is refused
    expect(s.readObject(digest)).toEqual(bytes)
    swap()
    expect(codeOf(() => s.readObject(digest))).toBe("unsafe_path")
    // a scan proves the folder once: what it read after its first check is what the scan sees...
    rmSync(objects)
    mkdirSync(objects)
    writeFileSync(path.join(objects, `${digest.slice(7)}.json`), bytes)
    expect(s.inOneScan(() => [s.readObject(digest), s.readObject(digest)])).toEqual([bytes, bytes])
    // ...and the next scan checks again
    swap()
    expect(codeOf(() => s.inOneScan(() => s.readObject(digest)))).toBe("unsafe_path")
  })

  it("an intent or recipe read again is parsed again only when its bytes changed, and each caller gets its own copy", () => {
    const root = tmp()
    writeExampleSources(root)
    const s = new AlloyStore(root)
    const first = s.readIntent(BRIEF_ID)
    // a caller that changes what it got changes nothing for the next one
    ;(first.value.acceptance_criteria as unknown[]).length = 0
    ;(first.value as { title: string }).title = "changed by a caller"
    const second = s.readIntent(BRIEF_ID)
    expect(second.value.acceptance_criteria.length).toBeGreaterThan(0)
    expect(second.value.title).not.toBe("changed by a caller")
    expect(second.value).toEqual(new AlloyStore(root).readIntent(BRIEF_ID).value)
    // the same for a copy handed out from what was parsed before
    ;(second.value as { title: string }).title = "changed by another caller"
    expect(s.readIntent(BRIEF_ID).value).toEqual(new AlloyStore(root).readIntent(BRIEF_ID).value)
    // the file changes within the same run of code: the next read sees it
    const file = path.join(root, ".alloy", "intents", `${BRIEF_ID}.md`)
    writeFileSync(file, readFileSync(file, "utf8").replace(/^title: .*$/m, "title: A new title"))
    expect(s.readIntent(BRIEF_ID).value.title).toBe("A new title")
    const recipeFile = path.join(root, ".alloy", "briefs", `${BRIEF_ID}.md`)
    const recipe = s.readRecipe(BRIEF_ID)
    ;(recipe.value.intents as string[]).push("not-an-intent")
    expect(s.readRecipe(BRIEF_ID).value.intents).not.toContain("not-an-intent")
    writeFileSync(recipeFile, readFileSync(recipeFile, "utf8").replace(/^title: .*$/m, "title: Another title"))
    expect(s.readRecipe(BRIEF_ID).value.title).toBe("Another title")
  })

  it("a ref that does not hold a digest is malformed, naming the file and the fix", () => {
    const s = new AlloyStore(tmp())
    s.init()
    writeFileSync(s.refFile("b"), "garbage")
    try {
      s.readRef("b")
      expect.fail("no error")
    } catch (e) {
      expect((e as AlloyError).code).toBe("malformed")
      expect((e as AlloyError).message).toContain(".alloy/refs/briefs/b")
      expect((e as AlloyError).fix).toContain("opencode-alloy brief build b")
    }
  })

  it("refuses oversized files and non-regular files", () => {
    const s = new AlloyStore(tmp())
    s.init()
    writeFileSync(s.intentFile("big"), Buffer.alloc(1024 * 1024 + 1, 0x61))
    expect(codeOf(() => s.readIntent("big"))).toBe("invalid_intent")
    mkdirSync(s.intentFile("dir"))
    expect(codeOf(() => s.readIntent("dir"))).toBe("invalid_intent")
  })
})

describe("atomic writes", () => {
  it("writeFileAtomic replaces content and leaves no temp files", () => {
    const d = tmp()
    const f = path.join(d, "f.txt")
    writeFileAtomic(f, "one")
    writeFileAtomic(f, "two")
    expect(readFileSync(f, "utf8")).toBe("two")
    expect(readdirSync(d)).toEqual(["f.txt"])
  })
  it("writeFileOnce creates exactly once", () => {
    const d = tmp()
    const f = path.join(d, "f.txt")
    expect(writeFileOnce(f, "one")).toBe(true)
    expect(writeFileOnce(f, "two")).toBe(false)
    expect(readFileSync(f, "utf8")).toBe("one")
    expect(readdirSync(d)).toEqual(["f.txt"])
  })
  it("a failed write reports io_error and leaves the old file", () => {
    const d = tmp()
    const f = path.join(d, "missing-dir", "f.txt")
    try {
      writeFileAtomic(f, "x")
      expect.fail("no error")
    } catch (e) {
      expect((e as AlloyError).code).toBe("io_error")
      expect((e as AlloyError).message).toContain("nothing was changed")
    }
  })
})
