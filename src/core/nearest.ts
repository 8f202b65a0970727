/**
 * The nearest names to a mistyped one, for every "did you mean" Alloy says (the CLI's commands and
 * options, and the briefs and intents a command or a tool names): one measure of "near" for all.
 */

/**
 * Edit distance with adjacent swaps (optimal string alignment): `--jsn` is one step from `--json`,
 * `verfiy` one from `verify`. Only whether it is at most `limit` matters, so a pair whose lengths
 * differ by more is not compared, and a comparison stops once two rows in a row are past `limit`
 * (no later row can come back under it). Three rows, reused: a project's whole list of cycles is
 * compared against each name a formation misses, 10,000 names at a time.
 */
function distanceAtMost(a: string, b: string, limit: number, rows: Int32Array[]): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let [before, prev, cur] = rows as [Int32Array, Int32Array, Int32Array]
  for (let j = 0; j <= b.length; j++) prev[j] = j
  let prevMin = 0
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1)
      cur[j] = v
      if (v < rowMin) rowMin = v
    }
    // a row's cells come from the row above (or, by a swap, the one above that, plus one)
    if (rowMin > limit && prevMin > limit) return limit + 1
    prevMin = rowMin
    ;[before, prev, cur] = [prev, cur, before]
  }
  return Math.min(prev[b.length]!, limit + 1)
}

/**
 * The candidates nearest to a mistyped name, when any is close enough to be what was meant: the
 * best first (between equally near names, the one that starts with the same letter: `fsh` →
 * fish before zsh), then any other just as near (`eport` → export, report), since guessing one
 * of two equally likely names would send half the users the wrong way.
 */
export function nearest(word: string, candidates: Iterable<string>): string[] {
  const w = word.toLowerCase()
  const limit = Math.max(1, Math.min(3, Math.floor(w.length / 3)))
  const all = [...candidates]
  // a prefix counts as close: of at least three letters (`--dry` for `--dry-run`) closer than a
  // slip; of two, when at most four names start with them, as close as a slip of one letter
  // (`--al`: --allow-ungated; `st`: status or store; `in`: init, insights, intent or pin)
  const shortPrefix = w.length === 2 && all.filter((x) => x.startsWith(w)).length <= 4
  let width = w.length + 1
  for (const c of all) if (c.length >= width) width = c.length + 1
  const rows = [new Int32Array(width), new Int32Array(width), new Int32Array(width)]
  const scored: Array<{ c: string; d: number; first: boolean }> = []
  for (const c of all) {
    const d = c.startsWith(w) && w.length >= 3 ? 0.5 : c.startsWith(w) && shortPrefix ? 1 : distanceAtMost(w, c.toLowerCase(), limit, rows)
    if (d <= limit) scored.push({ c, d, first: c[0]?.toLowerCase() === w[0] })
  }
  if (!scored.length) return []
  const best = Math.min(...scored.map((x) => x.d))
  return scored
    .filter((x) => x.d === best)
    .sort((a, b) => Number(b.first) - Number(a.first))
    .map((x) => x.c)
}

/** The nearest candidate to a mistyped name, when one is close enough to be what was meant. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  return nearest(word, candidates)[0]
}

/** How many of the names there are a fix lists when none is near. */
const LISTED = 10

/**
 * The one fix for a name that is not there, worded alike wherever Alloy says it (the CLI, the
 * tools' errors, lint, verify): the nearest name (`did you mean X?`), else some of the names there
 * are, else how to make one. `create`: the command that makes one by the typed name; `suffix`: what
 * follows the name in the suggestion (a sign-off's `#AC-2`); `instead`: what to do instead of
 * correcting it (remove the reference...), said after the names.
 */
export function unknownNameFix(typed: string, known: Iterable<string>, what: { kind: string; create?: string; suffix?: string; instead?: string }): string {
  const names = [...new Set(known)]
  const near = suggest(typed, names)
  const create = what.create ? `\`${what.create}\`` : undefined
  if (near) return `did you mean ${near}${what.suffix ?? ""}?${create ? ` (a new one: ${create})` : ""}${what.instead ? ` Otherwise ${what.instead}` : ""}`
  const otherwise = what.instead ? `; otherwise ${what.instead}` : ""
  if (names.length === 0) return `${create ? `create it with ${create}` : `there are no ${what.kind}s here yet`}${otherwise}`
  // the first ten in order, without sorting all of them (a fix is made per finding, over every cycle)
  const first: string[] = []
  for (const n of names) {
    if (first.length === LISTED && n >= first[LISTED - 1]!) continue
    let at = first.length
    while (at > 0 && first[at - 1]! > n) at--
    first.splice(at, 0, n)
    if (first.length > LISTED) first.pop()
  }
  const listed = first.join(", ") + (names.length > LISTED ? `, and ${names.length - LISTED} more` : "")
  return `the ${what.kind}s here are: ${listed}${create ? `; a new one: ${create}` : ""}${otherwise}`
}
