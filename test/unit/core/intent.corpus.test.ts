/**
 * The bad-intent corpus (issue #4): every case in test/corpus/intents/manifest.json must give its
 * stable error code with a clear message (names the file and the fields, no stack frames, no
 * machine paths, bounded) through every entry point, and write nothing:
 *   - CLI `intent new corpus-case --from <file>` (nothing may appear anywhere in the project),
 *   - CLI `intent lint` and tool `alloy_intent_list({id})` on the file placed in .alloy/intents/,
 *   - tool `alloy_intent_create` with the frontmatter mapping as arguments (where it parses).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import path from "node:path"

import { MAX_SOURCE_BYTES, parseMarkdown } from "../../../src/core/frontmatter.js"
import { ERROR_CODES } from "../../../src/core/errors.js"
import { makeProject, REPO_ROOT, type TestProject } from "../../helpers/project.js"
import { snapshotTree } from "../../helpers/tree.js"
import { runCli, type CliResult } from "../../helpers/cli.js"
import { loadPlugin, type LoadedPlugin } from "../../helpers/plugin.js"

interface Case {
  id: string
  file?: string
  generate?: string
  code: string
  tool_code?: string
  mentions: string[]
}

const CORPUS = path.join(REPO_ROOT, "test", "corpus", "intents")
const manifest = JSON.parse(readFileSync(path.join(CORPUS, "manifest.json"), "utf8")) as { cases: Case[] }
const ID = "corpus-case"

function generate(kind: string): Buffer {
  const head = `---\nid: ${ID}\ntitle: Generated\nstatus: draft\ngoal: A generated case.\n---\n`
  switch (kind) {
    case "huge":
      return Buffer.concat([Buffer.from(head), Buffer.alloc(MAX_SOURCE_BYTES + 16, 0x78)])
    case "binary": {
      const b = Buffer.alloc(4096)
      for (let i = 0; i < b.length; i++) b[i] = (i * 131 + 7) % 256
      return b
    }
    case "invalid-utf8":
      return Buffer.concat([Buffer.from(`---\nid: ${ID}\ntitle: `), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from("\nstatus: draft\ngoal: g\n---\n")])
    case "empty":
      return Buffer.alloc(0)
    case "alias-bomb": {
      const lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
      for (let i = 1; i < 9; i++)
        lines.push(
          `a${i}: &a${i} [${Array(10)
            .fill(`*a${i - 1}`)
            .join(", ")}]`,
        )
      lines.push(`id: ${ID}`, "---", "")
      return Buffer.from(lines.join("\n"))
    }
    case "deep-nesting":
      return Buffer.from(`---\nid: ${ID}\nmetadata: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n---\n`)
    case "long-text":
      return Buffer.from(`---\nid: ${ID}\ntitle: Long\nstatus: draft\ngoal: "${"word ".repeat(1_900)}"\n---\n`)
    default:
      throw new Error(`unknown generator ${kind}`)
  }
}

const bytesOf = (c: Case) => (c.file ? readFileSync(path.join(CORPUS, c.file)) : generate(c.generate!))

function expectClear(msg: unknown, c: Case, p: TestProject, where: string): string {
  expect(typeof msg, `${c.id} ${where}: message is text`).toBe("string")
  const m = msg as string
  expect(m, `${c.id} ${where}: no stack frames`).not.toMatch(/\n\s+at .+:\d+:\d+/)
  expect(m.includes(p.dir), `${c.id} ${where}: no machine path`).toBe(false)
  expect(m.length, `${c.id} ${where}: bounded`).toBeLessThan(4_000)
  for (const s of c.mentions) expect(m, `${c.id} ${where}: mentions ${s}`).toContain(s)
  return m
}

let project: TestProject
let plugin: LoadedPlugin
const drafts = () => path.join(path.dirname(project.dir), "drafts")

const cli = (argv: string[]): Promise<CliResult> => runCli(project.dir, ...argv)

// called without OpenCode's argument check: the tool must still refuse bad data
const callTool = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => (await plugin.tool(name, args, { checkArgs: false })).json

beforeAll(async () => {
  project = makeProject("alloy-intent-corpus-")
  mkdirSync(drafts(), { recursive: true })
  plugin = await loadPlugin(project.dir, { hooks: false })
})
afterAll(() => project?.cleanup())

describe("bad-intent corpus", () => {
  it("covers every kind the issue names, with known codes", () => {
    const ids = manifest.cases.map((c) => c.id)
    for (const kind of ["wrong-types", "missing-fields", "duplicate-ac-ids", "unknown-status", "id-path", "id-not-slug", "huge", "binary"]) expect(ids).toContain(kind)
    for (const c of manifest.cases) {
      expect(ERROR_CODES).toContain(c.code)
      if (c.tool_code) expect(ERROR_CODES).toContain(c.tool_code)
      if (c.file) expect(existsSync(path.join(CORPUS, c.file)), c.file).toBe(true)
    }
    expect(new Set(ids).size).toBe(ids.length)
  })

  for (const c of manifest.cases) {
    it(`${c.id}: clear ${c.code} from the CLI, lint and tools; nothing written`, async () => {
      rmSync(path.join(project.dir, ".alloy"), { recursive: true, force: true })
      const name = `${c.id}.md`
      writeFileSync(path.join(drafts(), name), bytesOf(c))
      const before = snapshotTree(project.dir)

      // 1. intent new --from
      const r = await cli(["intent", "new", ID, "--from", `../drafts/${name}`, "--json"])
      expect(r.code, `${c.id}: exit code`).toBe(1)
      const j = JSON.parse(r.out) as Record<string, unknown>
      expect(j["ok"]).toBe(false)
      expect(j["code"], `${c.id}: code via CLI`).toBe(c.code)
      const msg = expectClear(`${j["error"]}${JSON.stringify(j["details"] ?? "")}`, c, project, "cli")
      expect(msg, `${c.id}: names the file`).toContain(name)
      const text = await cli(["intent", "new", ID, "--from", `../drafts/${name}`])
      expect(text.code).toBe(1)
      expect(text.err).toContain(`opencode-alloy intent new`)
      expect(snapshotTree(project.dir), `${c.id}: nothing written by intent new`).toEqual(before)

      // 2. tool create with the frontmatter mapping, when the file parses to one
      let data: Record<string, unknown> | undefined
      let body = ""
      try {
        const parsed = parseMarkdown(bytesOf(c).toString("utf8"), name)
        data = parsed.data
        body = parsed.body
      } catch {
        data = undefined
      }
      if (data && Object.keys(data).length && !c.generate?.match(/huge|binary|invalid-utf8/)) {
        const t = await callTool("alloy_intent_create", { ...data, body })
        expect(t["ok"], `${c.id}: tool refuses`).toBe(false)
        expect(t["code"], `${c.id}: code via tool`).toBe(c.tool_code ?? c.code)
        if (!c.tool_code) expectClear(`${t["error"]}${JSON.stringify(t["details"] ?? "")}`, c, project, "tool")
        expect(snapshotTree(project.dir), `${c.id}: nothing written by the tool`).toEqual(before)
      }

      // 3. the file placed in .alloy/intents/: lint and the list tool report it
      mkdirSync(path.join(project.dir, ".alloy", "intents"), { recursive: true })
      copyFileSync(path.join(drafts(), name), path.join(project.dir, ".alloy", "intents", `${ID}.md`))
      const placed = snapshotTree(project.dir)
      const lint = await cli(["intent", "lint", ID, "--json"])
      expect(lint.code, `${c.id}: lint exit code`).toBe(1)
      const lj = JSON.parse(lint.out) as { ok: boolean; entries: Array<{ error?: { code: string; message: string } }> }
      expect(lj.ok).toBe(false)
      expect(lj.entries[0]?.error?.code, `${c.id}: code via lint`).toBe("invalid_intent")
      expect(lj.entries[0]?.error?.message).toContain(`.alloy/intents/${ID}.md`)
      const listed = await callTool("alloy_intent_list", { id: ID })
      expect(listed["ok"]).toBe(false)
      expect(listed["code"], `${c.id}: code via alloy_intent_list`).toBe("invalid_intent")
      const all = await callTool("alloy_intent_list", {})
      expect(all["ok"], `${c.id}: listing all still works`).toBe(true)
      expect(snapshotTree(project.dir), `${c.id}: lint and list write nothing`).toEqual(placed)
    })
  }
})
