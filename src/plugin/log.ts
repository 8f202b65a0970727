/** Report through OpenCode's log, once per distinct message; never throws, never awaits on the hot path. */
import type { PluginInput } from "@opencode-ai/plugin"

export type Logger = (level: "debug" | "info" | "warn" | "error", message: string, extra?: Record<string, unknown>) => void

export function createLogger(client: PluginInput["client"] | undefined): Logger {
  const seen = new Set<string>()
  return (level, message, extra) => {
    const key = `${level}:${message}`
    if (seen.has(key)) return
    if (seen.size > 1000) seen.clear()
    seen.add(key)
    try {
      const p = client?.app?.log?.({ body: { service: "alloy", level, message, ...(extra ? { extra } : {}) } })
      if (p && typeof (p as Promise<unknown>).catch === "function") (p as Promise<unknown>).catch(() => undefined)
    } catch {
      /* logging must never fail a hook */
    }
  }
}
