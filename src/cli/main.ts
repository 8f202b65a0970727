/**
 * `opencode-alloy` — the CLI for flow authors and CI. A thin layer over the service functions:
 * find the command, parse its own options (./args.ts), call one function, print text or JSON,
 * exit 0 / 1 / 2.
 */
import { statSync } from "node:fs"
import { resolve as resolvePath } from "node:path"
import { AlloyError } from "../core/errors.js"
import { EXIT_USAGE, reportError, terminalSafe, wantsColor, type Io } from "./io.js"
import { ArgsError, commandHelp, programHelp, resolveArgs, shown } from "./args.js"
import { isTerminal, writeErr, writeOut } from "./stdio.js"
import { commands, GROUPS } from "./commands/index.js"

interface MainIo {
  out(s: string): void
  err(s: string): void
  cwd: string
  /**
   * colours on stdout; the entry point decides (a terminal, no NO_COLOR), asked only when the output
   * may take colours (not with --json or --no-color); in-process callers get none
   */
  color?: boolean | (() => boolean)
  /** told the command's words once they are known (the entry keeps a code cache per command) */
  onCommand?(words: readonly string[]): void
}

export async function main(argv: string[], io0: MainIo): Promise<number> {
  const jsonWanted = argv.includes("--json")
  let resolved
  try {
    resolved = resolveArgs(commands, argv)
  } catch (e) {
    return reportError(terminalSafe({ ...io0, json: jsonWanted, color: false }), e, e instanceof ArgsError ? e.command : "")
  }
  const { path, spec, positionals, values } = resolved
  if (spec) io0.onCommand?.(path)
  const given = typeof values["cwd"] === "string" ? values["cwd"] : undefined
  // a relative --cwd is taken from where the command was started, as a shell would
  const cwd = given === undefined ? io0.cwd : resolvePath(io0.cwd, given)
  // every text line a command prints goes through one helper that makes escapes visible (--json stays exact)
  const io: Io = terminalSafe({
    out: io0.out,
    err: io0.err,
    cwd,
    json: values["json"] === true,
    color: values["json"] !== true && values["no-color"] !== true && (typeof io0.color === "function" ? io0.color() : io0.color === true),
  })
  if (!spec) {
    if (values["version"]) {
      const { ALLOY_VERSION } = await import("../version.js")
      io.out(ALLOY_VERSION)
      return 0
    }
    if (values["help"]) {
      io.out(programHelp(GROUPS).trimEnd())
      return 0
    }
    io.out(programHelp(GROUPS).trimEnd())
    return EXIT_USAGE
  }
  if (values["help"]) {
    io.out(commandHelp(path, spec).trimEnd())
    return 0
  }
  if (!spec.run) {
    // a group named without its sub-command: its help, as a usage error
    io.err(commandHelp(path, spec).trimEnd())
    return EXIT_USAGE
  }
  if (given !== undefined && !isDirectory(cwd)) {
    // a mistyped --cwd must not read as an empty project, nor have `init` create the folder
    const e = new AlloyError("usage", `--cwd ${shown(given)} is not a folder`, { fix: "give the project's root folder, e.g. `--cwd .` or `-C path/to/project`" })
    return reportError(io, e, path.join(" "))
  }
  try {
    return await spec.run(io, positionals, values, main)
  } catch (e) {
    // the label names the command words, never an echo of user input
    return reportError(io, e, path.join(" "))
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

/**
 * Run as the `opencode-alloy` program: the arguments of the command line, output to stdout and
 * stderr, the exit code left for the process. The installed entry (./launch.ts) calls it, and
 * keeps a code cache per command: the answer is the command that ran (its first word), if any.
 */
export async function runAsProgram(argv: string[]): Promise<string | undefined> {
  let ran: string | undefined
  process.exitCode = await main(argv, {
    // the line and its end written apart: joined, a 2 MB report would be copied whole first
    out: (s) => {
      writeOut(s)
      writeOut("\n")
    },
    err: (s) => {
      writeErr(s)
      writeErr("\n")
    },
    cwd: process.cwd(),
    color: () => wantsColor(isTerminal(1)),
    onCommand: (words) => (ran = words[0]),
  })
  return ran
}
