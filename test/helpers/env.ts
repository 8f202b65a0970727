/**
 * One env helper: tests that read Alloy's `ALLOY_*` switches (or set git's identity) start from a
 * clean environment and give the process back exactly as they found it.
 */
import { afterEach, beforeEach } from "vitest"

/**
 * For every test of the calling file: no `ALLOY_*` variable is set on entry, `vars` are set, and the
 * whole environment is restored afterwards (whatever the test changed).
 */
export function isolateEnv(vars: Readonly<Record<string, string>> = {}): void {
  let saved: NodeJS.ProcessEnv = {}
  beforeEach(() => {
    saved = { ...process.env }
    for (const k of Object.keys(process.env)) if (k.startsWith("ALLOY_")) delete process.env[k]
    Object.assign(process.env, vars)
  })
  afterEach(() => {
    process.env = saved
  })
}

/** Run `fn` with `vars` set (undefined = unset), restoring each variable afterwards. */
export async function withEnv<T>(vars: Readonly<Record<string, string | undefined>>, fn: () => T | Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const set = (v: Readonly<Record<string, string | undefined>>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k]
      else process.env[k] = x
    }
  }
  set(vars)
  try {
    return await fn()
  } finally {
    set(saved)
  }
}
