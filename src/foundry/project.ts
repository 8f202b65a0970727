/**
 * Read-only view of a Foundry project through its files (CONTRACTS.md §1–3): cycles, flows,
 * `WORK.md`, `foundry/VERSION`, the current git branch, and the Alloy pin that applies to a
 * cycle (its own `alloy` block, else the block of the flow it belongs to).
 */
import { readFileSync, readdirSync, statSync } from "node:fs"
import path from "node:path"
import { AlloyError, describeIoError } from "../core/errors.js"
import { assertFoundryId, isFoundryId } from "../core/ids.js"
import { unknownNameFix } from "../core/nearest.js"
import { decodeText, parseMarkdown, MAX_SOURCE_BYTES } from "../core/frontmatter.js"
import { readFileBounded } from "../store/read-file.js"
import { readPinBlock, type LocatedPin } from "../core/pin.js"
import { reachableCycles } from "./flow-graph.js"

export interface Definition {
  readonly id: string
  readonly file: string
  readonly data: Record<string, unknown>
  readonly body: string
  readonly text: string
}

/**
 * What the pin cache compares to decide a file is unchanged: device, inode, size, and the
 * modification and change times in nanoseconds. A re-pin that keeps size and mtime still changes
 * the ctime (and, written atomically, the inode). `absent` when the file does not exist.
 */
type Stamp = string

function stamp(abs: string): Stamp {
  try {
    const st = statSync(abs, { bigint: true })
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.mode}`
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return "absent"
    // cannot tell whether it changed: the caller must not use a cached answer
    throw e
  }
}

export class FoundryProject {
  readonly root: string
  private readonly pinCache = new Map<string, { stamps: Stamp[]; pin: LocatedPin | undefined }>()

  constructor(root: string) {
    this.root = path.resolve(root)
  }

  abs(rel: string): string {
    return path.join(this.root, rel)
  }

  isFoundryProject(): boolean {
    try {
      return statSync(this.abs("foundry")).isDirectory()
    } catch {
      return false
    }
  }

  /** A cycle's definition file. Any id Foundry accepts, validated as one file name (never a path). */
  cycleRel(id: string): string {
    return `foundry/cycles/${assertFoundryId(id, "cycle id")}.md`
  }
  flowRel(id: string): string {
    return `foundry/flows/${assertFoundryId(id, "flow id")}.md`
  }

  /**
   * Definition ids in a folder. A missing folder has none; any other failure to list it (EACCES,
   * EMFILE...) is an `io_error`, never an empty list: the hooks must not conclude "no pin" from a
   * folder they could not read.
   */
  private listIds(dir: string): string[] {
    let names: string[]
    try {
      names = readdirSync(this.abs(dir))
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === "ENOENT" || code === "ENOTDIR") return []
      throw new AlloyError("io_error", `could not list ${dir}/: ${describeIoError(e)}`, { file: dir })
    }
    return names
      .filter((n) => n.endsWith(".md"))
      .map((n) => n.slice(0, -3))
      .filter(isFoundryId)
      .sort()
  }

  listCycleIds(): string[] {
    return this.listIds("foundry/cycles")
  }
  listFlowIds(): string[] {
    return this.listIds("foundry/flows")
  }

  readText(rel: string): string | undefined {
    const bytes = readFileBounded(this.abs(rel), MAX_SOURCE_BYTES, rel, { followSymlink: true, what: "a definition file" })
    return bytes === undefined ? undefined : decodeText(bytes, rel)
  }

  private readDefinition(rel: string, id: string, kind: "cycle" | "flow"): Definition {
    const text = this.readText(rel)
    if (text === undefined) {
      throw new AlloyError("cycle_not_found", `${kind} ${id} does not exist (${rel})`, {
        fix: unknownNameFix(id, kind === "cycle" ? this.listCycleIds() : this.listFlowIds(), { kind }),
      })
    }
    const { data, body } = parseMarkdown(text, rel)
    return { id, file: rel, data, body, text }
  }

  readCycle(id: string): Definition {
    return this.readDefinition(this.cycleRel(id), id, "cycle")
  }
  readFlow(id: string): Definition {
    return this.readDefinition(this.flowRel(id), id, "flow")
  }

  /**
   * Cycles of a flow: its starting cycles and every cycle reachable through `targets`. A cycle
   * that does not exist ends its branch; a cycle that cannot be read or parsed throws, because
   * the cycles behind it (and so the flow's pin) would be unknown.
   */
  cyclesOfFlow(flowId: string): string[] {
    const flow = this.readFlow(flowId)
    const start = Array.isArray(flow.data["starting-cycles"]) ? (flow.data["starting-cycles"] as unknown[]).filter(isFoundryId) : []
    return reachableCycles(start, (c) => {
      let targets: unknown
      try {
        targets = this.readCycle(c).data["targets"]
      } catch (e) {
        if (e instanceof AlloyError && e.code === "cycle_not_found") return []
        throw e
      }
      return Array.isArray(targets) ? targets.filter(isFoundryId) : []
    }).sort()
  }

  /** `WORK.md` frontmatter (flow, cycle, stages...) when a flow is running, else undefined. */
  readWork(): { flow?: string; cycle?: string; data: Record<string, unknown> } | undefined {
    let text: string | undefined
    try {
      text = this.readText("WORK.md")
    } catch {
      return undefined
    }
    if (text === undefined) return undefined
    try {
      const { data } = parseMarkdown(text, "WORK.md")
      const flow = isFoundryId(data["flow"]) ? (data["flow"] as string) : undefined
      const cycle = isFoundryId(data["cycle"]) ? (data["cycle"] as string) : undefined
      return { ...(flow ? { flow } : {}), ...(cycle ? { cycle } : {}), data }
    } catch {
      return undefined
    }
  }

  /** Installed Foundry version as written by Foundry in `foundry/VERSION`. */
  version(): string | undefined {
    try {
      const v = readFileSync(this.abs("foundry/VERSION"), "utf8").trim()
      return v.length > 0 && v.length < 64 ? v : undefined
    } catch {
      return undefined
    }
  }

  /** The checked-out branch, read from git's HEAD (works in worktrees); undefined when detached or not a repo. */
  currentBranch(): string | undefined {
    try {
      let gitDir = this.abs(".git")
      const st = statSync(gitDir)
      if (st.isFile()) {
        const m = /^gitdir:\s*(.+)\s*$/m.exec(readFileSync(gitDir, "utf8"))
        if (!m) return undefined
        gitDir = path.resolve(this.root, m[1]!.trim())
      }
      const head = readFileSync(path.join(gitDir, "HEAD"), "utf8").trim()
      const m = /^ref:\s*refs\/heads\/(.+)$/.exec(head)
      return m ? m[1] : undefined
    } catch {
      return undefined
    }
  }

  /** Is the repository on a Foundry flow branch (work/* or dry-run/x/y), where only Foundry may change files? */
  onFlowBranch(): string | undefined {
    const b = this.currentBranch()
    return b && (b.startsWith("work/") || /^dry-run\/[^/]+\/[^/]+$/.test(b)) ? b : undefined
  }

  /** The pin a cycle carries itself (undefined when none); malformed blocks throw, naming file and key. */
  ownPin(cycleId: string): LocatedPin | undefined {
    const def = this.readCycle(cycleId)
    const pin = readPinBlock(def.data, def.file, { kind: "cycle", id: cycleId })
    return pin ? { ...pin, source: { kind: "cycle", id: cycleId, file: def.file } } : undefined
  }

  flowPin(flowId: string): LocatedPin | undefined {
    const def = this.readFlow(flowId)
    const pin = readPinBlock(def.data, def.file, { kind: "flow", id: flowId })
    return pin ? { ...pin, source: { kind: "flow", id: flowId, file: def.file } } : undefined
  }

  /**
   * The pin that applies to a cycle: its own block, else the block of the flow it belongs to
   * (the running flow from WORK.md first; otherwise the one flow with a pin that reaches it).
   * Fails closed: anything that cannot be read on the way (the cycle, the cycles or flows folder,
   * a flow, a cycle reachable from a flow) throws instead of answering "not pinned".
   */
  pinForCycle(cycleId: string): LocatedPin | undefined {
    const own = this.ownPin(cycleId)
    if (own) return own
    const flows = this.listFlowIds()
    const work = this.readWork()
    if (work?.flow && flows.includes(work.flow) && this.cyclesOfFlow(work.flow).includes(cycleId)) {
      const p = this.flowPin(work.flow)
      if (p) return p
    }
    const candidates: LocatedPin[] = []
    for (const f of flows) {
      // which cycles a flow reaches is read first: a flow that does not reach this cycle is not
      // consulted, and one that does applies its block, broken or not
      if (!this.cyclesOfFlow(f).includes(cycleId)) continue
      const p = this.flowPin(f)
      if (p) candidates.push(p)
    }
    const distinct = new Set(candidates.map((p) => `${p.brief_id}@${p.digest}`))
    if (distinct.size > 1) {
      throw new AlloyError("ambiguous_pin", `cycle ${cycleId} has no alloy block of its own and belongs to flows with different pins: ${candidates.map((p) => p.source.id).join(", ")}`, {
        fix: `pin the cycle itself: \`opencode-alloy pin ${cycleId} <brief-id>\``,
      })
    }
    return candidates[0]
  }

  /**
   * Cached `pinForCycle` for the hooks: re-read when the cycle file, a flow file, WORK.md or the
   * folders changed in any way (device, inode, size, mtime and ctime in nanoseconds, mode). One
   * stat per file on a hit, no YAML parsing. A file that cannot be stat'ed is never a hit.
   */
  pinForCycleCached(cycleId: string): LocatedPin | undefined {
    const rels = [this.cycleRel(cycleId), "WORK.md", "foundry/cycles", "foundry/flows", ...this.listFlowIds().map((f) => this.flowRel(f))]
    let stamps: Stamp[]
    try {
      stamps = rels.map((r) => `${r}=${stamp(this.abs(r))}`)
    } catch (e) {
      throw new AlloyError("io_error", `could not check the cycle's definition files for changes: ${describeIoError(e)}`)
    }
    const hit = this.pinCache.get(cycleId)
    if (hit && hit.stamps.length === stamps.length && hit.stamps.every((s, i) => s === stamps[i])) return hit.pin
    const pin = this.pinForCycle(cycleId)
    this.pinCache.set(cycleId, { stamps, pin })
    return pin
  }
}
