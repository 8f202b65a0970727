#!/usr/bin/env node
// The example project's word-limit validator (its Foundry law `word-limit` and its intent's AC-1
// run it): `node scripts/validators/word-limit.mjs --max 150 <file>...` exits 0 when every file,
// title included, has at most that many words, and 1 (naming each file over it) when one has more.
import { readFileSync } from "node:fs"

const args = process.argv.slice(2)
const at = args.indexOf("--max")
const max = at >= 0 ? Number(args[at + 1]) : Number.NaN
const files = args.filter((_, i) => i !== at && i !== at + 1)
if (!Number.isInteger(max) || max < 1 || files.length === 0) {
  console.error("usage: node scripts/validators/word-limit.mjs --max <words> <file>...")
  process.exit(2)
}
let over = 0
for (const file of files) {
  // a word: a run of letters or digits (Markdown marks and punctuation are not words)
  const words = readFileSync(file, "utf8").match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu)?.length ?? 0
  if (words > max) {
    console.log(`${file}: ${words} words, over the limit of ${max}`)
    over++
  } else console.log(`${file}: ${words} words (limit ${max})`)
}
process.exit(over ? 1 : 0)
