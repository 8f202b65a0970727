/**
 * A line diff of two texts (pure): the longest common subsequence of lines, as a list of kept, removed
 * and added lines. Bounded: past `maxCells` (lines of a × lines of b) it reports the texts as replaced
 * whole rather than spend quadratic time; a stage pack is a few hundred lines.
 */
export type DiffOp = { op: "same" | "del" | "add"; line: string }

export function lineDiff(a: string, b: string, maxCells = 4_000_000): { ops: DiffOp[]; whole: boolean } {
  const x = a.split("\n")
  const y = b.split("\n")
  if (a === b) return { ops: x.map((line) => ({ op: "same", line })), whole: false }
  if (x.length * y.length > maxCells) return { ops: [...x.map((line) => ({ op: "del" as const, line })), ...y.map((line) => ({ op: "add" as const, line }))], whole: true }
  const n = x.length
  const m = y.length
  // lcs[i][j] = LCS length of x[i..] and y[j..], one flat array
  const lcs = new Uint32Array((n + 1) * (m + 1))
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i * (m + 1) + j] = x[i] === y[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!)
  const ops: DiffOp[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      ops.push({ op: "same", line: x[i]! })
      i++
      j++
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) ops.push({ op: "del", line: x[i++]! })
    else ops.push({ op: "add", line: y[j++]! })
  }
  while (i < n) ops.push({ op: "del", line: x[i++]! })
  while (j < m) ops.push({ op: "add", line: y[j++]! })
  return { ops, whole: false }
}
