/**
 * Test projects: a copy of the shared sample Foundry project (or the embedded example when
 * ../shared is absent) in a fresh temp folder, optionally with the example intent and brief
 * written, built and pinned through the real store and services.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, cpSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach } from "vitest"
import { copyExampleProject, EXAMPLE_ALLOY_DIR, EXAMPLE_PROJECT_DIR } from "../../src/demo/example-project.js"
import { AlloyContext } from "../../src/service/context.js"
import { buildBrief } from "../../src/service/build.js"
import { pinBrief } from "../../src/service/pin.js"

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
/** `../shared/foundry/sample-project` beside the repository, when present. */
export const SHARED_SAMPLE = path.resolve(REPO_ROOT, "..", "shared", "foundry", "sample-project")
export const SAMPLE_DIR = existsSync(SHARED_SAMPLE) ? SHARED_SAMPLE : EXAMPLE_PROJECT_DIR
export const RECORDINGS_DIR = path.join(SAMPLE_DIR, "orchestrate-results")

export const BRIEF_ID = "release-note-voice"
export const CYCLE_ID = "draft-release-note"

/** The example project's second cycle, and the second intent the multi-cycle tests scope to it. */
export const CONDENSE_CYCLE_ID = "condense-changelog-entry"

/** An intent for the changelog cycle: a law criterion and a check criterion running `command`. */
export function changelogIntent(command: string): string {
  return `---
id: changelog-line
title: The changelog entry is one line a developer can scan
status: active
goal: Every release adds one changelog line that names the change and links the release note.
acceptance_criteria:
  - id: AC-1
    text: The changelog entry is a single line of at most 120 characters.
    evidence:
      kind: law
  - id: AC-2
    text: The changelog entry links the release note by its path.
    evidence:
      kind: check
      command: ${command}
---
`
}

/** `formation.scope` giving each intent its own cycle of the example flow. */
export const TWO_CYCLE_SCOPE = `  scope:
    ${BRIEF_ID}: [${CYCLE_ID}]
    changelog-line: [${CONDENSE_CYCLE_ID}]
`

/** The example brief over both intents and both cycles of the release-notes flow; `scope` and `extra` are frontmatter lines. */
export function twoCycleRecipe(scope: string, extra = ""): string {
  return `---
id: ${BRIEF_ID}
title: Customer-facing release notes
intents:
  - ${BRIEF_ID}
  - changelog-line
formation:
  flow: release-notes
  cycles:
    - ${CYCLE_ID}
    - ${CONDENSE_CYCLE_ID}
${scope}${extra}---
`
}

export interface TestProject {
  readonly dir: string
  readonly ctx: AlloyContext
  cleanup(): void
}

export function makeProject(prefix = "alloy-test-"): TestProject {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix))
  const dir = path.join(root, "project")
  copyExampleProject(dir, { from: SAMPLE_DIR })
  return { dir, ctx: new AlloyContext(dir), cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

/** Write the example intent and brief recipe into a project's `.alloy/` (after `init`). */
export function writeExampleSources(dir: string): void {
  const ctx = new AlloyContext(dir)
  ctx.store.init()
  for (const sub of ["intents", "briefs"]) {
    mkdirSync(path.join(dir, ".alloy", sub), { recursive: true })
    cpSync(path.join(EXAMPLE_ALLOY_DIR, sub), path.join(dir, ".alloy", sub), { recursive: true })
  }
}

export interface PinnedProject extends TestProject {
  readonly briefId: string
  readonly cycle: string
  readonly digest: string
  /** absolute path of the pinned object file */
  readonly objectPath: string
}

export async function makePinnedProject(opts: { tamper?: boolean } = {}): Promise<PinnedProject> {
  const p = makeProject()
  writeExampleSources(p.dir)
  const built = buildBrief(p.ctx, BRIEF_ID)
  pinBrief(p.ctx, { cycle: CYCLE_ID, brief_id: BRIEF_ID })
  const objectPath = path.join(p.dir, built.object!)
  if (opts.tamper) flipByte(objectPath, 10)
  return { ...p, briefId: BRIEF_ID, cycle: CYCLE_ID, digest: built.digest, objectPath }
}

/** Flip one bit of the byte at `offset` (objects are read-only on disk; rewrite in place). */
export function flipByte(file: string, offset: number): void {
  const bytes = readFileSync(file)
  bytes[offset] = bytes[offset]! ^ 0x01
  rmSync(file, { force: true })
  writeFileSync(file, bytes)
}

/** Replace the (one-line) `alloy:` block of a cycle file, or add one. */
export function setAlloyLine(dir: string, cycle: string, line: string): void {
  const file = path.join(dir, "foundry", "cycles", `${cycle}.md`)
  const text = readFileSync(file, "utf8")
  const next = /^alloy:.*$/m.test(text) ? text.replace(/^alloy:.*$/m, line) : text.replace(/\n---\n/, `\n${line}\n---\n`)
  writeFileSync(file, next)
}

export interface Scratch {
  /** a pinned copy of the sample project, removed after the test */
  pinned(opts?: { tamper?: boolean }): Promise<PinnedProject>
  /** a plain copy of the sample project, removed after the test */
  project(prefix?: string): TestProject
  /** anything else to undo after the test (last in, first out) */
  defer(fn: () => unknown): void
}

/** Self-cleaning test projects: call once at the top of a test file. */
export function scratch(): Scratch {
  const undo: Array<() => unknown> = []
  afterEach(() => {
    while (undo.length) undo.pop()!()
  })
  return {
    async pinned(opts) {
      const p = await makePinnedProject(opts)
      undo.push(p.cleanup)
      return p
    },
    project(prefix) {
      const p = makeProject(prefix)
      undo.push(p.cleanup)
      return p
    },
    defer(fn) {
      undo.push(fn)
    },
  }
}
