import { AlloyError } from "../../src/core/errors.js"

/** The AlloyError code `fn` throws, `undefined` when it does not throw, or a marker for any other exception. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    return e instanceof AlloyError ? e.code : `not-an-AlloyError: ${String(e)}`
  }
  return undefined
}
