/**
 * Lints every skill shipped in skills/: frontmatter keys OpenCode accepts (name == folder,
 * description 1-1024 characters, metadata a string map), files it points at exist, and every
 * `alloy_*` tool it mentions is registered by the real plugin. Plus: the plugin's config hook
 * registers the folder, and the wizard walks understand -> plan -> confirm -> build.
 */
import { describe, expect, it } from "vitest"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import path from "node:path"
import type { Config } from "@opencode-ai/plugin"
import { parseMarkdown } from "../../../src/core/frontmatter.js"
import { SKILLS_DIR } from "../../../src/plugin/plugin.js"
import { loadPlugin } from "../../helpers/plugin.js"
import { REPO_ROOT } from "../../helpers/project.js"

const DIR = path.join(REPO_ROOT, "skills")
const ALLOWED_KEYS = ["name", "description", "license", "compatibility", "metadata"]
const NAME_RE = /^[a-z0-9]+(-[a-z0-9]+)*$/

const skills = readdirSync(DIR).filter((n) => statSync(path.join(DIR, n)).isDirectory())

function filesOf(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n)
    return statSync(p).isDirectory() ? filesOf(p) : [p]
  })
}

async function registeredTools(): Promise<string[]> {
  return Object.keys((await loadPlugin(REPO_ROOT, { hooks: false })).hooks.tool ?? {})
}

describe("shipped skills", () => {
  it("there are skills, including the wizard and the revise skill", () => {
    expect(skills).toContain("alloy-wizard")
    expect(skills).toContain("alloy-revise")
  })

  it("the plugin registers the skills folder through its config hook", async () => {
    expect(path.resolve(SKILLS_DIR)).toBe(DIR)
    const { hooks } = await loadPlugin(REPO_ROOT, {})
    const config = {} as Config & { skills?: { paths?: string[] } }
    await hooks.config?.(config)
    await hooks.config?.(config)
    expect(config.skills?.paths).toEqual([SKILLS_DIR])
  })

  for (const name of skills) {
    describe(name, () => {
      const file = path.join(DIR, name, "SKILL.md")
      const text = existsSync(file) ? readFileSync(file, "utf8") : ""

      it("has a SKILL.md whose frontmatter uses only keys OpenCode accepts", () => {
        expect(existsSync(file)).toBe(true)
        const { data, body } = parseMarkdown(text, `skills/${name}/SKILL.md`)
        for (const k of Object.keys(data)) expect(ALLOWED_KEYS, `unexpected key ${k}`).toContain(k)
        expect(data["name"]).toBe(name)
        expect(name).toMatch(NAME_RE)
        expect(name.length).toBeLessThanOrEqual(64)
        const d = data["description"]
        expect(typeof d).toBe("string")
        expect((d as string).trim().length).toBeGreaterThan(0)
        expect((d as string).length).toBeLessThanOrEqual(1024)
        for (const k of ["license", "compatibility"]) if (k in data) expect(typeof data[k], k).toBe("string")
        if ("compatibility" in data) expect((data["compatibility"] as string).length).toBeLessThanOrEqual(500)
        if ("metadata" in data) {
          const m = data["metadata"]
          expect(m !== null && typeof m === "object" && !Array.isArray(m)).toBe(true)
          for (const [k, v] of Object.entries(m as Record<string, unknown>)) expect(typeof v, `metadata.${k}`).toBe("string")
        }
        expect(body.trim().length).toBeGreaterThan(200)
      })

      it("mentions only alloy_* tools the plugin registers", async () => {
        const tools = await registeredTools()
        const mentioned = new Set(filesOf(path.join(DIR, name)).flatMap((f) => [...readFileSync(f, "utf8").matchAll(/\balloy_[a-z_]+\b/g)].map((m) => m[0])))
        expect(mentioned.size).toBeGreaterThan(0)
        for (const t of mentioned) expect(tools, `${name} mentions ${t}`).toContain(t)
      })

      it("points only at files that exist in its folder", () => {
        for (const m of text.matchAll(/`([\w./-]+\.md)`/g)) {
          const ref = m[1]!
          if (ref.includes("/") && !ref.startsWith("./")) continue // repository paths such as foundry/cycles/x.md
          expect(existsSync(path.join(DIR, name, ref)), `${name} refers to ${ref}`).toBe(true)
        }
      })
    })
  }

  it("the wizard walks understand -> plan -> confirm -> build and knows the branch rule", () => {
    const t = readFileSync(path.join(DIR, "alloy-wizard", "SKILL.md"), "utf8")
    const order = ["## 1. Understand", "## 2. Plan", "## 3. Confirm", "## 4. Build"].map((h) => t.indexOf(h))
    expect(order.every((i) => i > 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    for (const s of ["alloy_intent_create(", "alloy_brief_build(", "alloy_brief_pin(", "work/*", "config/*", "work_branch", "explicit yes"]) expect(t).toContain(s)
    for (const kind of ["check", "law", "human", "artefact"]) expect(t).toContain(`kind: "${kind}"`)
  })

  it("the revise skill updates, rebuilds and re-pins", () => {
    const t = readFileSync(path.join(DIR, "alloy-revise", "SKILL.md"), "utf8")
    const order = ["alloy_intent_list(", "alloy_intent_update(", "alloy_brief_build(", "alloy_brief_pin("].map((s) => t.indexOf(s))
    expect(order.every((i) => i > 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
  })
})
