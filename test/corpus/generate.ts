/**
 * Test-time setup for the bad-input corpus: a pinned copy of the sample project per case, the
 * placement of a case's data file, and the generators for inputs too big, binary or structural
 * to commit (50 MB files, invalid UTF-8, NUL bytes, 10,000-character ids, YAML bombs, deep
 * nesting, symlinks out of `.alloy/`, FIFOs).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs"
import { rm } from "node:fs/promises"
import { execFileSync } from "node:child_process"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { makePinnedProject } from "../helpers/project.js"
import { AlloyContext } from "../../src/service/context.js"
import { buildBrief } from "../../src/service/build.js"
import { canonicalBytes, digestOf } from "../../src/core/digest.js"
import { setFrontmatterBlock } from "../../src/core/frontmatter.js"

export const CORPUS_DIR = path.dirname(fileURLToPath(import.meta.url))
export const BRIEF = "release-note-voice"
export const CYCLE = "draft-release-note"
export const FLOW = "release-notes"
export const CYCLE_FILE = `foundry/cycles/${CYCLE}.md`
export const FLOW_FILE = `foundry/flows/${FLOW}.md`
export const RECIPE_FILE = `.alloy/briefs/${BRIEF}.md`
export const REF_FILE = `.alloy/refs/briefs/${BRIEF}`
/** a well-formed digest no object in any test project has */
export const OTHER_DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`

export const MB = 1024 * 1024
export const LONG_ID = "a".repeat(10_000)

export type Via = "cli" | "tool" | "hook"
export type Kind = "object" | "ref" | "recipe" | "cycle" | "flow" | "foundry-output" | "pin-args" | "id"

export interface CorpusCase {
  readonly id: string
  readonly kind: Kind
  /** what the case sets up, in words */
  readonly setup: string
  /** a committed data file (relative to test/corpus/) placed at the kind's target */
  readonly data?: string
  /** a generator below, run at test time */
  readonly generate?: string
  /** pin-args: the tool arguments */
  readonly args?: Record<string, string>
  /** id: the hostile id (or `generate: "long-id"`) */
  readonly value?: string
  /** CLI argument lists to run instead of the kind's default probes */
  readonly cli?: string[][]
  /** tool calls to make instead of the kind's default probes: [tool, args] */
  readonly tools?: Array<[string, Record<string, unknown>]>
  readonly expect: {
    /** the stable error code; null where the right answer is "no error" (pass-through, repair) */
    readonly code: string | null
    readonly via: Via[]
    /** strings every error message must contain (the file, key or cycle it is about) */
    readonly mentions?: string[]
    /**
     * what the after-hook must do with Foundry's output: block (fail closed), leave it byte-for-byte,
     * add Alloy's context (Foundry's text kept), or either of the last two (never anything else)
     */
    readonly hook?: "blocked" | "blocked-id" | "unchanged" | "injected" | "either"
  }
  /**
   * run only through the built binary, each probe in a child process with a time limit (inputs
   * that could hang the process reading them, such as a FIFO where a file should be)
   */
  readonly binaryOnly?: boolean
  /**
   * a bug the corpus found that is not fixed yet: that test is expected to fail (it.fails) until it
   * is. Keys: "cli", "tool", "hook" (every probe of that entry point), or one probe: "cli:<argv
   * template>" (e.g. "cli:show {{PIN}}"), "tool:<tool name>".
   */
  readonly knownIssue?: Record<string, string>
}

export interface CaseProject {
  /** the temp root: holds `project/` and `outside/` (symlink targets), removed by cleanup */
  readonly root: string
  readonly dir: string
  readonly outside: string
  /** the digest the example brief builds to (the ref and, unless the case changes it, the cycle's pin) */
  readonly digest: string
  /** the digest the cycle pins after setup */
  pin: string
  /** for foundry-output cases: what `output.output` holds (normally the data file's text) */
  output?: unknown
  abs(rel: string): string
  /** remove the temp root (in the background: deleting files is slow on some disks; see settleCleanups) */
  cleanup(): void
}

const pendingCleanups: Array<Promise<void>> = []

/** Wait for every background cleanup (call once in the test file's afterAll). */
export async function settleCleanups(): Promise<void> {
  while (pendingCleanups.length) await pendingCleanups.pop()
}

let template: { dir: string; digest: string; cleanup(): void } | undefined

/** A pinned sample project, built once per test file and copied for every case. */
export async function corpusTemplate(): Promise<{ dir: string; digest: string; cleanup(): void }> {
  if (!template) {
    const p = await makePinnedProject()
    // only what Alloy reads stays: fewer files to copy per case (recordings, docs and outputs go)
    for (const rel of ["orchestrate-results", "README.md", "briefs", "release-notes", ".opencode"]) rmSync(path.join(p.dir, rel), { recursive: true, force: true })
    template = { dir: p.dir, digest: p.digest, cleanup: p.cleanup }
  }
  return template
}

export async function freshProject(): Promise<CaseProject> {
  const t = await corpusTemplate()
  const root = mkdtempSync(path.join(os.tmpdir(), "alloy-corpus-"))
  const dir = path.join(root, "project")
  const outside = path.join(root, "outside")
  cpSync(t.dir, dir, { recursive: true })
  mkdirSync(outside)
  return {
    root,
    dir,
    outside,
    digest: t.digest,
    pin: t.digest,
    abs: (rel: string) => path.join(dir, rel),
    cleanup: () => void pendingCleanups.push(rm(root, { recursive: true, force: true }).catch(() => undefined)),
  }
}

export function objectRel(digest: string): string {
  return `.alloy/objects/sha256/${digest.slice("sha256:".length)}.json`
}

/**
 * Replace the placeholders in a data file's text or a case's arguments: `{{DIGEST}}` (the example
 * brief's digest), `{{DIGEST_HEX}}` (its bare hex), `{{DIGEST_UPPER}}` (the hex in upper case),
 * `{{DIGEST_UPPER_FULL}}` (`sha256:` + upper-case hex), `{{OTHER_DIGEST}}` (well-formed, no object).
 */
export function fillPlaceholders(text: string, p: Pick<CaseProject, "digest">): string {
  const hex = p.digest.slice("sha256:".length)
  return text
    .replaceAll("{{DIGEST_UPPER_FULL}}", `sha256:${hex.toUpperCase()}`)
    .replaceAll("{{DIGEST_UPPER}}", hex.toUpperCase())
    .replaceAll("{{DIGEST_HEX}}", hex)
    .replaceAll("{{OTHER_DIGEST}}", OTHER_DIGEST)
    .replaceAll("{{DIGEST}}", p.digest)
}

/** Overwrite a file (objects are read-only on disk: remove first). */
export function put(p: CaseProject, rel: string, bytes: string | Uint8Array): void {
  const f = p.abs(rel)
  rmSync(f, { recursive: true, force: true })
  mkdirSync(path.dirname(f), { recursive: true })
  writeFileSync(f, bytes)
}

function read(p: CaseProject, rel: string): Buffer {
  return readFileSync(p.abs(rel))
}

/** The file a case of each kind replaces. */
export function targetOf(kind: Kind, p: CaseProject): string | undefined {
  switch (kind) {
    case "object":
      return objectRel(p.pin)
    case "ref":
      return REF_FILE
    case "recipe":
      return RECIPE_FILE
    case "cycle":
      return CYCLE_FILE
    case "flow":
      return FLOW_FILE
    default:
      return undefined
  }
}

/** Remove the cycle's own `alloy` block, so that the flow's block applies to it. */
export function dropCyclePin(p: CaseProject): void {
  const text = read(p, CYCLE_FILE).toString("utf8")
  const next = text.replace(/^alloy:.*\n/m, "")
  if (next === text) throw new Error("the template cycle has no one-line alloy block to remove")
  put(p, CYCLE_FILE, next)
}

/** Point the cycle's pin (and the brief's ref) at `digest`, the way `pin` writes it. */
function repin(p: CaseProject, digest: string): void {
  const text = read(p, CYCLE_FILE).toString("utf8")
  put(p, CYCLE_FILE, setFrontmatterBlock(text, CYCLE_FILE, "alloy", { brief_id: BRIEF, digest }))
  put(p, REF_FILE, `${digest}\n`)
  p.pin = digest
}

/** Store bytes as an object under their own sha256 (so the digest check passes) and pin them. */
function storeAndPin(p: CaseProject, bytes: Buffer): void {
  const digest = digestOf(bytes)
  put(p, objectRel(digest), bytes)
  repin(p, digest)
}

/** Insert lines right after the opening `---` of a Markdown file's frontmatter. */
function intoFrontmatter(text: string, lines: string): string {
  if (!text.startsWith("---\n")) throw new Error("expected frontmatter")
  return `---\n${lines}${text.slice(4)}`
}

const YAML_BOMB = ["lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]", ...Array.from({ length: 8 }, (_, i) => `lol${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(", ")}]`), ""].join("\n")
const DEEP_YAML = `deep: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`
const DEEP_JSON = `${"[".repeat(10_000)}${"]".repeat(10_000)}`
const INVALID_UTF8 = Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80])

/**
 * Grow a file to 50 MB after its own bytes. The file is sparse (no 50 MB write to a slow disk):
 * its size is 50 MB for every check, and a reader that reads it all gets the bytes, then NULs.
 */
function grow50(p: CaseProject, rel: string): void {
  const f = p.abs(rel)
  const bytes = readFileSync(f)
  put(p, rel, bytes)
  truncateSync(f, 50 * MB)
}

function withFrontmatterLines(p: CaseProject, rel: string, lines: string): void {
  put(p, rel, intoFrontmatter(read(p, rel).toString("utf8"), lines))
}

function symlinkOut(p: CaseProject, rel: string): void {
  const f = p.abs(rel)
  const dest = path.join(p.outside, path.basename(f))
  renameSync(f, dest)
  symlinkSync(dest, f)
}

function mkfifo(p: CaseProject, rel: string): void {
  const f = p.abs(rel)
  rmSync(f, { force: true })
  execFileSync("mkfifo", [f])
}

/** Generators by name. Each changes the project in place. */
export const GENERATORS: Record<string, (p: CaseProject) => void> = {
  // ---- objects: the bytes behind the pinned digest ----
  "object-truncate": (p) => put(p, objectRel(p.pin), read(p, objectRel(p.pin)).subarray(0, 200)),
  "object-flip-byte": (p) => {
    const b = read(p, objectRel(p.pin))
    b[10] = b[10]! ^ 0x01
    put(p, objectRel(p.pin), b)
  },
  "object-empty": (p) => put(p, objectRel(p.pin), ""),
  "object-delete": (p) => rmSync(p.abs(objectRel(p.pin))),
  "object-50mb": (p) => grow50(p, objectRel(p.pin)),
  "object-invalid-utf8": (p) => {
    const b = read(p, objectRel(p.pin))
    put(p, objectRel(p.pin), Buffer.concat([b.subarray(0, 50), INVALID_UTF8, b.subarray(50)]))
  },
  "object-nul": (p) => {
    const b = read(p, objectRel(p.pin))
    put(p, objectRel(p.pin), Buffer.concat([b.subarray(0, 50), Buffer.from([0]), b.subarray(51)]))
  },
  "object-deep-nesting": (p) => put(p, objectRel(p.pin), DEEP_JSON),
  "object-symlink-outside": (p) => symlinkOut(p, objectRel(p.pin)),
  "objects-dir-symlink-outside": (p) => symlinkOut(p, ".alloy/objects"),
  "object-directory": (p) => {
    rmSync(p.abs(objectRel(p.pin)))
    mkdirSync(p.abs(objectRel(p.pin)))
  },
  "object-fifo": (p) => mkfifo(p, objectRel(p.pin)),
  // bytes that hash to the pin (stored under their own digest) but are not a canonical bundle
  "object-valid-hash-not-json": (p) => storeAndPin(p, Buffer.from("this is not JSON\n")),
  "object-valid-hash-wrong-schema": (p) => storeAndPin(p, canonicalBytes({ $type: "alloy.bundle/v1", brief: { id: BRIEF } })),
  "object-valid-hash-not-canonical": (p) => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(read(p, objectRel(p.digest)).toString("utf8")), null, 2))
    storeAndPin(p, pretty)
  },
  "object-valid-hash-deep-nesting": (p) => storeAndPin(p, Buffer.from(DEEP_JSON)),
  "object-valid-hash-other-type": (p) => {
    const b = JSON.parse(read(p, objectRel(p.digest)).toString("utf8")) as Record<string, unknown>
    storeAndPin(p, canonicalBytes({ ...b, $type: "alloy.bundle/v2" }))
  },

  // ---- refs ----
  "ref-50mb": (p) => grow50(p, REF_FILE),
  "ref-nul": (p) => put(p, REF_FILE, Buffer.concat([read(p, REF_FILE).subarray(0, 20), Buffer.from([0]), read(p, REF_FILE).subarray(20)])),
  "ref-invalid-utf8": (p) => put(p, REF_FILE, Buffer.concat([Buffer.from("sha256:"), INVALID_UTF8, Buffer.from("\n")])),
  "ref-symlink-outside": (p) => symlinkOut(p, REF_FILE),
  "refs-dir-symlink-outside": (p) => symlinkOut(p, ".alloy/refs"),
  "ref-directory": (p) => {
    rmSync(p.abs(REF_FILE))
    mkdirSync(p.abs(REF_FILE))
  },
  "ref-other-brief": (p) => {
    // a second brief, built: the example brief's ref then names the other brief's object
    const ctx = new AlloyContext(p.dir)
    const text = read(p, RECIPE_FILE).toString("utf8").replace(`id: ${BRIEF}\n`, "id: other-brief\n").replace("title: Customer-facing release notes", "title: Other")
    put(p, ".alloy/briefs/other-brief.md", text)
    const built = buildBrief(ctx, "other-brief")
    put(p, REF_FILE, `${built.digest}\n`)
  },

  // ---- recipes ----
  "recipe-50mb": (p) => grow50(p, RECIPE_FILE),
  "recipe-invalid-utf8": (p) => put(p, RECIPE_FILE, Buffer.concat([read(p, RECIPE_FILE), INVALID_UTF8])),
  "recipe-nul": (p) => put(p, RECIPE_FILE, Buffer.concat([read(p, RECIPE_FILE), Buffer.from("\0\n")])),
  "recipe-yaml-bomb": (p) => withFrontmatterLines(p, RECIPE_FILE, YAML_BOMB),
  "recipe-deep-nesting": (p) => withFrontmatterLines(p, RECIPE_FILE, DEEP_YAML),
  "recipe-intent-long-id": (p) => put(p, RECIPE_FILE, read(p, RECIPE_FILE).toString("utf8").replace(`  - ${BRIEF}\nformation`, `  - ${LONG_ID}\nformation`)),
  "recipe-symlink-outside": (p) => symlinkOut(p, RECIPE_FILE),
  "briefs-dir-symlink-outside": (p) => symlinkOut(p, ".alloy/briefs"),
  "recipe-fifo": (p) => mkfifo(p, RECIPE_FILE),

  // ---- cycles ----
  "cycle-brief-id-long": (p) =>
    put(
      p,
      CYCLE_FILE,
      read(p, CYCLE_FILE)
        .toString("utf8")
        .replace(/^alloy:.*$/m, `alloy: { brief_id: ${LONG_ID}, digest: "${p.digest}" }`),
    ),
  "cycle-yaml-bomb": (p) => withFrontmatterLines(p, CYCLE_FILE, YAML_BOMB),
  "cycle-deep-nesting": (p) => withFrontmatterLines(p, CYCLE_FILE, DEEP_YAML),
  "cycle-invalid-utf8": (p) => put(p, CYCLE_FILE, Buffer.concat([read(p, CYCLE_FILE), INVALID_UTF8])),
  "cycle-nul": (p) => put(p, CYCLE_FILE, Buffer.concat([read(p, CYCLE_FILE), Buffer.from("\0\n")])),
  "cycle-50mb": (p) => grow50(p, CYCLE_FILE),

  // ---- flows (the cycle's own block is removed first, see setupCase) ----
  "flow-yaml-bomb": (p) => {
    put(p, FLOW_FILE, fillPlaceholders(readFileSync(path.join(CORPUS_DIR, "flows/valid-pin.md"), "utf8"), p))
    withFrontmatterLines(p, FLOW_FILE, YAML_BOMB)
  },
  "flow-invalid-utf8": (p) => {
    put(p, FLOW_FILE, Buffer.concat([Buffer.from(fillPlaceholders(readFileSync(path.join(CORPUS_DIR, "flows/valid-pin.md"), "utf8"), p)), INVALID_UTF8]))
  },
  "flow-ambiguous": (p) => {
    // two flows reach the cycle with different pins, and no WORK.md says which flow runs
    put(p, FLOW_FILE, fillPlaceholders(readFileSync(path.join(CORPUS_DIR, "flows/valid-pin.md"), "utf8"), p))
    put(
      p,
      "foundry/flows/hotfix-notes.md",
      `---\nid: hotfix-notes\nname: Hotfix notes\nstarting-cycles:\n  - ${CYCLE}\nalloy:\n  brief_id: ${BRIEF}\n  digest: "${OTHER_DIGEST}"\n---\n\n## Cycles\n\n- \`${CYCLE}\`\n`,
    )
    rmSync(p.abs("WORK.md"))
  },

  // ---- Foundry outputs generated at test time ----
  "output-huge-prompt": (p) => {
    const d = JSON.parse(readFileSync(path.join(CORPUS_DIR, "foundry-output/dispatch-forge.json"), "utf8")) as Record<string, unknown>
    p.output = JSON.stringify({ ...d, prompt: `${String(d["prompt"])}\n${"x".repeat(50 * MB)}` })
  },
  "output-deep-nesting": (p) => {
    p.output = DEEP_JSON
  },
  "output-deep-nesting-in-dispatch": (p) => {
    const text = readFileSync(path.join(CORPUS_DIR, "foundry-output/action-unknown.json"), "utf8")
    p.output = `${text.slice(0, -1)},"extra":${DEEP_JSON}}`
  },
  "output-cycle-line-long": (p) => {
    const d = JSON.parse(readFileSync(path.join(CORPUS_DIR, "foundry-output/dispatch-forge.json"), "utf8")) as Record<string, unknown>
    p.output = JSON.stringify({ ...d, prompt: String(d["prompt"]).replace(`Cycle: ${CYCLE}`, `Cycle: ${LONG_ID}`), stage: `forge:${LONG_ID}` })
  },
  "output-invalid-utf8": (p) => {
    // what OpenCode hands over after decoding invalid bytes: U+FFFD in the Cycle line
    const d = JSON.parse(readFileSync(path.join(CORPUS_DIR, "foundry-output/dispatch-forge.json"), "utf8")) as Record<string, unknown>
    const bad = new TextDecoder().decode(Buffer.concat([Buffer.from(CYCLE), INVALID_UTF8]))
    p.output = JSON.stringify({ ...d, prompt: String(d["prompt"]).replace(`Cycle: ${CYCLE}`, `Cycle: ${bad}`) })
  },
  "output-not-a-string": (p) => {
    p.output = { action: "dispatch", prompt: `Cycle: ${CYCLE}` }
  },
  "output-undefined": (p) => {
    p.output = undefined
  },

  // ---- ids: the value is made by idValue(), nothing to change in the project ----
  "long-id": () => undefined,
}

/** The hostile id of an `id` case. */
export function idValue(c: CorpusCase): string {
  if (c.value !== undefined) return c.value
  if (c.generate === "long-id") return LONG_ID
  throw new Error(`case ${c.id}: an id case needs \`value\` or \`generate: "long-id"\``)
}

/** Set up one case in a fresh pinned project. */
export async function setupCase(c: CorpusCase): Promise<CaseProject> {
  const p = await freshProject()
  try {
    if (c.kind === "flow") dropCyclePin(p)
    if (c.data !== undefined) {
      const raw = readFileSync(path.join(CORPUS_DIR, c.data))
      const text = raw.toString("utf8")
      const bytes = text.includes("{{") ? Buffer.from(fillPlaceholders(text, p)) : raw
      if (c.kind === "foundry-output") p.output = bytes.toString("utf8")
      else {
        const target = targetOf(c.kind, p)
        if (!target) throw new Error(`case ${c.id}: kind ${c.kind} takes no data file`)
        put(p, target, bytes)
      }
    }
    if (c.generate !== undefined) {
      const g = GENERATORS[c.generate]
      if (!g) throw new Error(`case ${c.id}: unknown generator ${c.generate}`)
      g(p)
    }
    return p
  } catch (e) {
    p.cleanup()
    throw e
  }
}
