/**
 * A check gate's command as Alloy runs it (`opencode-alloy check`): split into an argument vector
 * with the quoting rules people write in YAML (`'…'`, `"…"`, `\`), never handed to a shell unless the
 * criterion says `shell: true`. Nothing else is interpreted: `;`, `|`, `&&`, `$(…)`, `>` and backquotes
 * are ordinary characters of the word they stand in, so an authored command can never chain, pipe,
 * substitute or redirect. Unquoted words with glob characters (`*`, `?`, `[`, `{`) are marked so the
 * runner may expand them against the project's files (the one convenience a shell would have given
 * `release-notes/*.md`). Pure.
 */
import { AlloyError } from "./errors.js"

export interface CommandWord {
  readonly text: string
  /** an unquoted word with glob characters (the runner expands it against the project's files) */
  readonly glob: boolean
}

/** Split a command into words. Throws `usage` on an unterminated quote or an empty command. */
export function splitCommand(command: string): CommandWord[] {
  const words: CommandWord[] = []
  let cur = ""
  let inWord = false
  let glob = false
  let quote: "'" | '"' | undefined
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!
    if (quote === "'") {
      if (c === "'") quote = undefined
      else cur += c
      continue
    }
    if (quote === '"') {
      if (c === '"') quote = undefined
      else if (c === "\\" && (command[i + 1] === '"' || command[i + 1] === "\\")) cur += command[++i]
      else cur += c
      continue
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push({ text: cur, glob })
      cur = ""
      inWord = false
      glob = false
      continue
    }
    inWord = true
    if (c === "'" || c === '"') quote = c
    else if (c === "\\" && i + 1 < command.length) cur += command[++i]
    else {
      if (c === "*" || c === "?" || c === "[" || c === "{") glob = true
      cur += c
    }
  }
  if (quote) {
    throw new AlloyError("usage", `the check command ${JSON.stringify(command.slice(0, 120))} has an unterminated ${quote === "'" ? "single" : "double"} quote`, {
      fix: "close the quote in the criterion's `command:` (or set `shell: true` to have a shell read it)",
    })
  }
  if (inWord) words.push({ text: cur, glob })
  if (!words.length) throw new AlloyError("usage", "the check command is empty", { fix: "write the command to run in the criterion's `command:`" })
  return words
}
