// TEMPORARY stand-in for `test/helpers/project.ts` (`makePinnedProject`), used by the e2e tests
// until the real helper exists. Delete this file and import from "../helpers/project.js" then.
//
// It copies the shared Foundry sample project into a fresh temp dir (dot-foundry -> .foundry,
// dot-opencode -> .opencode), writes an intent and the `release-note-voice` brief recipe, then
// builds and pins through the BUILT CLI (dist/cli/main.js --json): init, brief build, pin.
import { spawnSync } from "node:child_process"
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { PACKAGE_ROOT, REPO_ROOT } from "./harness.js"

export interface PinnedProject {
  dir: string
  briefId: string
  digest: string
  objectPath: string
  cleanup(): void
}

const BRIEF_ID = "release-note-voice"
const INTENT_ID = "customer-voice"
const CYCLE_ID = "draft-release-note"
const CLI = path.join(PACKAGE_ROOT, "dist", "cli", "main.js")

/** The shared sample project: $ALLOY_SAMPLE_PROJECT, else ../shared/foundry/sample-project beside the repo. */
function sampleProjectDir(): string {
  const candidates = [process.env.ALLOY_SAMPLE_PROJECT, path.resolve(REPO_ROOT, "..", "shared", "foundry", "sample-project")].filter(
    (p): p is string => typeof p === "string" && p.length > 0,
  )
  for (const c of candidates) if (existsSync(path.join(c, "foundry", "cycles"))) return c
  throw new Error(`Foundry sample project not found (tried ${candidates.join(", ")}); set ALLOY_SAMPLE_PROJECT`)
}

function makeWritable(p: string): void {
  const st = statSync(p)
  chmodSync(p, st.isDirectory() ? 0o755 : 0o644)
  if (st.isDirectory()) for (const e of readdirSync(p)) makeWritable(path.join(p, e))
}

function copySample(dest: string): void {
  const src = sampleProjectDir()
  for (const entry of readdirSync(src)) {
    if (entry === "orchestrate-results" || entry === "README.md") continue
    const target = entry === "dot-foundry" ? ".foundry" : entry === "dot-opencode" ? ".opencode" : entry
    cpSync(path.join(src, entry), path.join(dest, target), { recursive: true })
  }
  makeWritable(dest) // the shared copy is read-only
}

const INTENT = `---
id: ${INTENT_ID}
title: Release notes speak to the customer
status: active
goal: Every release note tells a shopper what they gain, in plain words, before it explains how.
constraints:
  - At most 150 words including the title.
  - No internal identifiers (ticket keys, service or flag names).
acceptance_criteria:
  - id: AC-1
    text: The first sentence after the title states what the customer gains.
    evidence:
      kind: law
      passing: The opening sentence names the benefit to the shopper.
      failing: The note opens with layout mechanics or implementation detail.
  - id: AC-2
    text: The note is 150 words or fewer.
    evidence:
      kind: check
      command: node scripts/validators/word-limit.mjs
non_goals:
  - Describing how the feature was built.
---

Customers read release notes in the in-app panel on their phones; the first line decides.
`

const RECIPE = `---
id: ${BRIEF_ID}
title: Release-note voice
intents:
  - ${INTENT_ID}
formation:
  cycles:
    - ${CYCLE_ID}
stages:
  forge: Lead with the shopper's benefit; keep the house style.
---

Voice and acceptance criteria for customer-facing release notes.
`

function cli(dir: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [CLI, ...args, "--json"], { cwd: dir, encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" })
  if (r.error || r.status !== 0) {
    throw new Error(`opencode-alloy ${args.join(" ")} failed (exit ${r.status ?? r.signal}): ${r.error?.message ?? ""}\n${r.stdout}\n${r.stderr}`)
  }
  return JSON.parse(r.stdout) as Record<string, unknown>
}

export async function makePinnedProject(opts: { tamper?: boolean } = {}): Promise<PinnedProject> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``)
  const dir = mkdtempSync(path.join(os.tmpdir(), "alloy-e2e-project-"))
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  try {
    copySample(dir)
    cli(dir, ["init"])
    mkdirSync(path.join(dir, ".alloy", "intents"), { recursive: true })
    mkdirSync(path.join(dir, ".alloy", "briefs"), { recursive: true })
    writeFileSync(path.join(dir, ".alloy", "intents", `${INTENT_ID}.md`), INTENT)
    writeFileSync(path.join(dir, ".alloy", "briefs", `${BRIEF_ID}.md`), RECIPE)
    const built = cli(dir, ["brief", "build", BRIEF_ID]) as { builds?: Array<{ digest?: string }> }
    const digest = built.builds?.[0]?.digest
    if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`brief build gave no digest: ${JSON.stringify(built)}`)
    cli(dir, ["pin", CYCLE_ID, BRIEF_ID])
    const cycleText = readFileSync(path.join(dir, "foundry", "cycles", `${CYCLE_ID}.md`), "utf8")
    if (!cycleText.includes(digest)) throw new Error(`pin did not write ${digest} into the cycle:\n${cycleText}`)
    const objectPath = path.join(dir, ".alloy", "objects", "sha256", `${digest.slice("sha256:".length)}.json`)
    if (!existsSync(objectPath)) throw new Error(`object file missing after build: ${objectPath}`)
    if (opts.tamper) {
      const bytes = readFileSync(objectPath)
      // flip one byte inside the brief text, keeping the file valid UTF-8 JSON
      const i = bytes.indexOf(Buffer.from("shopper"))
      const at = i >= 0 ? i : Math.floor(bytes.length / 2)
      bytes[at] = (bytes[at] as number) ^ 0x01
      chmodSync(objectPath, 0o644)
      writeFileSync(objectPath, bytes)
    }
    return { dir, briefId: BRIEF_ID, digest, objectPath, cleanup }
  } catch (err) {
    cleanup()
    throw err
  }
}
