import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { parseMarkdown, parseYaml, parseYamlData, setFrontmatterBlock, splitFrontmatter } from "../../../src/core/frontmatter.js"
import { readPinBlock } from "../../../src/core/pin.js"
import type { AlloyError } from "../../../src/core/errors.js"
import { codeOf } from "../../helpers/errors.js"
import { snapshotTree } from "../../helpers/tree.js"
import { readFileSync } from "node:fs"
import { dump as dumpYaml } from "js-yaml"
import path from "node:path"

const D1 = `sha256:${"a".repeat(64)}`
const D2 = `sha256:${"b".repeat(64)}`
const pin = { brief_id: "checkout-redesign", digest: D2 }

describe("splitFrontmatter", () => {
  it("finds the YAML between the first two --- lines", () => {
    const s = splitFrontmatter("---\na: 1\n---\nbody\n---\nmore")!
    expect(s.yaml).toBe("a: 1\n")
    expect(s.body).toBe("body\n---\nmore")
  })
  it("handles CRLF, a BOM and an empty block", () => {
    expect(splitFrontmatter("\uFEFF---\r\na: 1\r\n---\r\nx")!.yaml).toBe("a: 1\r\n")
    expect(splitFrontmatter("---\n---\nx")!.yaml).toBe("")
    expect(splitFrontmatter("no frontmatter")).toBeUndefined()
  })
})

describe("setFrontmatterBlock keeps the rest of the file byte-for-byte", () => {
  it("replaces scalars in a flow block in place, keeping the quoting", () => {
    const text = `---\nid: c\nalloy: { brief_id: old-brief, digest: "sha256:TBD" }  # pinned\nname: C\n---\n\n## Cycle\n`
    const out = setFrontmatterBlock(text, "c.md", "alloy", pin)
    expect(out).toBe(`---\nid: c\nalloy: { brief_id: checkout-redesign, digest: "${D2}" }  # pinned\nname: C\n---\n\n## Cycle\n`)
  })

  it("replaces scalars in a block mapping, keeping comments", () => {
    const text = `---\n# the cycle\nid: c\nalloy:\n  brief_id: old-brief # which brief\n  digest: ${D1}   # 64 hex\nmodels:\n  default: x\n---\nbody\n`
    const out = setFrontmatterBlock(text, "c.md", "alloy", pin)
    expect(out).toBe(`---\n# the cycle\nid: c\nalloy:\n  brief_id: checkout-redesign # which brief\n  digest: ${D2}   # 64 hex\nmodels:\n  default: x\n---\nbody\n`)
  })

  it("appends a block when there is none, and keeps CRLF line endings", () => {
    const text = "---\r\nid: c\r\nname: C\r\n---\r\nbody\r\n"
    const out = setFrontmatterBlock(text, "c.md", "alloy", pin)
    expect(out).toBe(`---\r\nid: c\r\nname: C\r\nalloy:\r\n  brief_id: "checkout-redesign"\r\n  digest: "${D2}"\r\n---\r\nbody\r\n`)
  })

  it("adds a missing key to an existing block", () => {
    const text = `---\nalloy:\n  brief_id: x\nid: c\n---\n`
    const out = setFrontmatterBlock(text, "c.md", "alloy", pin)
    const data = parseMarkdown(out, "c.md").data
    expect(readPinBlock(data, "c.md")).toEqual(pin)
    expect(data["id"]).toBe("c")
  })

  it("replaces a malformed value (scalar, list, null)", () => {
    for (const v of ["42", "[a, b]", "", "'x'"]) {
      const text = `---\nid: c\nalloy: ${v}\nname: C\n---\nbody\n`
      const out = setFrontmatterBlock(text, "c.md", "alloy", pin)
      const data = parseMarkdown(out, "c.md").data
      expect(readPinBlock(data, "c.md")).toEqual(pin)
      expect(data["name"]).toBe("C")
      expect(out.endsWith("\nname: C\n---\nbody\n")).toBe(true)
    }
  })

  it("changes nothing but the pin, for arbitrary other frontmatter and body (property)", () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).filter((k) => k !== "alloy")
    const scalar = fc.oneof(fc.integer(), fc.boolean(), fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,.]{0,20}$/))
    fc.assert(
      fc.property(fc.dictionary(key, scalar, { maxKeys: 6 }), fc.string(), fc.boolean(), (fm, body, withPin) => {
        const lines = Object.entries(fm).map(([k, v]) => `${k}: ${JSON.stringify(v)}  # note on ${k}`)
        if (withPin) lines.splice(Math.floor(lines.length / 2), 0, `alloy: { brief_id: old, digest: "${D1}" }`)
        const text = `---\n${lines.join("\n")}${lines.length ? "\n" : ""}---\n${body}`
        const out = setFrontmatterBlock(text, "c.md", "alloy", pin)
        const after = parseMarkdown(out, "c.md")
        expect(readPinBlock(after.data, "c.md")).toEqual(pin)
        const { alloy: _a, ...rest } = after.data
        expect(rest).toEqual(fm)
        expect(after.body).toBe(body)
        // every original non-pin line survives verbatim
        for (const l of lines.filter((l) => !l.startsWith("alloy:"))) expect(out).toContain(l)
      }),
      { numRuns: 300 },
    )
  })
})

describe("readPinBlock", () => {
  const read = (v: unknown) => readPinBlock({ alloy: v }, "foundry/cycles/c.md", { kind: "cycle", id: "c" })
  it("returns undefined when the cycle is not pinned", () => {
    expect(readPinBlock({ id: "c" }, "c.md")).toBeUndefined()
  })
  it("reads a good pin", () => {
    expect(read({ brief_id: "b", digest: D1 })).toEqual({ brief_id: "b", digest: D1 })
  })
  it("names the file, the key and the fix for each problem", () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [42, "malformed", /key `alloy` must be a mapping/],
      [["x"], "malformed", /found a list/],
      [{ digest: D1 }, "malformed", /alloy\.brief_id` is missing/],
      [{ brief_id: "../x", digest: D1 }, "invalid_id", /alloy\.brief_id` is "\.\.\/x"/],
      [{ brief_id: "b" }, "malformed", /alloy\.digest` is missing/],
      [{ brief_id: "b", digest: "sha256:TBD" }, "invalid_digest", /alloy\.digest` is "sha256:TBD"/],
      [{ brief_id: "b", digest: D1.toUpperCase() }, "invalid_digest", /not "sha256:" \+ 64 lowercase hex/],
    ]
    for (const [v, code, re] of cases) {
      try {
        read(v)
        expect.fail(`no error for ${JSON.stringify(v)}`)
      } catch (e) {
        const err = e as AlloyError
        expect(err.code).toBe(code)
        expect(err.message).toMatch(re)
        // where it happened is data, rendered once by describe()
        expect(err.context.source_file).toBe("foundry/cycles/c.md")
        expect(err.context.field).toMatch(/^alloy/)
        expect(err.describe()).toContain("foundry/cycles/c.md")
        expect(err.fix).toMatch(/opencode-alloy pin c /)
      }
    }
  })
  it("rejects YAML bombs and duplicate keys as malformed", () => {
    const bomb = `---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n---\n`
    expect(codeOf(() => parseMarkdown(bomb, "x.md"))).toBe("malformed")
    expect(codeOf(() => parseMarkdown("---\na: 1\na: 2\n---\n", "x.md"))).toBe("malformed")
    expect(codeOf(() => parseMarkdown(`---\nx: ${"[".repeat(5000)}${"]".repeat(5000)}\n---\n`, "x.md"))).toBe("malformed")
  })
})

describe("parseYamlData: the fast reader agrees with the round-trip parser", () => {
  /** Both readers' answer: the data, or the error code and message. */
  const answer = (read: () => unknown) => {
    try {
      return { data: read() }
    } catch (e) {
      return { error: `${(e as AlloyError).code}: ${(e as Error).message}` }
    }
  }
  const agree = (yaml: string): void => {
    expect(answer(() => parseYamlData(yaml, "f.md"))).toEqual(answer(() => parseYaml(yaml, "f.md").data))
  }

  it("on every frontmatter block in the corpus and the sample project", () => {
    const roots = ["test/corpus", "examples"]
    let n = 0
    for (const r of roots) {
      for (const [rel, kind] of snapshotTree(r)) {
        if (!rel.endsWith(".md") || !kind.startsWith("file:")) continue
        const split = splitFrontmatter(readFileSync(path.join(r, rel), "utf8"))
        if (split) {
          agree(split.yaml)
          n++
        }
      }
    }
    expect(n).toBeGreaterThan(40)
  })

  it("on plain scalars of every core type, as values and as keys", () => {
    const scalars = [
      "~",
      "null",
      "Null",
      "NULL",
      "",
      "true",
      "True",
      "TRUE",
      "yes",
      "no",
      "on",
      "y",
      "0",
      "-0",
      "+12",
      "007",
      "0o17",
      "0o8",
      "0x1F",
      "0X1F",
      "0b101",
      "1_000",
      "1.5",
      ".5",
      "5.",
      "1e3",
      "1E-3",
      "+.inf",
      "-.Inf",
      ".NaN",
      ".nan",
      "nan",
      "2001-12-14",
      "12:30",
      "1:2",
      "sha256:abc",
      "a b",
      "'q'",
      '"d"',
      "[a, b]",
      "{a: 1}",
      "[]",
      "{}",
    ]
    for (const s of scalars) {
      agree(`k: ${s}\n`)
      agree(`${s}: v\n`)
      agree(`list:\n  - ${s}\n`)
      agree(`flow: [${s}]\n`)
    }
  })

  it("on generated YAML-like text (property)", () => {
    const token = fc.constantFrom(
      "a",
      "b",
      "id",
      "alloy",
      "brief_id",
      "1",
      "~",
      "true",
      "0x1F",
      "1.5",
      ":",
      ": ",
      "- ",
      "  ",
      "\t",
      "#",
      " # c",
      "'",
      '"',
      "[",
      "]",
      "{",
      "}",
      ",",
      "|",
      ">",
      "&x",
      "*x",
      "!t",
      "<<",
      "?",
      "\n",
      "\n  ",
      "\n- ",
      "é",
      "\\",
      "...",
      "---",
    )
    fc.assert(
      fc.property(fc.array(token, { maxLength: 24 }), (tokens) => agree(tokens.join(""))),
      { numRuns: 1000 },
    )
  })

  it("on nested mappings and lists written by a YAML dumper, at every indent (property)", () => {
    const word = fc.constantFrom("a", "x y", "1", "0x1F", "1.5", "true", "null", "~", "", "it's", 'say "hi"', "a: b", "- x", "#c", "é", "sha256:ab", "[x]", "{y}", "a\\b")
    const key = fc.constantFrom("id", "alloy", "brief_id", "digest", "targets", "1", "true", "a-b", "a.b", "x y", "a:b")
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        word,
        fc.integer({ min: -5, max: 5 }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(key, tie("node"), { maxKeys: 3 }),
      ),
    })).node
    fc.assert(
      fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 4 }), fc.constantFrom(1, 2, 3, 4), fc.boolean(), fc.constantFrom(-1, 1, 2), (data, indent, noArrayIndent, flowLevel) => {
        agree(dumpYaml(data, { indent, noArrayIndent, flowLevel, lineWidth: -1 }))
      }),
      { numRuns: 1500 },
    )
  })

  it("on generated line-structured YAML, the shape of Foundry's definitions (property)", () => {
    const scalar = fc.constantFrom(
      "a",
      "x y",
      "1",
      "-1",
      "0o7",
      "0x1F",
      "1.5",
      "1e3",
      ".inf",
      ".nan",
      "~",
      "null",
      "true",
      "False",
      "sha256:ab",
      "a:b",
      "'s'",
      "'it''s'",
      '"d"',
      '"e\\u0301"',
      '"a\\"b"',
      "[a, b]",
      "[]",
      "{}",
      "[ 'q', \"r\" ]",
      "{ a: b }",
      "{a: 1}",
      '{ brief_id: x, digest: "sha256:ab" }',
      "{ a: 'q', b: ~ }",
      "{ a: b, a: c }",
      "{ 1: x }",
      "{ a: [b] }",
      "a # c",
      "é",
      "-x",
      "@x",
      "`x`",
    )
    const line = fc.tuple(
      fc.constantFrom("", " ", "  ", "    "),
      fc.constantFrom("", "- "),
      fc.option(fc.constantFrom("id", "alloy", "brief_id", "digest", "targets", "1", "true", "null", "a-b", "a.b"), { nil: undefined }),
      fc.option(scalar, { nil: undefined }),
    )
    fc.assert(
      fc.property(fc.array(line, { maxLength: 10 }), (lines) => {
        agree(lines.map(([indent, dash, key, value]) => `${indent}${dash}${key !== undefined ? `${key}:` : ""}${value !== undefined ? `${key !== undefined ? " " : ""}${value}` : ""}`).join("\n"))
      }),
      { numRuns: 1000 },
    )
  })
})
