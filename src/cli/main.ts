#!/usr/bin/env node
/**
 * `opencode-alloy` — the CLI for flow authors and CI. A thin layer over the service functions:
 * parse arguments, call one function, print text or JSON, exit 0 / 1 / 2.
 */
import { parseArgs } from "node:util"
import { realpathSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { EXIT_USAGE, reportError, usageError, type Io } from "./io.js"
import { commands, HELP } from "./commands/index.js"

export async function main(argv: string[], io0: { out(s: string): void; err(s: string): void; cwd: string }): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: "boolean", default: false },
        strict: { type: "boolean", default: false },
        cwd: { type: "string", short: "C" },
        flow: { type: "string" },
        digest: { type: "string" },
        stage: { type: "string" },
        intent: { type: "string", multiple: true },
        cycle: { type: "string", multiple: true },
        title: { type: "string" },
        goal: { type: "string" },
        status: { type: "string" },
        from: { type: "string" },
        keep: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        follow: { type: "boolean", short: "f", default: false },
        html: { type: "string" },
        snapshot: { type: "string", multiple: true },
        branch: { type: "string", multiple: true },
        outbox: { type: "string", multiple: true },
        by: { type: "string" },
        note: { type: "string" },
        out: { type: "string" },
        format: { type: "string" },
        server: { type: "string" },
        compat: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "v", default: false },
      },
    })
  } catch (e) {
    const message = `${(e as Error).message.replace(/[\r\n]+/g, " ").slice(0, 300)}`
    const label = commandLabel(argv.find((a) => !a.startsWith("-")))
    if (argv.includes("--json")) io0.out(JSON.stringify({ ok: false, code: "usage", error: `opencode-alloy ${label}: ${message}`, fix: "run `opencode-alloy --help` for usage" }))
    else io0.err(`opencode-alloy ${label}: ${message}\n  fix: run \`opencode-alloy --help\` for usage`)
    return EXIT_USAGE
  }
  const { values, positionals } = parsed
  const io: Io = { ...io0, cwd: values.cwd ?? io0.cwd, json: values.json ?? false, color: false }
  if (values.version) {
    const { ALLOY_VERSION } = await import("../version.js")
    io.out(ALLOY_VERSION)
    return 0
  }
  const [name, ...rest] = positionals
  if (!name || values.help) {
    io.out(HELP)
    return name || values.help ? 0 : EXIT_USAGE
  }
  const command = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined
  if (!command) {
    const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 37)}...` : name)
    return reportError(io, usageError(`unknown command ${shown}`, "run `opencode-alloy --help` for the list of commands"), commandLabel(name))
  }
  try {
    return await command(io, rest, values)
  } catch (e) {
    // the label names the command (and a sub-command word), never an echo of user input
    const sub = rest[0] !== undefined && /^[a-z]{1,16}$/.test(rest[0]) ? ` ${rest[0]}` : ""
    return reportError(io, e, `${name}${sub}`)
  }
}

/** How messages name the command: the word itself when it looks like one, never an echo of arbitrary input. */
function commandLabel(word: string | undefined): string {
  return word !== undefined && /^[a-z][a-z-]{0,23}$/.test(word) ? word : "usage"
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
  })
  process.exitCode = code
}
