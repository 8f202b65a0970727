/**
 * "Did you mean": every one-letter slip (two letters swapped, one left out) of every command,
 * sub-command and option in the real command table is a usage error whose fix names what was
 * meant — or, when the slip is itself the start of another name, that other name (`int` → intent).
 */
import { describe, expect, it } from "vitest"
import { ArgsError, resolveArgs } from "../../../src/cli/args.js"
import { commands } from "../../../src/cli/commands/index.js"
import type { CommandSpec } from "../../../src/cli/commands/types.js"
import { AlloyError } from "../../../src/core/errors.js"

const GLOBAL = new Set(["cwd", "json", "help", "version", "no-color"])

function slips(word: string): string[] {
  const out = new Set<string>()
  for (let i = 0; i + 1 < word.length; i++) out.add(word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2))
  for (let i = 0; i < word.length; i++) out.add(word.slice(0, i) + word.slice(i + 1))
  return [...out].filter((s) => s !== word && s.length >= 2)
}

/** The usage error's message and fix for an argv, or "accepted". */
function outcome(argv: string[]): string {
  try {
    resolveArgs(commands, argv)
    return "accepted"
  } catch (e) {
    expect(e).toBeInstanceOf(AlloyError)
    const err = e as AlloyError
    expect(err.code).toBe("usage")
    return `${err.message} ${err.fix ?? ""}`
  }
}

const cases: Array<{ argv: string[]; meant: string; names: string[] }> = []
const addOptions = (prefix: string[], spec: CommandSpec) => {
  const names = Object.keys(spec.options ?? {})
  for (const o of names) for (const s of slips(o)) if (!names.includes(s) && !GLOBAL.has(s)) cases.push({ argv: [...prefix, `--${s}`], meant: `--${o}`, names: [...names, ...GLOBAL] })
}
const top = Object.keys(commands)
for (const [name, spec] of Object.entries(commands)) {
  for (const s of slips(name)) if (!top.includes(s) && s !== "help") cases.push({ argv: [s], meant: `opencode-alloy ${name}\``, names: top })
  addOptions([name], spec)
  const subs = Object.keys(spec.subcommands ?? {})
  for (const [sub, subSpec] of Object.entries(spec.subcommands ?? {})) {
    for (const s of slips(sub)) if (!subs.includes(s)) cases.push({ argv: [name, s], meant: `${name} ${sub}\``, names: subs })
    addOptions([name, sub], subSpec)
  }
}

describe("resolveArgs: a slip of one letter is met with what was meant", () => {
  it(`covers every command, sub-command and option (${cases.length} slips)`, () => {
    expect(cases.length).toBeGreaterThan(1000)
    const missed: string[] = []
    for (const c of cases) {
      const got = outcome(c.argv)
      const typed = c.argv.at(-1)!.replace(/^--/, "")
      // the documented exception: a slip that is the first three or more letters of another name
      const prefixOfOther = typed.length >= 3 && c.names.some((n) => n.startsWith(typed) && got.includes(n))
      if (!(got.includes("did you mean") && (got.includes(c.meant) || prefixOfOther))) missed.push(`${c.argv.join(" ")} → ${got}`)
    }
    expect(missed).toEqual([])
  })

  it("names every equally near name rather than guessing one of them", () => {
    expect(outcome(["eport"])).toContain("did you mean `opencode-alloy export` or `opencode-alloy report`?")
  })

  it("takes a two-letter start for the name when at most four names start with it", () => {
    expect(outcome(["brief", "build", "x", "--al"])).toContain("did you mean --all or --allow-ungated?")
    expect(outcome(["brief", "build", "x", "--allow"])).toContain("did you mean --allow-ungated?")
  })
})

describe("resolveArgs: what people type for a command or option, beyond a slip", () => {
  it("an implied word (`help`, `version`) is a command a slip can be of", () => {
    expect(outcome(["hlep"])).toContain("did you mean `opencode-alloy help`?")
    expect(outcome(["verison"])).toContain("did you mean `opencode-alloy version`?")
  })

  it("a synonym from another tool names the command, and is not accepted in its place", () => {
    expect(outcome(["validate"])).toContain("did you mean `opencode-alloy verify`?")
    expect(outcome(["serve"])).toContain("did you mean `opencode-alloy ui`?")
    expect(outcome(["spec", "new", "x"])).toContain("did you mean `opencode-alloy intent`?")
    // a synonym is never also a command or a sub-command's word: it would shadow it
    for (const [name, spec] of Object.entries(commands)) {
      for (const syn of spec.synonyms ?? []) {
        expect(Object.hasOwn(commands, syn), `${name}: ${syn}`).toBe(false)
        expect(syn).toBe(syn.toLowerCase())
      }
    }
  })

  it("a sub-command typed without its group names the group (both, when two groups have it)", () => {
    expect(outcome(["build", "x"])).toContain("did you mean `opencode-alloy brief build`?")
    expect(outcome(["biuld"])).toContain("did you mean `opencode-alloy brief build`?")
    expect(outcome(["signoff"])).toContain("did you mean `opencode-alloy evidence signoff`?")
    expect(outcome(["new", "x"])).toContain("did you mean `opencode-alloy intent new` or `opencode-alloy brief new`?")
  })

  it("a long option written with one dash is named with two; a group of short flags still reads", () => {
    expect(outcome(["verify", "-json"])).toBe("unknown option -json did you mean --json? (run `opencode-alloy verify --help` for usage)")
    expect(outcome(["status", "-jsn"])).toContain("did you mean --json?")
    expect(outcome(["verify", "-help"])).toContain("did you mean --help?")
    expect(outcome(["intent", "new", "x", "-status", "draft"])).toContain("did you mean --status?")
    expect(outcome(["-Cdir", "verify"])).toBe("accepted")
    expect(outcome(["verify", "-h"])).toBe("accepted")
    expect(outcome(["verify", "-x"])).toBe("unknown option -x run `opencode-alloy verify --help` for usage")
  })

  it("a slip of another command's option says whose it is; an option a command takes as an argument says so", () => {
    expect(outcome(["status", "--strcit"])).toBe("unknown option --strcit (--strict is an option of `verify`, `intent lint`, `brief build`) run `opencode-alloy status --help` for usage")
    expect(outcome(["check", "--intent", "x"])).toContain("(it is an option of `brief new`, `evidence`) name the intents as arguments")
    expect(outcome(["check", "--intnt", "x"])).toBe(
      "unknown option --intnt (--intent is an option of `brief new`, `evidence`) name the intents as arguments: `opencode-alloy check <intent>...` (run `opencode-alloy check --help` for usage)",
    )
    // every `misplaced` entry names an option some other command has, and not one of the command's own
    const specsIn = (specs: Record<string, CommandSpec>): CommandSpec[] => Object.values(specs).flatMap((c) => [c, ...specsIn(c.subcommands ?? {})])
    const all = specsIn(commands)
    for (const c of all) {
      for (const name of Object.keys(c.misplaced ?? {})) {
        expect(Object.hasOwn(c.options ?? {}, name)).toBe(false)
        expect(all.some((o) => Object.hasOwn(o.options ?? {}, name))).toBe(true)
      }
    }
    // an option of a sub-command written before it
    expect(outcome(["brief", "--dry-run", "build", "x"])).toBe(
      "unknown option --dry-run (it is an option of `brief build`) an option goes after its sub-command: `opencode-alloy brief build … --dry-run` (run `opencode-alloy brief --help` for usage)",
    )
    expect(outcome(["intent", "--strict", "lint"])).toContain("an option goes after its sub-command: `opencode-alloy intent lint … --strict`")
    // a slip of the command's own option is named first
    expect(outcome(["verify", "--stirct"])).toContain("did you mean --strict?")
    expect(outcome(["init", "--force"])).toBe("unknown option --force run `opencode-alloy init --help` for usage")
  })

  it("a doubled letter or one wrong letter in an option of four letters or more is met with the option, in every command and sub-command", () => {
    const missed: string[] = []
    let tried = 0
    const visit = (words: string[], spec: CommandSpec) => {
      for (const o of Object.keys(spec.options ?? {})) {
        if (o.length < 4) continue
        for (const typed of [`${o}${o.at(-1)}`, `${o.slice(0, 2)}${o[2] === "x" ? "y" : "x"}${o.slice(3)}`]) {
          tried++
          const got = outcome([...words, `--${typed}`])
          if (!got.includes(`--${o}`)) missed.push(`${words.join(" ")} --${typed} → ${got}`)
        }
      }
      for (const [w, sub] of Object.entries(spec.subcommands ?? {})) visit([...words, w], sub)
    }
    for (const [name, spec] of Object.entries(commands)) visit([name], spec)
    expect(tried).toBeGreaterThan(100)
    expect(missed).toEqual([])
  })
})

describe("resolveArgs: a usage error names the command it was found in", () => {
  const thrown = (argv: string[]) => {
    try {
      resolveArgs(commands, argv)
    } catch (e) {
      return e
    }
    throw new Error(`accepted: ${argv.join(" ")}`)
  }
  it("the command and sub-command read before the error, none for an unknown command", () => {
    const sub = thrown(["brief", "build", "x", "--al"])
    expect(sub).toBeInstanceOf(ArgsError)
    expect((sub as ArgsError).command).toBe("brief build")
    expect((thrown(["brief", "biuld"]) as ArgsError).command).toBe("brief")
    expect((thrown(["Verify"]) as ArgsError).command).toBe("")
    expect((thrown(["-C", "x", "verify", "--jsn"]) as ArgsError).command).toBe("verify")
  })
})

describe("resolveArgs: an option with a fixed set of values", () => {
  it("refuses any other value, naming the values and the nearest one", () => {
    expect(outcome(["export", "--format", "otle"])).toBe('--format "otle" is not one of otel, intoto did you mean --format otel? (run `opencode-alloy export --help` for usage)')
    expect(outcome(["bridge", "--otel-protocol", "http/jsn"])).toContain("did you mean --otel-protocol http/json?")
    expect(outcome(["brief", "diff", "a", "b", "--format", "html"])).toContain('--format "html" is not one of text, markdown')
    expect(outcome(["export", "--format", "intoto"])).toBe("accepted")
    expect(outcome(["export", "--format=otel", "--protocol", "http/json"])).toBe("accepted")
    expect(outcome(["intent", "new", "x", "--status", "actve"])).toContain("did you mean --status active?")
    expect(outcome(["intent", "new", "x", "--status", "superseded"])).toBe("accepted")
  })

  it("`version` alone is --version", () => {
    expect(resolveArgs(commands, ["version"]).values["version"]).toBe(true)
    expect(outcome(["version", "x"])).toContain('unknown command "version"')
  })
})
