/**
 * What a person sees of a bridge run: on a TTY one compact status line rewritten in place
 * (stage, iteration, elapsed, open questions) with notable events printed above it; otherwise
 * plain lines; with `--json` one JSON object per event. Questions and permission requests are
 * asked on the terminal and answered from the next line of standard input.
 */
import { createInterface, type Interface } from "node:readline"
import type { PermissionRequest, QuestionRequest } from "@opencode-ai/sdk/v2/client"
import type { BridgeEvent, RunUi } from "./run.js"
import { duration } from "../evidence/events.js"

export interface ProgressIo {
  out(s: string): void
  err(s: string): void
  readonly json: boolean
  readonly tty: boolean
  /** raw write to the terminal (for the in-place line); only used when tty */
  write?(s: string): void
  input?: NodeJS.ReadableStream
}

/** One line per event for the plain view (also what the TTY view prints above its status line). */
export function describeEvent(e: BridgeEvent): string | undefined {
  switch (e.type) {
    case "request":
      return `request ${e.key}: ${e.state}${e.replay ? " (already finished; showing its result)" : e.attached ? " (attached to the existing request)" : ""}`
    case "session":
      return `session ${e.session} in ${e.worktree} (agent ${e.agent}, Foundry ${e.generation} generation)`
    case "tool":
      return e.status === "completed" || e.status === "error" ? `${e.tool} ${e.status}${e.stage ? ` stage ${e.stage}` : ""}${e.action ? ` → ${e.action}` : ""}` : undefined
    case "question":
      return e.questions.map((q) => `QUESTION ${q.header}: ${q.question}${q.options.length ? `\n  ${q.options.map((o, i) => `${i + 1}) ${o}`).join("  ")}` : ""}`).join("\n")
    case "permission":
      return `PERMISSION ${e.permission} ${e.patterns.join(" ")} — answer once, always or reject`
    case "appraisal":
      return `HUMAN APPRAISAL of ${e.artefact || "the artefact"} (${e.stage}${e.feedback ? `, ${e.feedback} open feedback item${e.feedback === 1 ? "" : "s"}` : ""}): 1) approve  2) reject — or write feedback to reject with`
    case "answered":
      return `answered ${e.ask} ${e.id} (${e.by}): ${e.answers === null ? "dismissed" : e.answers.map((a) => a.join(", ")).join(" / ")}`
    case "heartbeat":
      return undefined
    case "stream":
      return e.state === "dropped" ? "event stream dropped; reconnecting (completion is checked by polling)" : undefined
    case "result": {
      const r = e.result
      const recs = r.stage_records.map((s) => `${s.stage} (${s.outcome})`).join(", ") || "none"
      return `result: ${r.state}${r.terminal_action ? ` — Foundry ${r.terminal_action.action}` : ""}${r.reason ? `: ${r.reason}` : ""}\n  stage records: ${recs}\n  tokens: ${r.tokens.input} in / ${r.tokens.output} out, cost ${r.cost.toFixed(4)}`
    }
  }
}

export class Progress implements RunUi {
  private readonly started = Date.now()
  private stage = "-"
  private iteration = 0
  private openQuestions = 0
  private rl: Interface | undefined
  private readonly lines: string[] = []
  private readonly waiters: Array<(l: string | undefined) => void> = []
  private ended = false

  constructor(private readonly io: ProgressIo) {}

  private status(): string {
    return `[alloy] stage ${this.stage} · iteration ${this.iteration} · ${duration(Date.now() - this.started)}${this.openQuestions ? ` · ${this.openQuestions} open question${this.openQuestions > 1 ? "s" : ""}` : ""}`
  }

  event(e: BridgeEvent): void {
    if (e.type === "tool" && e.stage && e.status === "completed") {
      if (e.stage !== this.stage) this.iteration = 0
      this.stage = e.stage
      this.iteration++
    }
    if (this.io.json) {
      this.io.out(JSON.stringify(e))
      return
    }
    const line = describeEvent(e)
    if (this.io.tty && this.io.write) {
      this.io.write(`\r\x1b[2K${line ? line + "\n" : ""}${e.type === "result" ? "" : this.status()}`)
    } else if (line) this.io.out(line)
  }

  /** The next line of input; undefined at its end, or when `signal` aborts (answered elsewhere: the line is left for the next question). */
  private nextLine(signal?: AbortSignal): Promise<string | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined)
    if (this.lines.length) return Promise.resolve(this.lines.shift())
    if (this.ended || !this.io.input) return Promise.resolve(undefined)
    if (!this.rl) {
      this.rl = createInterface({ input: this.io.input, terminal: false })
      this.rl.on("line", (l) => {
        const w = this.waiters.shift()
        if (w) w(l)
        else this.lines.push(l)
      })
      this.rl.on("close", () => {
        this.ended = true
        for (const w of this.waiters.splice(0)) w(undefined)
      })
    }
    return new Promise((r) => {
      const w = (l: string | undefined) => {
        signal?.removeEventListener("abort", onAbort)
        r(l)
      }
      const onAbort = () => {
        const i = this.waiters.indexOf(w)
        if (i >= 0) this.waiters.splice(i, 1)
        r(undefined)
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      this.waiters.push(w)
    })
  }

  async question(q: QuestionRequest, signal?: AbortSignal): Promise<string[][] | undefined> {
    this.openQuestions++
    try {
      const answers: string[][] = []
      for (const item of q.questions) {
        if (!this.io.json) this.io.err(`answer "${item.header}" (a number or your own words):`)
        const line = await this.nextLine(signal)
        if (line === undefined) return undefined
        const n = Number(line.trim())
        const opt = Number.isInteger(n) && n >= 1 && n <= item.options.length ? item.options[n - 1]!.label : line.trim()
        answers.push([opt])
      }
      return answers
    } finally {
      this.openQuestions--
    }
  }

  async permission(_p: PermissionRequest, signal?: AbortSignal): Promise<"once" | "always" | "reject" | undefined> {
    if (!this.io.json) this.io.err("answer once, always or reject:")
    const raw = await this.nextLine(signal)
    if (raw === undefined) return undefined
    const line = raw.trim().toLowerCase()
    return line === "once" || line === "always" ? line : "reject"
  }

  close(): void {
    this.rl?.close()
    if (this.io.tty && this.io.write && !this.io.json) this.io.write("\r\x1b[2K")
  }
}
