/**
 * Fail closed on every path a pinned cycle can take (issue #11): when the hook cannot establish
 * whether a cycle is pinned — its definition, the cycles folder or the pinning flow file cannot be
 * read, or the process has no file descriptor left — a pinned dispatch is `blocked` with the reason
 * and the fix, never passed through. Each case runs the BUILT plugin in a child process:
 *
 *   - unreadable files for real: as a non-root user (the tests run as root in CI, so the child is
 *     started with `setpriv` as uid/gid 65534 on a project it owns; chmod does not stop root),
 *     both before the first dispatch (cold) and after a dispatch that filled the pin cache (warm);
 *   - EMFILE for real: the child runs under `ulimit -n 256` and opens /dev/null until it gets
 *     EMFILE, then runs the hook (cold and warm).
 */
import { afterEach, describe, expect, it } from "vitest"
import { spawnSync } from "node:child_process"
import { chmodSync, existsSync, writeFileSync } from "node:fs"
import path from "node:path"
import { makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { pinBrief } from "../../src/service/pin.js"
import { forgeDispatch } from "../helpers/recordings.js"
import { setAlloyLine } from "../helpers/project.js"
import { assertBuilt, DIST, WORKERS_DIR } from "./store-check.js"
import { skipNote } from "../helpers/skip.js"

const WORKER = path.join(WORKERS_DIR, "pin-lookup.mjs")
const isRoot = process.getuid?.() === 0
const canSetpriv = isRoot && existsSync("/usr/bin/setpriv")
/** a non-root identity for the child: nobody, when we are root; ourselves otherwise */
const asUser = canSetpriv ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : []
/**
 * Why the non-root cases cannot run here, if they cannot: no way to drop root, or a checkout that
 * user cannot reach (cloned into a private folder, such as one `mktemp -d` makes), where the child
 * could not even load the worker and the built plugin.
 */
function nonRootBlocker(): string | undefined {
  if (isRoot && !canSetpriv) return "needs setpriv to run the child as a non-root user"
  if (!canSetpriv) return undefined
  const readable = (f: string) => spawnSync(asUser[0]!, [...asUser.slice(1), "/usr/bin/test", "-r", f], { timeout: 30_000 }).status === 0
  return readable(path.join(WORKERS_DIR, "pin-lookup.mjs")) && readable(path.join(DIST, "index.js")) ? undefined : "needs the checkout readable by a non-root user (a folder above it is private)"
}
const nonRoot = nonRootBlocker()

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

async function project(opts: { viaFlow?: boolean } = {}): Promise<{ p: PinnedProject; dispatch: string }> {
  assertBuilt("index.js")
  const p = await makePinnedProject()
  cleanups.push(() => {
    spawnSync("chmod", ["-R", "u+rwX", path.dirname(p.dir)], { timeout: 30_000 })
    p.cleanup()
  })
  if (opts.viaFlow) {
    // the cycle has no block of its own; its flow pins it
    setAlloyLine(p.dir, p.cycle, "x-unpinned: true")
    pinBrief(p.ctx, { flow: "release-notes", brief_id: p.briefId })
  }
  const dispatch = path.join(path.dirname(p.dir), "dispatch.json")
  writeFileSync(dispatch, JSON.stringify(forgeDispatch()))
  if (canSetpriv) spawnSync("chown", ["-R", "65534:65534", path.dirname(p.dir)], { timeout: 30_000 })
  return { p, dispatch }
}

interface Run {
  warm?: string
  result: Record<string, any>
  logs: string[]
}

function runWorker(dir: string, dispatch: string, flags: string[], opts: { user?: boolean; ulimit?: number; env?: NodeJS.ProcessEnv } = {}): Run {
  const node = [process.execPath, WORKER, dir, dispatch, ...flags]
  const cmd = [...(opts.user ? asUser : []), ...node]
  const r = opts.ulimit
    ? spawnSync("bash", ["-c", `ulimit -n ${opts.ulimit} && exec "$@"`, "bash", ...cmd], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...opts.env } })
    : spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...opts.env } })
  const line = (k: string) =>
    r.stdout
      .split("\n")
      .find((l) => l.startsWith(`${k} `))
      ?.slice(k.length + 1)
  const result = line("result")
  if (result === undefined) throw new Error(`worker failed (status ${r.status}): ${r.stderr.slice(0, 2000)}`)
  return { warm: line("warm"), result: JSON.parse(result), logs: JSON.parse(line("logs") ?? "[]") }
}

function expectBlocked(r: Run, cycle: string): void {
  expect(r.result["action"], JSON.stringify(r.result).slice(0, 400)).toBe("blocked")
  expect(r.result["cycle"]).toBe(cycle)
  expect(r.result["reason"]).toMatch(new RegExp(`^Alloy: cycle ${cycle}`))
  expect(r.result["reason"]).toMatch(/Fix: /)
  expect(r.result["prompt"]).toBeUndefined()
  expect(r.result["alloy"]["code"]).toBe("io_error")
}

const UNREADABLE = [
  { name: "the cycle's definition file", target: (p: PinnedProject) => `foundry/cycles/${p.cycle}.md`, viaFlow: false, mention: /permission denied|EACCES/i },
  { name: "the cycles folder", target: () => "foundry/cycles", viaFlow: false, mention: /permission denied|EACCES/i },
  { name: "the flow file that pins the cycle", target: () => "foundry/flows/release-notes.md", viaFlow: true, mention: /permission denied|EACCES/i },
  { name: "the flows folder (the cycle is pinned through its flow)", target: () => "foundry/flows", viaFlow: true, mention: /permission denied|EACCES/i },
]

describe.skipIf(nonRoot !== undefined)(`a pinned dispatch is blocked when the pin cannot be looked up (non-root user)${skipNote(nonRoot)}`, () => {
  for (const u of UNREADABLE) {
    it(`${u.name} unreadable before the first dispatch → blocked`, async () => {
      const { p, dispatch } = await project({ viaFlow: u.viaFlow })
      // the pin is real: with everything readable the same dispatch gets Alloy's block
      const ok = runWorker(p.dir, dispatch, [], { user: true })
      expect(ok.result["alloy"]?.["verified"]).toBe(true)
      chmodSync(path.join(p.dir, u.target(p)), 0)
      const r = runWorker(p.dir, dispatch, [], { user: true })
      expectBlocked(r, p.cycle)
      expect(r.result["reason"]).toMatch(u.mention)
    })

    it(`${u.name} made unreadable after a dispatch filled the pin cache → blocked`, async () => {
      const { p, dispatch } = await project({ viaFlow: u.viaFlow })
      const r = runWorker(p.dir, dispatch, ["warm"], { user: true, env: { ALLOY_BREAK: u.target(p) } })
      expect(JSON.parse(r.warm!)["alloy"]["verified"]).toBe(true)
      expectBlocked(r, p.cycle)
    })
  }
})

describe("a pinned dispatch is blocked when the process has no file descriptor left (EMFILE)", () => {
  for (const viaFlow of [false, true]) {
    it(`cold${viaFlow ? ", pinned through the flow" : ""}`, async () => {
      const { p, dispatch } = await project({ viaFlow })
      const r = runWorker(p.dir, dispatch, ["exhaust"], { ulimit: 256 })
      expectBlocked(r, p.cycle)
      expect(r.result["reason"]).toMatch(/EMFILE|too many open files/i)
    })
    it(`warm (the pin cache is filled first)${viaFlow ? ", pinned through the flow" : ""}`, async () => {
      const { p, dispatch } = await project({ viaFlow })
      const r = runWorker(p.dir, dispatch, ["warm", "exhaust"], { ulimit: 256 })
      expect(JSON.parse(r.warm!)["alloy"]["verified"]).toBe(true)
      expect(r.result["action"]).toBe("blocked")
      expect(r.result["reason"]).toMatch(/EMFILE|too many open files/i)
    })
  }
})
