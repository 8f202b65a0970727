/** One in-process CLI runner for tests: the real entry (`main`), output captured, exit code returned. */
import { main } from "../../src/cli/main.js"

export interface CliResult {
  readonly code: number
  readonly out: string
  readonly err: string
  /** stdout parsed as JSON (throws when it is not) */
  json<T = Record<string, unknown>>(): T
}

export async function runCli(cwd: string, ...argv: string[]): Promise<CliResult> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), cwd })
  const text = out.join("\n")
  return { code, out: text, err: err.join("\n"), json: <T>() => JSON.parse(text) as T }
}
