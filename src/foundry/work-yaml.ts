/**
 * Foundry's WORK files (`WORK.feedback.yaml`, `WORK.history.yaml`) are written by Foundry with
 * js-yaml's `dump`; Alloy reads them with js-yaml's `load` (CORE schema: no timestamps or binary
 * types), the same library that wrote them, and about 6x faster than a round-trip-preserving parser
 * on a 1,000-item feedback file (which the stage-end hook reads while the agent waits).
 *
 * Anchors and aliases: `load` shares an aliased node rather than copying it, but everything that
 * later walks or serialises the value (a record, a report) expands it, so a small file of nested
 * aliases would become a huge record. A document that uses aliases is measured once, expanded, under
 * a budget proportional to its text; one that would grow past it is refused as `malformed`.
 */
import { load, CORE_SCHEMA } from "js-yaml"
import { AlloyError } from "../core/errors.js"

/** Expanded size allowed for a document with aliases: this many times its text, plus a small constant. */
export const ALIAS_EXPANSION_FACTOR = 4
const ALIAS_SLACK = 64 * 1024

export function parseWorkYaml(text: string, file: string): unknown {
  let value: unknown
  try {
    value = load(text, { schema: CORE_SCHEMA, filename: file })
  } catch (e) {
    const msg = e instanceof RangeError ? "it is nested too deeply" : String((e as Error)?.message ?? e).split("\n")[0]
    throw new AlloyError("malformed", `${file} is not valid YAML (${msg})`, { file })
  }
  // only documents with an alias (`*name`) can expand; the check walks the shared nodes at most `budget` units
  if (/(^|[\s[{,:-])\*[^\s,\]}]/.test(text)) {
    const budget = text.length * ALIAS_EXPANSION_FACTOR + ALIAS_SLACK
    if (expandedSize(value, budget) > budget) {
      throw new AlloyError("malformed", `${file} uses YAML aliases that would expand to more than ${budget} characters (${ALIAS_EXPANSION_FACTOR}x its size); Alloy does not expand it`, {
        file,
        fix: "Foundry writes its WORK files without aliases; restore the file Foundry wrote",
      })
    }
  }
  return value
}

/** Size of the value as if every alias were copied out (strings by length, other nodes 1 each), stopping once past `budget`. */
export function expandedSize(value: unknown, budget: number): number {
  let size = 0
  const stack: unknown[] = [value]
  while (stack.length) {
    const v = stack.pop()
    if (typeof v === "string") size += v.length
    else if (Array.isArray(v)) {
      // children are paid for before they are pushed, so the stack never outgrows the budget
      size += 2 + 2 * v.length
      if (size > budget) return size
      for (const x of v) stack.push(x)
    } else if (v && typeof v === "object") {
      const entries = Object.entries(v)
      size += 2 + 2 * entries.length
      for (const [k] of entries) size += k.length
      if (size > budget) return size
      for (const [, x] of entries) stack.push(x)
    } else size += 4
    if (size > budget) return size
  }
  return size
}
