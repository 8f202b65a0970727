/**
 * The CLI for tests, two ways and one file: in-process through the real entry (`main`, output
 * captured, exit code returned), and as a child process of the built binary (`dist/cli/opencode-alloy.cjs`)
 * for what only a real process shows: the bundle, exit codes from a signal, preloaded fault
 * injection, a bare environment.
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import path from "node:path"
import { main } from "../../src/cli/main.js"
import { REPO_ROOT } from "./project.js"

/** The built CLI (`npm run build`). */
export const BIN = path.join(REPO_ROOT, "dist", "cli", "opencode-alloy.cjs")

export interface CliResult {
  readonly code: number
  readonly out: string
  readonly err: string
  /** stdout as the CLI wrote it, one entry per write */
  readonly writes: readonly string[]
  /** stdout parsed as JSON (throws when it is not) */
  json<T = Record<string, unknown>>(): T
}

export async function runCli(cwd: string, ...argv: string[]): Promise<CliResult> {
  return runCliWith({ cwd }, ...argv)
}

/** `runCli` with the rest of the CLI's I/O settings (colour as a terminal would have it). */
export async function runCliWith(opts: { cwd: string; color?: boolean }, ...argv: string[]): Promise<CliResult> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), cwd: opts.cwd, ...(opts.color === undefined ? {} : { color: opts.color }) })
  const text = out.join("\n")
  return { code, out: text, err: err.join("\n"), writes: out, json: <T>() => JSON.parse(text) as T }
}

/**
 * One machine's terminal: commands run one after another in `cwd`; `out` and `err` hold the last
 * command's writes (the same arrays, refilled), `json()` parses its stdout.
 */
export function cliSession(cwd: string): { run(...argv: string[]): Promise<number>; out: string[]; err: string[]; json(): Record<string, unknown> } {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    async run(...argv) {
      const r = await runCli(cwd, ...argv)
      out.splice(0, out.length, ...r.writes)
      err.splice(0, err.length, ...(r.err === "" ? [] : r.err.split("\n")))
      return r.code
    },
    json: () => JSON.parse(out.join("\n")) as Record<string, unknown>,
  }
}

export interface BinResult {
  /** exit code, null when ended by a signal */
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface BinOptions {
  readonly cwd: string
  /** hard limit; the child is killed with SIGKILL after it */
  readonly timeoutMs?: number
  /** added to (or, with `bareEnv`, instead of) the test's environment */
  readonly env?: Record<string, string>
  readonly bareEnv?: boolean
  /** a module for `node --import` (fault injection) */
  readonly preload?: string
  /** another copy of the built entry (default: BIN) */
  readonly bin?: string
  /** the runtime to start it with (default: this Node); Bun takes `preload` with `--preload` */
  readonly runtime?: string
  /** a descriptor for its standard output instead of a pipe (then `stdout` is empty) */
  readonly stdoutFd?: number
}

/** Run the built CLI as a child process with a hard timeout; never throws. */
export function runBin(args: readonly string[], opts: BinOptions): Promise<BinResult> {
  return new Promise((resolve) => {
    const env = opts.bareEnv ? { PATH: process.env.PATH ?? "", ...opts.env } : { ...process.env, ...opts.env }
    const runtime = opts.runtime ?? process.execPath
    const preload = opts.preload ? [runtime === process.execPath ? "--import" : "--preload", opts.preload] : []
    const child = spawn(runtime, [...preload, opts.bin ?? BIN, ...args], { cwd: opts.cwd, env, stdio: ["ignore", opts.stdoutFd ?? "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 20_000)
    child.on("close", (status, signal) => {
      clearTimeout(timer)
      resolve({ status, signal, stdout, stderr })
    })
  })
}

/**
 * What the built CLI does with a reader that is slow, shared or gone. `holdMs`: the test reads
 * nothing for that long, so a large output fills the pipe and the CLI waits for its reader.
 * `nonBlocking`: a go-between process starts the CLI on the same pipe and keeps making the pipe
 * non-blocking while it runs (as a parent does when it sets up Node's own stdout on a pipe it
 * shares), so the CLI's writes are refused part way (`EAGAIN`). `closeAfterBytes`: the test
 * closes its end after reading that many bytes (the reader has gone: `EPIPE`). `bytes`: how much
 * the test read.
 */
export function runBinPiped(args: readonly string[], opts: BinOptions & { holdMs?: number; nonBlocking?: boolean; closeAfterBytes?: number }): Promise<BinResult & { bytes: number }> {
  const goBetween = [
    "-e",
    `const { spawn } = require("node:child_process"); const net = require("node:net");
     const child = spawn(process.execPath, process.argv.slice(1), { stdio: ["ignore", "inherit", "inherit"] });
     const handles = [];
     // each new handle on descriptor 1 makes it non-blocking again (libuv's pipe set-up), also after the CLI's own start made it blocking
     const flip = setInterval(() => handles.push(new net.Socket({ fd: 1, readable: false, writable: true })), 5);
     child.on("exit", (code, signal) => { clearInterval(flip); process.exit(code ?? (signal ? 128 : 1)); });`,
  ]
  return new Promise((resolve) => {
    const env = { ...process.env, ...opts.env }
    const argv = [...(opts.nonBlocking ? goBetween : []), opts.bin ?? BIN, ...args]
    const child = spawn(process.execPath, argv, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    const chunks: Buffer[] = []
    let bytes = 0
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.stdout.pause()
    const read = () => {
      child.stdout.on("data", (d: Buffer) => {
        chunks.push(d)
        bytes += d.length
        if (opts.closeAfterBytes !== undefined && bytes >= opts.closeAfterBytes) child.stdout.destroy()
      })
      child.stdout.resume()
    }
    const hold = setTimeout(read, opts.holdMs ?? 0)
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 20_000)
    child.on("close", (status, signal) => {
      clearTimeout(timer)
      clearTimeout(hold)
      resolve({ status, signal, stdout: Buffer.concat(chunks).toString("utf8"), stderr, bytes })
    })
  })
}

/**
 * Bun from the dev dependency, when it runs here (`.bin/bun` is a stub until bun's own install
 * script has run, which npm is not told to run: the platform package holds the real binary).
 */
export function bunRuntime(): string | undefined {
  const root = path.join(REPO_ROOT, "node_modules")
  return [path.join(root, "@oven", `bun-${process.platform}-${process.arch}`, "bin", "bun"), path.join(root, ".bin", "bun")].find(
    (p) => existsSync(p) && spawnSync(p, ["--version"], { timeout: 20_000 }).status === 0,
  )
}
