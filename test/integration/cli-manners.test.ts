/**
 * CLI manners: each command accepts only its own options, mistakes get "did you mean" and exit 2,
 * every command has a --help with examples, colours follow the terminal and NO_COLOR, and the
 * completion scripts complete what the command table declares.
 */
import { describe, expect, it } from "vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { pathToFileURL } from "node:url"
import { BIN, runCli, runCliWith } from "../helpers/cli.js"
import { commands } from "../../src/cli/commands/index.js"
import { suggest } from "../../src/core/nearest.js"
import { wantsColor } from "../../src/cli/io.js"
import { completionScript } from "../../src/cli/completion.js"
import { commandPaths } from "../../src/cli/commands/types.js"
import { BRIEF_ID, CYCLE_ID, scratch } from "../helpers/project.js"

const tmp = scratch()

describe("CLI: mistakes are usage errors with a suggestion", () => {
  const cases: Array<[string[], string]> = [
    [["verify", "--jsn"], "--json"],
    [["verify", "--strcit"], "--strict"],
    [["verfy"], "opencode-alloy verify"],
    [["stauts"], "opencode-alloy status"],
    [["brief", "biuld", "x"], "opencode-alloy brief build"],
    [["intent", "lnit"], "opencode-alloy intent lint"],
    [["brief", "build", "x", "--dry"], "--dry-run"],
    [["brief", "build", "x", "--dryrun"], "--dry-run"],
    [["report", "--htm", "x.html"], "--html"],
    [["export", "--formt", "otel"], "--format"],
    [["runs", "wach"], "opencode-alloy runs watch"],
    [["runs", "lst"], "opencode-alloy runs list"],
    [["store", "st"], "opencode-alloy store set"],
    [["evidence", "intent", "x"], undefined as unknown as string],
    [["completion", "fsh"], "opencode-alloy completion fish"],
    [["help", "verfy"], "opencode-alloy verify"],
    [["evidence", "sigonff", "a#AC-1", "Sam"], "opencode-alloy evidence signoff"],
    [["completion", "fihs"], "opencode-alloy completion fish"],
    [["import", "--frm", "x"], "--from"],
    // a short option the command does not have: its one long option of that letter
    [["verify", "-j"], "--json"],
    [["-V"], "--version"],
  ]
  for (const [argv, fix] of cases) {
    it(`${argv.join(" ")} → exit 2${fix ? `, did you mean ${fix}` : ""}`, async () => {
      const r = await runCli(os.tmpdir(), ...argv)
      expect(r.code).toBe(2)
      expect(r.out).toBe("")
      if (fix) expect(r.err).toContain(`did you mean ${fix.startsWith("--") ? fix : `\`${fix}\``}`)
      expect(r.err).not.toMatch(/\n\s+at |Error:|parseArgs|positional/)
      const j = await runCli(os.tmpdir(), ...argv, "--json")
      expect(j.code).toBe(2)
      expect(j.json()).toMatchObject({ ok: false, code: "usage" })
    })
  }

  it("`help <command>` is the command's --help", async () => {
    const r = await runCli(os.tmpdir(), "help", "brief", "build")
    expect(r.code).toBe(0)
    expect(r.out).toBe((await runCli(os.tmpdir(), "brief", "build", "--help")).out)
    expect(r.out).toContain("Usage: opencode-alloy brief build")
    expect((await runCli(os.tmpdir(), "help")).out).toBe((await runCli(os.tmpdir(), "--help")).out)
  })

  it("refuses another command's options, and says whose they are", async () => {
    const r = await runCli(os.tmpdir(), "verify", "--keep", "--html", "x.html")
    expect(r.code).toBe(2)
    expect(r.err).toContain("unknown option --keep (it is an option of `demo`)")
    expect((await runCli(os.tmpdir(), "status", "--strict")).err).toContain("it is an option of `verify`, `intent lint`, `brief build`")
  })

  it("names the command the error is in: the sub-command too, and no made-up one for an unknown command", async () => {
    expect((await runCli(os.tmpdir(), "brief", "build", "x", "--al")).err).toMatch(/^opencode-alloy brief build: unknown option --al\n {2}fix: did you mean --all or --allow-ungated\?/)
    const unknown = await runCli(os.tmpdir(), "Verify")
    expect(unknown.err).toMatch(/^opencode-alloy: unknown command "Verify"/)
    const j = (await runCli(os.tmpdir(), "Verify", "--json")).json() as Record<string, unknown>
    expect(j).toMatchObject({ ok: false, code: "usage" })
    expect(j).not.toHaveProperty("command")
    expect((await runCli(os.tmpdir(), "brief", "build", "x", "--al", "--json")).json()).toMatchObject({ command: "brief build" })
  })

  it("names a missing option value and a value given to a flag", async () => {
    const r = await runCli(os.tmpdir(), "report", "--html")
    expect(r.code).toBe(2)
    expect(r.err).toContain("--html needs a value: --html <file>")
    const f = await runCli(os.tmpdir(), "verify", "--strict=yes")
    expect(f.code).toBe(2)
    expect(f.err).toContain("--strict is a flag and takes no value")
  })

  it("does not guess when nothing is close", async () => {
    expect(suggest("zzzzzz", ["verify", "status"])).toBeUndefined()
    expect(suggest("jsn", ["json", "strict"])).toBe("json")
    expect(suggest("ver", ["verify", "version"])).toBeDefined()
    const r = await runCli(os.tmpdir(), "frobnicate")
    expect(r.code).toBe(2)
    expect(r.err).not.toContain("did you mean")
    // a short option: only when one long option has its letter (`brief build -a`: --all or --allow-ungated)
    for (const argv of [
      ["verify", "-x"],
      ["brief", "build", "x", "-a"],
    ]) {
      const s = await runCli(os.tmpdir(), ...argv)
      expect(s.code).toBe(2)
      expect(s.err).toContain(`unknown option ${argv.at(-1)}`)
      expect(s.err).not.toContain("did you mean")
    }
  })

  it("a group without its sub-command prints the group's help and exits 2", async () => {
    const r = await runCli(os.tmpdir(), "brief")
    expect(r.code).toBe(2)
    expect(r.err).toContain("brief build")
  })
})

describe("CLI: unknown names on the command line", () => {
  it("pin <cycle> <unknown-brief> exits 2 naming the brief, with the nearest one", async () => {
    const p = await tmp.pinned()
    const r = await runCli(os.tmpdir(), "pin", CYCLE_ID, "release-note-vioce", "--cwd", p.dir)
    expect(r.code).toBe(2)
    expect(r.err).toContain('unknown brief "release-note-vioce"')
    expect(r.err).toContain(`did you mean ${BRIEF_ID}?`)
    const j = await runCli(os.tmpdir(), "pin", CYCLE_ID, "nothing-like-it", "--cwd", p.dir, "--json")
    expect(j.code).toBe(2)
    expect(j.json()).toMatchObject({ ok: false, code: "brief_not_found" })
  })

  it("evidence signoff on an unknown intent exits 2 naming the intent, not a file that does not exist", async () => {
    const p = await tmp.pinned()
    const r = await runCli(os.tmpdir(), "evidence", "signoff", "release-note-vocie#AC-2", "Sam Lee", "--cwd", p.dir)
    expect(r.code).toBe(2)
    expect(r.err).toContain('unknown intent "release-note-vocie"')
    expect(r.err).toContain(`did you mean ${BRIEF_ID}#AC-2?`)
    expect(r.err).not.toContain(".alloy/intents/release-note-vocie.md and rebuild")
    const j = await runCli(os.tmpdir(), "evidence", "signoff", "nope#AC-1", "Sam", "--cwd", p.dir, "--json")
    expect(j.json()).toMatchObject({ ok: false, code: "intent_not_found" })
  })
})

describe("CLI: --cwd", () => {
  it("a folder that is not there (or a file) is a usage error, and init creates nothing there", async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "alloy-cwd-"))
    try {
      const missing = path.join(base, "no-such-project")
      const r = await runCli(base, "-C", missing, "init")
      expect(r.code).toBe(2)
      expect(r.err).toContain("is not a folder")
      expect(existsSync(missing)).toBe(false)
      writeFileSync(path.join(base, "a-file"), "x")
      expect((await runCli(base, "status", "--cwd", path.join(base, "a-file"), "--json")).json()).toMatchObject({ ok: false, code: "usage" })
      // help needs no project
      expect((await runCli(base, "-C", missing, "verify", "--help")).code).toBe(0)
    } finally {
      rmSync(base, { recursive: true, force: true })
    }
  })

  it("a relative --cwd is taken from where the command started", async () => {
    const p = await tmp.pinned()
    const r = await runCli(path.dirname(p.dir), "verify", "--json", "-C", path.basename(p.dir))
    expect(r.code).toBe(0)
    expect(r.json()).toMatchObject({ ok: true })
  })
})

describe("CLI: every command that takes a brief or intent id names an unknown one the same way", () => {
  it("show, brief build/show/diff, formation design, run, intent show/lint and evidence --intent exit 2 with the nearest name; known names still work", async () => {
    const p = await tmp.pinned()
    const cases: Array<[string[], string, string]> = [
      [["show", "release-note-vioce"], 'unknown brief "release-note-vioce"', `did you mean ${BRIEF_ID}?`],
      [["brief", "diff", "release-note-vioce", BRIEF_ID], 'unknown brief "release-note-vioce"', `did you mean ${BRIEF_ID}?`],
      [["brief", "diff", BRIEF_ID, "nothing-like-it"], 'unknown brief "nothing-like-it"', `the briefs here are: ${BRIEF_ID}`],
      [["intent", "lint", "release-note-vocie"], 'unknown intent "release-note-vocie"', `did you mean ${BRIEF_ID}?`],
      [["evidence", "--intent", BRIEF_ID, "--intent", "nope"], 'unknown intent "nope"', "no built brief carries it"],
      [["brief", "build", BRIEF_ID, "release-note-vioce"], 'unknown brief "release-note-vioce"', `did you mean ${BRIEF_ID}?`],
      [["brief", "show", "release-note-vioce"], 'unknown brief "release-note-vioce"', `did you mean ${BRIEF_ID}?`],
      [["formation", "design", "release-note-vioce"], 'unknown brief "release-note-vioce"', `did you mean ${BRIEF_ID}?`],
      [["intent", "show", "release-note-vocie"], 'unknown intent "release-note-vocie"', `did you mean ${BRIEF_ID}?`],
      [["run", "release-note-vioce", "--queue"], 'unknown brief "release-note-vioce"', `did you mean ${BRIEF_ID}?`],
    ]
    for (const [argv, message, fix] of cases) {
      const r = await runCli(os.tmpdir(), ...argv, "--cwd", p.dir)
      expect(r.code, argv.join(" ")).toBe(2)
      expect(r.err).toContain(message)
      expect(r.err).toContain(fix)
    }
    expect((await runCli(os.tmpdir(), "show", "nope", "--cwd", p.dir, "--json")).json()).toMatchObject({ ok: false, code: "brief_not_found" })
    expect((await runCli(os.tmpdir(), "intent", "lint", "nope", "--cwd", p.dir, "--json")).json()).toMatchObject({ ok: false, code: "intent_not_found" })
    for (const argv of [
      ["show", BRIEF_ID],
      ["brief", "diff", BRIEF_ID, BRIEF_ID],
      ["intent", "lint", BRIEF_ID],
      ["evidence", "--intent", BRIEF_ID],
    ]) {
      expect((await runCli(os.tmpdir(), ...argv, "--cwd", p.dir)).code, argv.join(" ")).toBe(0)
    }
  })
})

describe("CLI: help", () => {
  it("every command and sub-command has --help with its usage, options and examples", async () => {
    let n = 0
    for (const { words, spec } of commandPaths(commands)) {
      const r = await runCli(os.tmpdir(), ...words, "--help")
      expect(r.code, words.join(" ")).toBe(0)
      expect(r.out, words.join(" ")).toContain(`Usage: opencode-alloy ${words.join(" ")}`)
      for (const name of Object.keys(spec.options ?? {})) expect(r.out, `${words.join(" ")} --${name}`).toContain(`--${name}`)
      if (spec.run) expect(r.out, words.join(" ")).toMatch(/Examples:\n {2}opencode-alloy /)
      n++
    }
    expect(n).toBeGreaterThan(20)
    const h = await runCli(os.tmpdir(), "-h")
    expect(h.out).toContain("opencode-alloy <command> --help")
  })
})

describe("CLI: colours", () => {
  it("only on a terminal and never with NO_COLOR", () => {
    expect(wantsColor(true, {})).toBe(true)
    expect(wantsColor(false, {})).toBe(false)
    // set but empty does not count, as other tools read it
    expect(wantsColor(true, { NO_COLOR: "" })).toBe(true)
    expect(wantsColor(true, { NO_COLOR: "1" })).toBe(false)
    expect(wantsColor(true, { TERM: "dumb" })).toBe(false)
  })

  it("colours the verdict words when asked, and never JSON or piped output", async () => {
    const p = await tmp.pinned()
    expect((await runCliWith({ cwd: p.dir, color: true }, "verify", "--cwd", p.dir)).out).toContain("\u001b[32mok\u001b[0m")
    expect((await runCliWith({ cwd: p.dir, color: true }, "verify", "--cwd", p.dir, "--json")).out).not.toContain("\u001b[")
    const plain = await runCliWith({ cwd: p.dir, color: true }, "verify", "--cwd", p.dir, "--no-color")
    expect(plain.out).toContain("ok      cycle")
    expect(plain.out).not.toContain("\u001b[")
    const piped = spawnSync(process.execPath, [BIN, "verify", "--cwd", p.dir], { encoding: "utf8", timeout: 20000 })
    expect(piped.stdout).toContain("ok      cycle")
    expect(piped.stdout).not.toContain("\u001b[")
  })
})

describe("CLI: shell completion", () => {
  it("bash completes commands, sub-commands and each command's own options", () => {
    const dir = os.tmpdir()
    const script = path.join(dir, `alloy-completion-${process.pid}.bash`)
    writeFileSync(script, completionScript("bash", commands))
    tmp.defer(() => spawnSync("rm", ["-f", script]))
    const probe = (...words: string[]) => {
      const r = spawnSync("bash", ["-c", `source "$0"; COMP_WORDS=(opencode-alloy "$@"); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _opencode_alloy; echo "\${COMPREPLY[*]}"`, script, ...words], {
        encoding: "utf8",
        timeout: 10000,
      })
      expect(r.status, r.stderr).toBe(0)
      return r.stdout.trim().split(/\s+/)
    }
    expect(probe("ver")).toEqual(["verify"])
    expect(probe("verify", "--js")).toEqual(["--json"])
    expect(probe("verify", "--")).not.toContain("--keep")
    expect(probe("brief", "b")).toEqual(["build"])
    expect(probe("-C", "x", "brief", "build", "--d")).toEqual(["--dry-run"])
    expect(probe("demo", "--k")).toEqual(["--keep"])
    // an option with a fixed set completes its values, as that command has them
    expect(probe("export", "--format", "")).toEqual(["otel", "intoto"])
    expect(probe("export", "--format", "i")).toEqual(["intoto"])
    expect(probe("brief", "diff", "a", "b", "--format", "")).toEqual(["text", "markdown"])
    expect(probe("bridge", "--otel-protocol", "")).toEqual(["http/protobuf", "http/json"])
  })

  it("zsh and fish scripts name every command and option", async () => {
    for (const shell of ["zsh", "fish"] as const) {
      const r = await runCli(os.tmpdir(), "completion", shell)
      expect(r.code).toBe(0)
      for (const { words, spec } of commandPaths(commands)) {
        expect(r.out, `${shell} ${words.join(" ")}`).toContain(words[words.length - 1]!)
        for (const o of Object.keys(spec.options ?? {})) expect(r.out, `${shell} --${o}`).toContain(shell === "fish" ? `-l ${o}` : `--${o}`)
      }
    }
    expect((await runCli(os.tmpdir(), "completion", "fish")).out).toContain("complete -c opencode-alloy -n '__fish_seen_subcommand_from brief; and __fish_seen_subcommand_from build' -l dry-run")
    expect((await runCli(os.tmpdir(), "completion", "fish")).out).toContain("-l format -x -a 'otel intoto'")
    expect((await runCli(os.tmpdir(), "completion", "zsh")).out).toContain('"export "*) case "$prev" in --format) compadd -- otel intoto; return;;')
  })
})

describe("CLI: fast start", () => {
  it("--help and a usage error run no schema library, YAML parser or command implementation", () => {
    const bundle = path.join(__dirname, "..", "..", "dist", "cli", "alloy.cjs")
    const source = readFileSync(bundle, "utf8")
    // the CLI is one script: esbuild starts each module's code in it with a `// <path>` line
    const starts = [...source.matchAll(/^\/\/ ((?:src|node_modules)\/\S+)$/gm)].map((m) => ({ at: m.index, module: m[1]! }))
    expect(starts.some((s) => s.module.startsWith("node_modules/zod/"))).toBe(true)
    const moduleAt = (offset: number) => starts.findLast((s) => s.at <= offset)?.module ?? "(the bundle's own start)"
    for (const argv of [["--help"], ["verify", "--help"], ["verify", "--jsn"]]) {
      // V8's own count of every function called (the code cache off, so the counts are of this run's compiling)
      const dir = mkdtempSync(path.join(os.tmpdir(), "alloy-coverage-"))
      tmp.defer(() => rmSync(dir, { recursive: true, force: true }))
      const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: "utf8", timeout: 20000, env: { ...process.env, NODE_V8_COVERAGE: dir, NODE_DISABLE_COMPILE_CACHE: "1" } })
      expect(r.status, argv.join(" ")).toBe(argv[1] === "--jsn" ? 2 : 0)
      const scripts = readdirSync(dir).flatMap(
        (f) => (JSON.parse(readFileSync(path.join(dir, f), "utf8")) as { result: Array<{ url: string; functions: Array<{ ranges: Array<{ startOffset: number; count: number }> }> }> }).result,
      )
      const cli = scripts.find((s) => s.url === pathToFileURL(bundle).href)
      const ran = [...new Set(cli!.functions.filter((f) => f.ranges[0]!.count > 0).map((f) => moduleAt(f.ranges[0]!.startOffset)))]
      expect(ran, argv.join(" ")).toContain("src/cli/main.ts")
      expect(
        ran.filter((m) => /^node_modules\/(zod|canonicalize)\/|-actions\.ts$/.test(m)),
        argv.join(" "),
      ).toEqual([])
      // the packages that stay packages are not even loaded
      expect(
        scripts.filter((s) => /node_modules\/(zod|yaml|js-yaml|ulid|@opencode-ai)\//.test(s.url)).map((s) => s.url),
        argv.join(" "),
      ).toEqual([])
    }
  })

  it("verify over plain frontmatter loads neither YAML library; a block scalar loads the round-trip one, an escaped quote js-yaml", async () => {
    const p = await tmp.pinned()
    // the libraries load through require (on first use): list the CommonJS modules the process loaded
    const preload = path.join(p.dir, "..", "list-required.cjs")
    writeFileSync(preload, 'process.on("exit", () => process.stderr.write("REQUIRED " + Object.keys(require.cache).join("\\nREQUIRED ") + "\\n"))\n')
    const yamlLibs = () => {
      const r = spawnSync(process.execPath, ["--require", preload, BIN, "verify", "--json"], { cwd: p.dir, encoding: "utf8", timeout: 20000 })
      expect(r.status, r.stderr).toBe(0)
      const required = r.stderr.split("\n").filter((l) => l.startsWith("REQUIRED "))
      expect(required.length).toBeGreaterThan(0)
      return [...new Set(required.map((l) => /node_modules[\\/](js-yaml|yaml)[\\/]/.exec(l)?.[1]).filter(Boolean))].sort()
    }
    expect(yamlLibs()).toEqual([])
    const intent = path.join(p.dir, ".alloy", "intents", `${BRIEF_ID}.md`)
    const text = readFileSync(intent, "utf8")
    // one-line forms the line reader leaves to js-yaml (an escape in a double-quoted scalar)
    writeFileSync(intent, text.replace(/^title: (.*)$/m, 'title: "$1 \\u2014 for shoppers"'))
    expect(yamlLibs()).toEqual(["js-yaml"])
    // a block scalar: the round-trip parser reads it
    writeFileSync(intent, text.replace(/^goal: (.*)$/m, "goal: >\n  $1"))
    expect(yamlLibs()).toEqual(["yaml"])
  })
})
