/** The command table. Each command: (io, positionals, option values) -> exit code. */
import type { Io } from "../io.js"
import { usageError } from "../io.js"
import { cmdBriefBuild, cmdInit, cmdPin, cmdShow, cmdVerify } from "./core-commands.js"

export type OptionValues = Record<string, string | boolean | string[] | undefined>
export type Command = (io: Io, positionals: string[], values: OptionValues) => number | Promise<number>

const str = (v: unknown) => (typeof v === "string" ? v : undefined)

export const HELP = `opencode-alloy — intent records, content-addressed briefs and pins for Foundry flows

Usage: opencode-alloy <command> [options]

Commands:
  init                              create .alloy/ (with its .gitignore)
  verify [--json] [--strict]        check every pin in foundry/cycles and foundry/flows
                                    exit 0 all verify, 1 a pin failed (--strict: or is stale), 2 usage/config error
  pin <cycle> <brief-id>            write the brief's current digest into the cycle's alloy block
  pin --flow <flow> <brief-id>      the same for a flow (applies to its cycles without a pin)
  show <brief-id|digest> [--stage <stage>]
                                    print a verified brief (or one stage's pack)
  brief build <brief-id>...         build bundles, store objects, move refs

Options:
  --cwd, -C <dir>   project root (default: current directory)
  --json            machine-readable output
  --help, -h        this help
  --version, -v     print the version
`

const brief: Command = (io, rest, values) => {
  const [sub, ...args] = rest
  if (sub === "build") return cmdBriefBuild(io, args)
  throw usageError(`unknown brief command "${sub ?? ""}"`, "see `opencode-alloy --help`")
}

export const commands: Record<string, Command> = {
  init: (io) => cmdInit(io),
  verify: (io, _rest, v) => cmdVerify(io, { strict: v["strict"] === true }),
  pin: (io, rest, v) => cmdPin(io, rest, { flow: str(v["flow"]), digest: str(v["digest"]) }),
  show: (io, rest, v) => cmdShow(io, rest, { stage: str(v["stage"]) }),
  brief,
}
