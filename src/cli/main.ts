#!/usr/bin/env node
/**
 * `opencode-alloy` — the CLI for flow authors and CI. A thin layer over the service functions:
 * find the command, parse its own options (./args.ts), call one function, print text or JSON,
 * exit 0 / 1 / 2.
 */
import { realpathSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { EXIT_USAGE, reportError, terminalSafe, wantsColor, type Io } from "./io.js"
import { ArgsError, commandHelp, programHelp, resolveArgs } from "./args.js"
import { commands, GROUPS } from "./commands/index.js"

interface MainIo {
  out(s: string): void
  err(s: string): void
  cwd: string
  /** colours on stdout; the entry point decides (a terminal, no NO_COLOR); in-process callers get none */
  color?: boolean
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
  // every text line a command prints goes through one helper that makes escapes visible (--json stays exact)
  const io: Io = terminalSafe({
    out: io0.out,
    err: io0.err,
    cwd: typeof values["cwd"] === "string" ? values["cwd"] : io0.cwd,
    json: values["json"] === true,
    color: io0.color === true && values["json"] !== true,
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
  try {
    return await spec.run(io, positionals, values, main)
  } catch (e) {
    // the label names the command words, never an echo of user input
    return reportError(io, e, path.join(" "))
  }
}

function isEntry(): boolean {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntry()) {
  // a closed pipe (`opencode-alloy verify --json | head`) ends the program quietly, never with a stack trace
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0)
      throw e
    })
  }
  const code = await main(process.argv.slice(2), {
    out: (s) => process.stdout.write(s + "\n"),
    err: (s) => process.stderr.write(s + "\n"),
    cwd: process.cwd(),
    color: wantsColor(process.stdout),
  })
  process.exitCode = code
}
