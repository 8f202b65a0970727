// The shape of test/ that npm test keeps (README, "Tests"):
//  - test/unit/ mirrors src/: test/unit/<folder>/<module>[.<aspect>].test.ts tests src/<folder>/<module>.ts;
//  - one CLI runner, one plugin driver, one tree snapshot, one git helper: only test/helpers/ calls the
//    CLI entry, calls the plugin function, or runs git, so no test grows a private copy again;
//  - fixtures hold data only: no code under test/fixtures/.
// Prints every problem with its file and exits 1 when there is any.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import path from "node:path"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const rel = (p) => path.relative(root, p).split(path.sep).join("/")

function files(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

const problems = []

for (const f of files(path.join(root, "test", "unit"))) {
  const r = rel(f).slice("test/unit/".length)
  const m = /^([a-z0-9-]+(?:\/[a-z0-9-]+)*)\/([a-z0-9-]+)(?:\.[a-z0-9-]+)?\.test\.ts$/.exec(r)
  if (!m) {
    problems.push(`${rel(f)}: a unit test lives at test/unit/<folder>/<module>[.<aspect>].test.ts`)
    continue
  }
  const src = path.join(root, "src", m[1], `${m[2]}.ts`)
  if (!existsSync(src)) problems.push(`${rel(f)}: names src/${m[1]}/${m[2]}.ts, which does not exist (move the test beside the module it tests)`)
}

const OWNED = [
  [/\bawait main\(/, "calls the CLI entry itself: use runCli / runBin from test/helpers/cli.ts"],
  [/\bAlloyPlugin\(/, "calls the plugin function itself: use loadPlugin from test/helpers/plugin.ts"],
  [/(?:spawnSync|execFileSync|execFile|spawn)\(\s*"git"/, "runs git itself: use git / gitInitCommitAll from test/helpers/git.ts"],
  [/\bfunction\*? ?(?:snapshot|walk|listTree)\w*\(|const walk = /, "walks a tree itself: use snapshotTree from test/helpers/tree.ts"],
]
for (const f of files(path.join(root, "test")).filter((f) => f.endsWith(".ts"))) {
  const r = rel(f)
  if (r.startsWith("test/helpers/")) continue
  const text = readFileSync(f, "utf8")
  for (const [re, why] of OWNED) if (re.test(text)) problems.push(`${r}: ${why}`)
}

for (const f of files(path.join(root, "test", "fixtures"))) {
  if (/\.(?:[cm]?[jt]s)$/.test(f)) problems.push(`${rel(f)}: fixtures hold data only; put code in test/helpers/`)
}

if (problems.length) {
  console.error(`test layout: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`)
  process.exit(1)
}
console.log("test layout: ok")
