/** Turn zod issues into Alloy error details: every problem at once, each naming its field. */
import { z } from "zod"
import { AlloyError, type ErrorCode, type ErrorDetail } from "./errors.js"
import { holdsMoreValuesThan, MAX_PARSED_VALUES, TOO_MANY_VALUES } from "./schema-check.js"

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

/**
 * `schema.safeParse(value)` for a value parsed from what Alloy did not write itself or reads back (an
 * intent or recipe file, a WORK file's entry, a run record in the outbox, a file pulled from a team
 * store, a runner's registration): one holding more values than any valid one can
 * (MAX_PARSED_VALUES) fails with one issue before zod sees it, since zod words every fault it finds
 * and a 4 MiB file of millions of wrong values held a command for 19 s and 2.7 GB. `textLength`,
 * when the caller has it, is the length of the JSON text the value was parsed from: a text of n
 * characters holds at most (n + 1) / 2 values, so a short one is not counted. `split`: what the
 * author does instead (for a record a person writes), added to the issue.
 */
export function safeParseBounded<S extends z.ZodType>(schema: S, value: unknown, opts: { textLength?: number; split?: string } = {}): z.ZodSafeParseResult<z.output<S>> {
  const tooMany = tooManyValues(value, opts)
  return tooMany ? { success: false, error: tooMany as z.ZodError<z.output<S>> } : schema.safeParse(value)
}

/** safeParseBounded's refusal on its own, for a caller that checks more than the schema: the one issue, or undefined. */
export function tooManyValues(value: unknown, opts: { textLength?: number; split?: string } = {}): z.ZodError | undefined {
  const mayBeTooLarge = opts.textLength === undefined || opts.textLength > 2 * MAX_PARSED_VALUES
  if (!mayBeTooLarge || !holdsMoreValuesThan(value, MAX_PARSED_VALUES)) return undefined
  return new z.ZodError([{ code: "custom", path: [], message: `${TOO_MANY_VALUES}, far more than any valid one${opts.split ? `; ${opts.split}` : ""}` }])
}

/**
 * JSON text Alloy reads back, parsed and checked against `schema` with safeParseBounded (given the
 * text's own length, so an ordinary file is not counted); undefined when the text is not JSON.
 */
export function safeParseJson<S extends z.ZodType>(schema: S, text: string): z.ZodSafeParseResult<z.output<S>> | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return safeParseBounded(schema, value, { textLength: text.length })
}
