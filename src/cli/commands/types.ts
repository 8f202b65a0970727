/**
 * The shape of a CLI command. Each command declares its own options; the CLI accepts, for a
 * command, only those plus the global ones (`--cwd/-C`, `--json`, `--help/-h`, `--no-color`), suggests the
 * nearest name for a mistyped command or option, and renders `--help` and shell completion from
 * these declarations. Nothing else has to be registered anywhere.
 *
 * Adding or converting a command group (a file `src/cli/commands/<group>-commands.ts`):
 *
 *   // before: a bare function, its options declared in a shared table
 *   export const fooCommands: Record<string, Command> = {
 *     foo: (io, rest, v) => cmdFoo(io, rest, v),
 *   }
 *
 *   // after: the same function under `run`, with its options, usage, summary and examples
 *   export const fooCommands: Commands = {
 *     foo: {
 *       summary: "do foo to a brief",
 *       usage: "foo <brief-id> [--bar <x>] [--dry-run]",
 *       options: {
 *         bar: { type: "string", value: "x", description: "which bar" },
 *         "dry-run": { type: "boolean", description: "show what would change; write nothing" },
 *       },
 *       examples: ["opencode-alloy foo release-notes --bar 3"],
 *       run: (io, rest, v) => cmdFoo(io, rest, v),
 *     },
 *   }
 *
 * then spread `fooCommands` into the table in `./index.ts`. A group with sub-commands
 * (`foo list`, `foo add`) puts one spec per word under `subcommands`; a group may also have its
 * own `run` for the bare word. `run` keeps the old signature: (io, positionals, option values),
 * returning the exit code; throw `usageError(...)` (exit 2) for a misuse the parser cannot see.
 * Option values are `string | boolean | string[]` as node:util parseArgs gives them; read them with
 * `str()` / `strs()` below.
 */
import type { Io } from "../io.js"

export type OptionValues = Record<string, string | boolean | string[] | undefined>

/** Runs another command line in-process (the demo drives the CLI this way); passed in, never imported. */
export type CliRunner = (argv: string[], io: { out(s: string): void; err(s: string): void; cwd: string }) => Promise<number>

export type Command = (io: Io, positionals: string[], values: OptionValues, cli: CliRunner) => number | Promise<number>

export interface OptionSpec {
  readonly type: "string" | "boolean"
  readonly short?: string
  readonly multiple?: boolean
  /** the placeholder shown in help for a string option, e.g. "file" in `--html <file>` */
  readonly value?: string
  /** the only values a string option takes: any other is a usage error, with the nearest named */
  readonly choices?: readonly string[]
  readonly description: string
}

export interface CommandSpec {
  /** one line for the command list */
  readonly summary: string
  /** usage line(s) without the program name, e.g. "brief build <id>... [--strict] [--dry-run]" */
  readonly usage: string | readonly string[]
  /** more text for the command's own --help */
  readonly details?: string
  readonly options?: Readonly<Record<string, OptionSpec>>
  readonly examples?: readonly string[]
  readonly subcommands?: Readonly<Record<string, CommandSpec>>
  /**
   * Words people used to other tools type for this command (`validate` for `verify`): an unknown
   * command that is one of them gets this command as its "did you mean". They are never accepted
   * in its place, so the command line has one spelling for each command.
   */
  readonly synonyms?: readonly string[]
  /**
   * Options of other commands that people give this one, with what to do instead: `check` takes
   * its intents as arguments, where `evidence` takes `--intent`. Said as the fix when one of them
   * (or a slip of one) is given here.
   */
  readonly misplaced?: Readonly<Record<string, string>>
  /** absent for a group that is only a namespace of sub-commands */
  readonly run?: Command
}

export type Commands = Record<string, CommandSpec>

/**
 * Every command and sub-command of a table with its words (`["intent", "new"]`), a group before
 * its sub-commands: the one walk of the table that help, option owners and completion share.
 */
export function* commandPaths(commands: Commands, prefix: readonly string[] = []): Generator<{ words: string[]; spec: CommandSpec }> {
  for (const [word, spec] of Object.entries(commands)) {
    const words = [...prefix, word]
    yield { words, spec }
    if (spec.subcommands) yield* commandPaths(spec.subcommands, words)
  }
}

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)
export const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : [])
