/**
 * Where the package's own files are (package.json, skills/, examples/), found from wherever this
 * code runs: the TypeScript sources, tsc's output, or a bundle with its chunks. A fixed relative
 * path would be right for one layout only.
 */
import { existsSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

let cached: string | undefined

export function packageDir(): string {
  if (cached) return cached
  const here = path.dirname(fileURLToPath(import.meta.url))
  let dir = here
  for (let i = 0; i < 4; i++) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "skills"))) return (cached = dir)
    dir = path.dirname(dir)
  }
  return (cached = path.resolve(here, ".."))
}
