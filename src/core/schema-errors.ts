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

export function schemaError(code: ErrorCode, file: string, what: string, error: z.ZodError, fix?: string): AlloyError {
  const details = zodDetails(error)
  const list = details.map((d) => `  - ${d.path}: ${d.message}`).join("\n")
  const n = details.length
  return new AlloyError(code, `${file}: ${what} has ${n} problem${n === 1 ? "" : "s"}:\n${list}`, {
    file,
    details,
    ...(fix ? { fix } : {}),
  })
}
