/**
 * The bridge's request ledger, in the git-ignored outbox:
 *
 *   .alloy/runs/requests/<key>/request.json   what was asked (created once: the claim on the key)
 *   .alloy/runs/requests/<key>/status.json    where it is now (replaced atomically)
 *   .alloy/runs/requests/<key>/result.json    the run result (created once, at the end)
 *   .alloy/runs/requests/<key>/abort          an abort asked for by `runs abort` (created once)
 *   .alloy/runs/requests/<key>/asks/<id>.json     a question, permission or appraisal the run waits on (created once)
 *   .alloy/runs/requests/<key>/answers/<id>.json  its answer, from the terminal or the UI (created once: the first wins)
 *   .alloy/runs/runners/<id>.json             runner registrations (replaced on each heartbeat)
 *
 * The claim is `writeFileOnce` (temp file + link): of two bridges making the same request at the
 * same moment exactly one creates it; the other reads it and attaches.
 */
import { existsSync, readdirSync } from "node:fs"
import path from "node:path"
import { AlloyError } from "../core/errors.js"
import type { z } from "zod"
import { ensureRunsDir, MAX_RECORD_BYTES } from "../store/outbox.js"
import { readCheckedJson, readRegularFile, type CheckedJsonRead } from "../store/read-file.js"
import { makeDirs, writeFileAtomic, writeFileOnce } from "../store/atomic.js"
import {
  ASK_ID_RE,
  AnswerSchema,
  AskSchema,
  REQUEST_TYPE,
  RequestFileSchema,
  RequestResultSchema,
  RequestStatusSchema,
  RunnerSchema,
  fingerprint,
  type Answer,
  type Ask,
  type RequestFile,
  type RequestResult,
  type RequestStatus,
  type RequestSpec,
  type Runner,
} from "./request.js"

/** Is a process of this host still there? (EPERM: it is, under another user) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

export interface LedgerEntry {
  readonly request: RequestFile
  readonly status: RequestStatus | undefined
  readonly result: RequestResult | undefined
}

export class Ledger {
  readonly dir: string
  readonly runnersDir: string

  constructor(readonly root: string) {
    this.dir = path.join(root, ".alloy", "runs", "requests")
    this.runnersDir = path.join(root, ".alloy", "runs", "runners")
  }

  private entryDir(key: string): string {
    return path.join(this.dir, key)
  }

  /**
   * One of the ledger's files, read within the record limit and checked against its schema (bounded,
   * like every file Alloy reads back: a file made of millions of wrong values is one fault). Absent
   * or unreadable: undefined; there but not valid (too large, not JSON, not the schema): malformed.
   */
  private readJson<S extends z.ZodType>(file: string, schema: S): z.output<S> | undefined {
    const malformed = () =>
      new AlloyError("malformed", `${path.relative(this.root, file).split(path.sep).join("/")} is not a valid ${REQUEST_TYPE} file`, {
        fix: "remove the request's folder under .alloy/runs/requests/ to forget it",
      })
    let read: CheckedJsonRead<z.output<S>>
    try {
      read = readCheckedJson(file, MAX_RECORD_BYTES, schema, { followSymlink: true })
    } catch {
      return undefined
    }
    if (read.kind === "absent") return undefined
    if (read.kind === "invalid") throw malformed()
    return read.data
  }

  /**
   * Claim `key` for `spec`. Returns `created: true` for the first caller; a later caller with the
   * same content gets the existing entry; other content under the same key is `idempotency_conflict`.
   */
  claim(key: string, keySource: "content" | "given", spec: RequestSpec, now = new Date()): { created: boolean; entry: LedgerEntry } {
    ensureRunsDir(this.root)
    const dir = this.entryDir(key)
    makeDirs(dir)
    const request: RequestFile = { $type: REQUEST_TYPE, key, key_source: keySource, spec, created_at: now.toISOString() }
    const created = writeFileOnce(path.join(dir, "request.json"), JSON.stringify(request, null, 2) + "\n", 0o444, `.alloy/runs/requests/${key}/request.json`)
    const entry = this.get(key)
    if (!entry) throw new AlloyError("io_error", `the request ${key} could not be read back after it was written`)
    if (!created && fingerprint(entry.request.spec) !== fingerprint(spec)) {
      const was = entry.request.spec
      throw new AlloyError(
        "idempotency_conflict",
        `the idempotency key ${key} already names another request (brief ${was.brief_id} @ ${was.digest.slice(7, 19)}, flow ${was.flow ?? "-"}, goal hash ${was.goal_hash.slice(0, 12)}, base ${was.base_commit.slice(0, 12)})`,
        { fix: "use a new --idempotency-key, or repeat the original request exactly to attach to it" },
      )
    }
    if (created) this.setStatus({ $type: REQUEST_TYPE, key, state: "accepted", updated_at: now.toISOString() })
    return { created, entry: this.get(key) ?? entry }
  }

  get(key: string): LedgerEntry | undefined {
    const dir = this.entryDir(key)
    const request = this.readJson(path.join(dir, "request.json"), RequestFileSchema)
    if (!request) return undefined
    return {
      request,
      status: this.readJson(path.join(dir, "status.json"), RequestStatusSchema),
      result: this.readJson(path.join(dir, "result.json"), RequestResultSchema),
    }
  }

  /** Every request, oldest first; an entry that cannot be read is left out. */
  list(): LedgerEntry[] {
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch {
      return []
    }
    const out: LedgerEntry[] = []
    for (const n of names) {
      if (n.startsWith(".")) continue
      try {
        const e = this.get(n)
        if (e) out.push(e)
      } catch {
        /* a broken entry is not a reason to hide the others */
      }
    }
    return out.sort((a, b) => a.request.created_at.localeCompare(b.request.created_at))
  }

  setStatus(status: RequestStatus): void {
    writeFileAtomic(path.join(this.entryDir(status.key), "status.json"), JSON.stringify(RequestStatusSchema.parse(status), null, 2) + "\n", 0o644, `.alloy/runs/requests/${status.key}/status.json`)
  }

  /** Post the result once; a second post (another bridge got there first) changes nothing. */
  postResult(result: RequestResult): boolean {
    return writeFileOnce(
      path.join(this.entryDir(result.key), "result.json"),
      JSON.stringify(RequestResultSchema.parse(result), null, 2) + "\n",
      0o444,
      `.alloy/runs/requests/${result.key}/result.json`,
    )
  }

  /**
   * Take a queued request to start it: a create-once `start` mark, so of two bridges (or a bridge
   * and `run`) that both see it queued, exactly one starts it. True for the one that took it.
   */
  takeStart(key: string, by: { host: string; pid: number; runner?: string }): boolean {
    return writeFileOnce(path.join(this.entryDir(key), "start"), `${JSON.stringify({ ...by, at: new Date().toISOString() })}\n`, 0o444, `.alloy/runs/requests/${key}/start`)
  }

  /** Who took the start mark, and when (undefined when nobody has, or it cannot be read). */
  startMark(key: string): { host: string; pid: number; at: string } | undefined {
    try {
      // a few bytes when Alloy wrote it: anything past 4 KiB is not a start mark
      const read = readRegularFile(path.join(this.entryDir(key), "start"), 4096, { followSymlink: true })
      if (read.kind !== "ok") return undefined
      const v = JSON.parse(read.bytes.toString("utf8")) as { host?: unknown; pid?: unknown; at?: unknown }
      return typeof v.host === "string" && typeof v.pid === "number" && typeof v.at === "string" ? { host: v.host, pid: v.pid, at: v.at } : undefined
    } catch {
      return undefined
    }
  }

  requestAbort(key: string): boolean {
    return writeFileOnce(path.join(this.entryDir(key), "abort"), new Date().toISOString() + "\n", 0o444, `.alloy/runs/requests/${key}/abort`)
  }

  abortRequested(key: string): boolean {
    return existsSync(path.join(this.entryDir(key), "abort"))
  }

  /** Record what the run waits on (once; a second call for the same id changes nothing). */
  ask(a: Ask): boolean {
    if (!ASK_ID_RE.test(a.id)) throw new AlloyError("malformed", "an ask id must be letters, digits, `_` or `-`")
    const dir = path.join(this.entryDir(a.key), "asks")
    makeDirs(dir)
    return writeFileOnce(path.join(dir, `${a.id}.json`), JSON.stringify(AskSchema.parse(a), null, 2) + "\n", 0o444, `.alloy/runs/requests/${a.key}/asks/${a.id}.json`)
  }

  /**
   * Answer an ask. The first answer wins (created once); returns false when it had been answered
   * already. An answer to an ask that does not exist is refused: nobody would send it anywhere.
   */
  answer(a: Answer): boolean {
    if (!ASK_ID_RE.test(a.id) || !existsSync(path.join(this.entryDir(a.key), "asks", `${a.id}.json`))) {
      throw new AlloyError("usage", `request ${a.key.slice(0, 16)} has no open question ${JSON.stringify(a.id.slice(0, 64))}`, {
        fix: "see the open questions with `opencode-alloy runs requests --json`",
      })
    }
    const dir = path.join(this.entryDir(a.key), "answers")
    makeDirs(dir)
    return writeFileOnce(path.join(dir, `${a.id}.json`), JSON.stringify(AnswerSchema.parse(a), null, 2) + "\n", 0o444, `.alloy/runs/requests/${a.key}/answers/${a.id}.json`)
  }

  answerOf(key: string, id: string): Answer | undefined {
    if (!ASK_ID_RE.test(id)) return undefined
    return this.readJson(path.join(this.entryDir(key), "answers", `${id}.json`), AnswerSchema)
  }

  /** Every ask of a request with its answer (if any), oldest first; an unreadable one is left out. */
  asks(key: string): Array<{ ask: Ask; answer: Answer | undefined }> {
    let names: string[]
    try {
      names = readdirSync(path.join(this.entryDir(key), "asks")).filter((n) => n.endsWith(".json") && !n.startsWith("."))
    } catch {
      return []
    }
    const out: Array<{ ask: Ask; answer: Answer | undefined }> = []
    for (const n of names) {
      try {
        const ask = this.readJson(path.join(this.entryDir(key), "asks", n), AskSchema)
        if (ask) out.push({ ask, answer: this.answerOf(key, ask.id) })
      } catch {
        /* skipped */
      }
    }
    return out.sort((a, b) => a.ask.asked_at.localeCompare(b.ask.asked_at))
  }

  writeRunner(r: Runner): void {
    ensureRunsDir(this.root)
    makeDirs(this.runnersDir)
    writeFileAtomic(path.join(this.runnersDir, `${r.id}.json`), JSON.stringify(RunnerSchema.parse(r), null, 2) + "\n", 0o644, `.alloy/runs/runners/${r.id}.json`)
  }

  runners(): Runner[] {
    let names: string[]
    try {
      names = readdirSync(this.runnersDir).filter((n) => n.endsWith(".json") && !n.startsWith("."))
    } catch {
      return []
    }
    const out: Runner[] = []
    for (const n of names) {
      try {
        const read = readCheckedJson(path.join(this.runnersDir, n), MAX_RECORD_BYTES, RunnerSchema, { followSymlink: true })
        if (read.kind === "ok") out.push(read.data)
      } catch {
        /* skipped: unreadable */
      }
    }
    return out
  }

  /** Find a request by its key or a unique prefix of it (for `runs abort <id>`). */
  find(idOrPrefix: string): LedgerEntry | undefined {
    const exact = /^[A-Za-z0-9._-]{1,64}$/.test(idOrPrefix) ? this.get(idOrPrefix) : undefined
    if (exact) return exact
    const matches = this.list().filter((e) => e.request.key.startsWith(idOrPrefix) || e.status?.session_id === idOrPrefix)
    if (matches.length > 1) throw new AlloyError("usage", `${idOrPrefix} matches ${matches.length} requests`, { fix: "give more characters of the key" })
    return matches[0]
  }
}
