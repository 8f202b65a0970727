/**
 * Progress of long work (import of many sources, building many briefs, reading many records):
 * one compact line on standard error, rewritten in place, only when standard error is a terminal
 * and `--json` is not set; nothing at all otherwise, so pipes, logs and CI stay quiet. The line
 * is drawn at most every `intervalMs` and cleared when the work ends, so it never mixes with
 * what the command prints on standard output.
 */

export interface ProgressStream {
  readonly isTTY?: boolean
  readonly columns?: number
  write(s: string): unknown
}

export interface ProgressOptions {
  /** where the line goes (standard error by default) */
  readonly stream?: ProgressStream
  /** `--json`: never draw */
  readonly json?: boolean
  readonly env?: NodeJS.ProcessEnv
  /** the clock for redraw throttling (injected by tests) */
  readonly now?: () => number
  readonly intervalMs?: number
}

export interface Progress {
  /** whether anything is drawn */
  readonly active: boolean
  /** `done` of `total` finished; `detail` names the current item; `total` when it is known only now */
  update(done: number, detail?: string, total?: number): void
  /** clear the line (the work is over, or failed) */
  end(): void
}

const QUIET: Progress = { active: false, update() {}, end() {} }

/** Draw only on a terminal, without `--json`, and not where the terminal cannot redraw a line. */
export function showsProgress(stream: ProgressStream, json: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !json && env["TERM"] !== "dumb"
}

/** A progress line for `label` over `total` items (0: not known yet; quiet unless `showsProgress`). */
export function startProgress(label: string, initialTotal: number, opts: ProgressOptions = {}): Progress {
  let total = initialTotal
  const stream = opts.stream ?? process.stderr
  if (!showsProgress(stream, opts.json === true, opts.env)) return QUIET
  const now = opts.now ?? Date.now
  const interval = opts.intervalMs ?? 100
  let last = Number.NEGATIVE_INFINITY
  let drawn = false
  const draw = (done: number, detail?: string) => {
    const pct = total > 0 ? ` (${Math.floor((100 * Math.min(done, total)) / total)}%)` : ""
    // a detail comes from file and branch names: only printable characters reach the terminal
    const safe = detail ? ` ${detail.replace(/[^\x20-\x7e\u00a0-\u200a\u2010-\u2027\u2030-\u205e]/g, "?")}` : ""
    const width = Math.max(20, (stream.columns || 80) - 1)
    const line = `[alloy] ${label} ${total > 0 ? `${done}/${total}` : done}${pct}${safe}`
    stream.write(`\r${line.length > width ? `${line.slice(0, width - 1)}…` : line}\u001b[K`)
    drawn = true
  }
  return {
    active: true,
    update(done, detail, newTotal) {
      if (newTotal !== undefined) total = newTotal
      const t = now()
      // the last item is always drawn, so the line never stops short of the total
      if (t - last < interval && (total === 0 || done < total)) return
      last = t
      draw(done, detail)
    },
    end() {
      if (drawn) stream.write("\r\u001b[K")
      drawn = false
    },
  }
}
