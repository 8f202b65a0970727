/**
 * Per-command argument parsing over node:util parseArgs: find the command (and sub-command) word,
 * accept only that command's declared options plus the global ones, and turn every misuse into a
 * usage error (exit 2) that names the mistake and the nearest correct spelling.
 */
import { parseArgs } from "node:util"
import { AlloyError } from "../core/errors.js"
import { commandPaths, type Commands, type CommandSpec, type OptionSpec, type OptionValues } from "./commands/types.js"
import { nearest } from "../core/nearest.js"

export const PROGRAM = "opencode-alloy"

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  cwd: { type: "string", short: "C", value: "dir", description: "project root (default: the current directory)" },
  json: { type: "boolean", description: "machine-readable output" },
  help: { type: "boolean", short: "h", description: "help for the command" },
  "no-color": { type: "boolean", description: "no colours, even on a terminal (as NO_COLOR does)" },
}

/** Only meaningful without a command (`opencode-alloy --version`). */
const TOP_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  ...GLOBAL_OPTIONS,
  version: { type: "boolean", short: "v", description: "print the version" },
}

export interface Resolved {
  /** the command words, e.g. ["brief", "build"]; empty for the bare program */
  readonly path: string[]
  readonly spec: CommandSpec | undefined
  readonly positionals: string[]
  readonly values: OptionValues
}

function usage(message: string, fix: string): AlloyError {
  return new AlloyError("usage", message, { fix })
}

/**
 * What an unknown command word most likely meant, in this order: a command it is a slip of (the
 * implied `help` and `version` included), a command it is a synonym of (`validate` → verify), or
 * a sub-command typed without its group (`build` → brief build; `new` → intent new, brief new).
 */
function nearCommands(commands: Commands, word: string): string[] {
  const names = Object.keys(commands)
  const implied = ["help", "version"].filter((w) => !Object.hasOwn(commands, w))
  const w = word.toLowerCase()
  const bySynonym = names.filter((n) => commands[n]!.synonyms?.includes(w))
  if (bySynonym.length) return bySynonym
  const near = nearest(word, [...names, ...implied])
  if (near.length) return near
  const subs = names.flatMap((n) => Object.keys(commands[n]!.subcommands ?? {}).map((sub) => ({ sub, full: `${n} ${sub}` })))
  const exact = subs.filter((x) => x.sub === w)
  if (exact.length) return exact.map((x) => x.full)
  const nearSub = new Set(nearest(w, new Set(subs.map((x) => x.sub))))
  return subs.filter((x) => nearSub.has(x.sub)).map((x) => x.full)
}

/** "`a`", "`a` or `b`", "`a`, `b` or `c`" for a "did you mean" line. */
function either(names: readonly string[]): string {
  const q = names.map((n) => `\`${n}\``)
  return q.length > 1 ? `${q.slice(0, -1).join(", ")} or ${q.at(-1)}` : q[0]!
}

/** How a word the user typed is shown back: quoted, cut short, never raw control characters. */
export function shown(word: string): string {
  return JSON.stringify(word.length > 40 ? `${word.slice(0, 37)}...` : word)
}

function isOption(arg: string): boolean {
  return arg.startsWith("-") && arg !== "-"
}

/** Global options that take a value and may stand before the command word. */
function takesValue(arg: string): boolean {
  return arg === "--cwd" || arg === "-C"
}

/** Index of the first positional word in argv (the command), skipping leading global options. */
function firstWord(argv: readonly string[], from: number): number {
  for (let i = from; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--") return i + 1 < argv.length ? i + 1 : -1
    if (!isOption(a)) return i
    if (takesValue(a)) i++
  }
  return -1
}

/**
 * A usage error found while reading the command line, with the command words read before it
 * (`brief build` for `brief build --al`; none for an unknown command), so the message names the
 * command the user typed rather than a guess from the raw words.
 */
export class ArgsError extends AlloyError {
  readonly command: string
  constructor(err: AlloyError, path: readonly string[]) {
    super(err.code, err.message, { ...(err.fix ? { fix: err.fix } : {}) })
    this.command = path.join(" ")
  }
}

function helpFix(path: readonly string[]): string {
  return `run \`${PROGRAM}${path.length ? ` ${path.join(" ")}` : ""} --help\` for usage`
}

/** The commands (by their words) that declare option `name`, to say where an option belongs. */
function ownersOf(table: ReadonlyMap<string, string[]>, name: string): string[] {
  return [...table].filter(([, names]) => names.includes(name)).map(([p]) => p)
}

/** Each command (by its words) with the option names it declares. */
function optionOwners(commands: Commands): Map<string, string[]> {
  const found = new Map<string, string[]>()
  for (const { words, spec } of commandPaths(commands)) if (spec.options) found.set(words.join(" "), Object.keys(spec.options))
  return found
}

/**
 * Is `-xyz` short options as node's parser reads them: a string option's letter with its value
 * attached (`-Cdir`), or flags' letters run together (each one known)?
 */
function isShortGroup(a: string, declared: Record<string, OptionSpec>, shorts: ReadonlyMap<string, string>): boolean {
  const first = shorts.get(a[1]!)
  if (first && declared[first]!.type === "string") return true
  for (const c of a.slice(1)) {
    const n = shorts.get(c)
    if (!n || declared[n]!.type !== "boolean") return false
  }
  return true
}

/**
 * Resolve the command words and parse the options against the command's own declarations.
 * Throws a usage AlloyError (exit 2) on an unknown command, sub-command or option, a missing
 * option value, or a value given to a flag.
 */
export function resolveArgs(commands: Commands, argv: readonly string[]): Resolved {
  const path: string[] = []
  try {
    return readArgs(commands, argv, path)
  } catch (e) {
    throw e instanceof AlloyError ? new ArgsError(e, path) : e
  }
}

/** resolveArgs' work; `path` collects the command words as they are recognised. */
function readArgs(commands: Commands, argv: readonly string[], path: string[]): Resolved {
  let spec: CommandSpec | undefined
  const rest = [...argv]
  let at = firstWord(rest, 0)
  // `help <command>...` is `<command>... --help`, as git and npm have it
  if (at >= 0 && rest[at] === "help" && !Object.hasOwn(commands, "help")) {
    rest.splice(at, 1)
    rest.push("--help")
    at = firstWord(rest, 0)
  } else if (at >= 0 && rest[at] === "version" && rest.length === at + 1 && !Object.hasOwn(commands, "version")) {
    // `version` alone is `--version`, as `git version` has it
    rest.splice(at, 1, "--version")
    at = -1
  }
  if (at >= 0) {
    const word = rest[at]!
    const found = Object.hasOwn(commands, word) ? commands[word] : undefined
    if (!found) {
      const near = nearCommands(commands, word)
      throw usage(
        `unknown command ${shown(word)}`,
        near.length ? `did you mean ${either(near.map((n) => `${PROGRAM} ${n}`))}? (\`${PROGRAM} --help\` lists the commands)` : `run \`${PROGRAM} --help\` for the list of commands`,
      )
    }
    path.push(word)
    spec = found
    rest.splice(at, 1)
    // a sub-command is the word right after the command
    if (spec.subcommands && at < rest.length && !isOption(rest[at]!)) {
      const subWord = rest[at]!
      const sub = Object.hasOwn(spec.subcommands, subWord) ? spec.subcommands[subWord] : undefined
      if (sub) {
        path.push(subWord)
        spec = sub
        rest.splice(at, 1)
      } else {
        // A group's own `run` (the bare `runs`, `evidence`, `store`) takes options only, so a word
        // after it that is not a sub-command is a mistyped one, never an argument.
        const near = nearest(subWord, Object.keys(spec.subcommands))
        throw usage(
          `unknown ${word} command ${shown(subWord)}`,
          near.length
            ? `did you mean ${either(near.map((n) => `${PROGRAM} ${word} ${n}`))}?`
            : `use one of: ${Object.keys(spec.subcommands)
                .map((s) => `${word} ${s}`)
                .join(", ")}`,
        )
      }
    }
  }
  const declared: Record<string, OptionSpec> = { ...(spec ? GLOBAL_OPTIONS : TOP_OPTIONS), ...(spec?.options ?? {}) }
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {}
  const shorts = new Map<string, string>()
  for (const [name, o] of Object.entries(declared)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }
    if (o.short) shorts.set(o.short, name)
  }
  // unknown options first, on our terms: parseArgs' own message talks about `--` and positionals
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!
    if (a === "--") break
    if (!isOption(a)) continue
    const long = a.startsWith("--")
    // `-json`, `-help`: a long option written with one dash, not a group of short ones
    const oneDashWord = !long && a.length > 2 && !isShortGroup(a, declared, shorts)
    const name = long || oneDashWord ? a.slice(long ? 2 : 1).split("=")[0]! : a.slice(1, 2)
    const known = long ? Object.hasOwn(declared, name) : !oneDashWord && shorts.has(name)
    if (known) {
      const o = declared[long ? name : shorts.get(name)!]!
      if (o.type === "string" && !(long ? a.includes("=") : a.length > 2)) {
        const v = rest[i + 1]
        if (v === undefined || (isOption(v) && v !== "--")) {
          throw usage(`${long ? `--${name}` : `-${name}`} needs a value: --${long ? name : shorts.get(name)} <${o.value ?? "value"}>`, helpFix(path))
        }
        i++
      } else if (o.type === "boolean" && long && a.includes("=")) {
        throw usage(`--${name} is a flag and takes no value (write --${name}, not ${shown(a)})`, helpFix(path))
      }
      continue
    }
    const display = long ? `--${name}` : `-${name}`
    if (/^-\d/.test(a)) continue // a negative number as a positional is left to the command
    // a short option this command does not have (`verify -j`, `-V`): its one long option of that letter
    const byLetter = Object.keys(declared).filter((n) => n.startsWith(name.toLowerCase()))
    const near = long || oneDashWord ? nearest(name, Object.keys(declared)) : byLetter.length === 1 ? byLetter : []
    const table = optionOwners(commands)
    const owners = long ? ownersOf(table, name) : []
    // not this command's, and a slip of another's (`status --strcit`): say whose it is
    const elsewhere = long && !near.length && !owners.length && path.length ? nearest(name, new Set([...table.values()].flat()))[0] : undefined
    const elsewhereOwners = elsewhere ? ownersOf(table, elsewhere) : []
    const belongs =
      owners.length && path.length
        ? ` (it is an option of ${owners.map((o) => `\`${o}\``).join(", ")})`
        : elsewhereOwners.length
          ? ` (--${elsewhere} is an option of ${elsewhereOwners.map((o) => `\`${o}\``).join(", ")})`
          : ""
    // `brief --dry-run build x`: an option of this group's sub-command, written before it
    const group = path.join(" ")
    const ofSub = path.length ? owners.filter((o) => o.startsWith(`${group} `)) : []
    const instead =
      spec?.misplaced?.[owners.length ? name : (elsewhere ?? name)] ??
      (ofSub.length ? `an option goes after its sub-command: ${ofSub.map((o) => `\`${PROGRAM} ${o} … --${name}\``).join(" or ")}` : undefined)
    throw usage(
      `unknown option ${display.length > 42 ? shown(display) : display}${belongs}`,
      near.length ? `did you mean ${near.map((n) => `--${n}`).join(" or ")}? (${helpFix(path)})` : instead ? `${instead} (${helpFix(path)})` : helpFix(path),
    )
  }
  let parsed
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true })
  } catch (e) {
    throw usage(`${(e as Error).message.replace(/[\r\n]+/g, " ").slice(0, 200)}`, helpFix(path))
  }
  const values = parsed.values as OptionValues
  for (const [name, o] of Object.entries(declared)) {
    if (!o.choices) continue
    const given = values[name]
    for (const v of typeof given === "string" ? [given] : Array.isArray(given) ? given : []) {
      if (o.choices.includes(v)) continue
      const near = nearest(v, o.choices)
      throw usage(`--${name} ${shown(v)} is not one of ${o.choices.join(", ")}`, near.length ? `did you mean ${near.map((n) => `--${name} ${n}`).join(" or ")}? (${helpFix(path)})` : helpFix(path))
    }
  }
  return { path, spec, positionals: parsed.positionals, values }
}

// ---- help ----------------------------------------------------------------------------------

function optionLabel(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` <${o.value ?? "value"}>` : ""}${o.multiple ? "..." : ""}`
}

const WIDTH = 100

/** Split text into lines of at most `width` characters at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  return [...lines, line]
}

function table(rows: ReadonlyArray<readonly [string, string]>, fixed?: number, indent = "  "): string {
  const w = fixed ?? Math.min(34, Math.max(0, ...rows.map(([l]) => l.length)))
  const pad = `${indent}${" ".repeat(w)}  `
  return rows
    .map(([l, r]) => {
      const text = wrap(r, Math.max(30, WIDTH - pad.length))
      const first = l.length > w && r ? [`${indent}${l}`, `${pad}${text[0]}`] : [`${indent}${l.padEnd(w)}  ${text[0]}`]
      return [...first, ...text.slice(1).map((t) => `${pad}${t}`)].map((x) => x.trimEnd()).join("\n")
    })
    .join("\n")
}

const usages = (spec: CommandSpec): readonly string[] => (typeof spec.usage === "string" ? [spec.usage] : spec.usage)

/** The help of one command (or command group). */
export function commandHelp(path: readonly string[], spec: CommandSpec): string {
  const out: string[] = []
  const lines = usages(spec)
  out.push(`Usage: ${lines.map((u, i) => `${i ? "       " : ""}${PROGRAM} ${u}`).join("\n")}`)
  out.push("", ...wrap(spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + (spec.summary.endsWith(".") ? "" : "."), WIDTH))
  if (spec.details) out.push("", ...wrap(spec.details.trim(), WIDTH))
  if (spec.subcommands) {
    out.push("", "Commands:")
    out.push(table(Object.entries(spec.subcommands).map(([w, s]) => [`${path.join(" ")} ${w}`, s.summary] as const)))
  }
  const own = Object.entries(spec.options ?? {})
  if (own.length) out.push("", "Options:", table(own.map(([n, o]) => [optionLabel(n, o), o.description] as const)))
  out.push("", "Global options:", table(Object.entries(GLOBAL_OPTIONS).map(([n, o]) => [optionLabel(n, o), o.description] as const)))
  if (spec.examples?.length) out.push("", "Examples:", ...spec.examples.map((e) => `  ${e}`))
  if (spec.subcommands) out.push("", `Run \`${PROGRAM} ${path.join(" ")} <command> --help\` for one command's options.`)
  return out.join("\n") + "\n"
}

/** The program's help: every command's usage line and summary, grouped as the table's files group them. */
export function programHelp(groups: ReadonlyArray<{ title: string; commands: Commands }>): string {
  const rows = (cmds: Commands) => {
    const r: Array<readonly [string, string]> = []
    const add = (spec: CommandSpec) => usages(spec).forEach((u, i) => r.push([u, i ? "" : spec.summary] as const))
    for (const spec of Object.values(cmds)) {
      // a group whose bare word is one of its sub-commands (`runs` = `runs list`) is listed once
      const subs = Object.values(spec.subcommands ?? {})
      if (spec.run && !subs.some((s) => s.summary === spec.summary)) add(spec)
      for (const sub of Object.values(spec.subcommands ?? {})) add(sub)
    }
    return r
  }
  const out = [
    `${PROGRAM} — intent records, content-addressed briefs and pins for Foundry flows`,
    "",
    `Usage: ${PROGRAM} <command> [options]`,
    `       ${PROGRAM} <command> --help      options and examples of one command (or: help <command>)`,
  ]
  for (const g of groups) out.push("", `${g.title}:`, table(rows(g.commands), 34))
  out.push(
    "",
    "Global options:",
    table(Object.entries(TOP_OPTIONS).map(([n, o]) => [optionLabel(n, o), n === "help" ? "this help (or one command's, after it)" : o.description] as const)),
    "",
    "Colours only on a terminal, never with NO_COLOR set or --no-color.",
    "Exit codes: 0 ok, 1 a pin or checked content failed, 2 usage or configuration error.",
  )
  return out.join("\n") + "\n"
}
