/** Turn zod issues into Alloy error details: every problem at once, each naming its field. */
import type { z } from "zod"
import { AlloyError, type ErrorCode, type ErrorDetail } from "./errors.js"

export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = ""
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`
    else out += out ? `.${String(p)}` : String(p)
  }
  return out || "(top level)"
}

export function zodDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((i) => ({ path: issuePath(i.path), message: i.message }))
}

/** Problems listed in an error's message; the rest are counted (a person reads the first ones and runs the check again). */
const LISTED = 20
/** Problems kept as data (`details`): enough for any tool to fix a record in one pass, bounded for one made of faults. */
const DETAILED = 200

/**
 * Values a record read from a file (an intent, a brief recipe) may hold before it is refused
 * unparsed. The limits (200 entries a list, 200 criteria of 8 evidence entries) keep a valid one
 * to a few ten thousand; zod words every fault it finds, so a 1 MiB file of half a million bad
 * values cost 4 s, 766 MB and a 27 MB message.
 */
export const MAX_RECORD_VALUES = 100_000

export const tooManyValues = (split: string) => `holds more than ${MAX_RECORD_VALUES.toLocaleString("en")} values, far more than the limits allow; ${split}`

export function schemaError(code: ErrorCode, file: string, what: string, error: z.ZodError, fix?: string): AlloyError {
  const all = zodDetails(error)
  const n = all.length
  const shown = all.slice(0, LISTED).map((d) => `  - ${d.path}: ${d.message}`)
  if (n > LISTED) shown.push(`  … and ${n - LISTED} more`)
  const details = n > DETAILED ? [...all.slice(0, DETAILED), { path: "(more)", message: `${n - DETAILED} more problems not listed` }] : all
  return new AlloyError(code, `${file}: ${what} has ${n} problem${n === 1 ? "" : "s"}:\n${shown.join("\n")}`, {
    file,
    details,
    ...(fix ? { fix } : {}),
  })
}
