/** completion: the shell completion scripts, rendered from the command table. */
import { EXIT_OK, usageError } from "../io.js"
import { completionScript, SHELLS, type Shell } from "../completion.js"
import { suggest } from "../../core/nearest.js"
import type { Commands } from "./types.js"

/** The table is passed in (as a thunk: it includes this group) so this file does not import the index. */
export function shellCommands(table: () => Commands): Commands {
  return {
    completion: {
      summary: "print a shell completion script for bash, zsh or fish",
      usage: "completion <bash|zsh|fish>",
      details: "Load it from your shell's start-up file; the script completes commands, sub-commands and each command's own options.",
      examples: [
        "opencode-alloy completion bash > ~/.local/share/bash-completion/completions/opencode-alloy",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh syntax, printed as it is
        'opencode-alloy completion zsh > "${fpath[1]}/_opencode-alloy"',
        "opencode-alloy completion fish > ~/.config/fish/completions/opencode-alloy.fish",
      ],
      run: (io, rest) => {
        const shell = rest[0]
        if (rest.length !== 1 || !SHELLS.includes(shell as Shell)) {
          const near = shell ? suggest(shell, SHELLS) : undefined
          throw usageError(`usage: opencode-alloy completion <${SHELLS.join("|")}>`, near ? `did you mean \`opencode-alloy completion ${near}\`?` : `name one of: ${SHELLS.join(", ")}`)
        }
        io.out(completionScript(shell as Shell, table()).trimEnd())
        return EXIT_OK
      },
    },
  }
}
