/**
 * Tool results in Foundry's style: JSON text, `{"ok":true,...}` on success and
 * `{"ok":false,"code":"...","error":"...","fix":"..."}` on failure. Never a stack trace.
 */
import { errorView } from "../core/errors.js"

export function ok(body: Record<string, unknown>): string {
  return JSON.stringify({ ok: true, ...body })
}

export function fail(tool: string, e: unknown): string {
  const { code, message, ...rest } = errorView(e)
  return JSON.stringify({ ok: false, code, error: `${tool}: ${message}`, ...rest })
}

/** Run a tool body; anything thrown becomes a JSON failure with a stable code. */
export async function runTool(tool: string, body: () => Record<string, unknown> | Promise<Record<string, unknown>>): Promise<string> {
  try {
    return ok(await body())
  } catch (e) {
    return fail(tool, e)
  }
}
