/**
 * The small glob dialect artefact gates use (`path: release-notes/*.md`), matched against POSIX paths
 * relative to the repository root: `*` (within a segment), `**` (any number of segments), `?`,
 * `[abc]`, `{a,b}`. Dotfiles match like any other name (Foundry's file patterns do the same for its own
 * artefacts). A gate may list several globs separated by commas.
 */

const cache = new Map<string, RegExp>()

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c
}

export function globToRegExp(glob: string): RegExp {
  const hit = cache.get(glob)
  if (hit) return hit
  let re = ""
  let depth = 0
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === "*") {
      if (glob[i + 1] === "*") {
        // `**/` = zero or more whole segments; a trailing `**` = anything
        if (glob[i + 2] === "/") {
          re += "(?:[^/]*/)*"
          i += 2
        } else {
          re += ".*"
          i += 1
        }
      } else re += "[^/]*"
    } else if (c === "?") re += "[^/]"
    else if (c === "[") {
      const close = glob.indexOf("]", i + 1)
      if (close < 0) re += "\\["
      else {
        const body = glob.slice(i + 1, close).replace(/\\/g, "\\\\")
        re += `[${body.startsWith("!") ? "^" + body.slice(1) : body}]`
        i = close
      }
    } else if (c === "{") {
      depth++
      re += "(?:"
    } else if (c === "}" && depth > 0) {
      depth--
      re += ")"
    } else if (c === "," && depth > 0) re += "|"
    else re += escapeChar(c)
  }
  while (depth-- > 0) re += ")"
  const rx = new RegExp(`^${re}$`)
  if (cache.size > 256) cache.clear()
  cache.set(glob, rx)
  return rx
}

/** Split a gate's `path` ("a/*.md, b/**") into globs; commas inside `{}` belong to the glob. */
export function splitGlobs(paths: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ""
  for (const c of paths) {
    if (c === "{") depth++
    if (c === "}") depth = Math.max(0, depth - 1)
    if (c === "," && depth === 0) {
      if (cur.trim()) out.push(cur.trim())
      cur = ""
    } else cur += c
  }
  if (cur.trim()) out.push(cur.trim())
  return out
}

export function matchesAny(file: string, globs: readonly string[]): boolean {
  const p = file.replace(/\\/g, "/").replace(/^\.\//, "")
  return globs.some((g) => globToRegExp(g.replace(/^\.\//, "")).test(p))
}
