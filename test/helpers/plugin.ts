/**
 * Drive the real plugin entry the way OpenCode does: call the exported plugin function with a
 * PluginInput, then call tools with a ToolContext and hooks with their input/output objects.
 */
import { AlloyPlugin } from "../../src/index.js"
import type { Hooks, PluginInput, ToolContext } from "@opencode-ai/plugin"

export interface LogEntry {
  level: string
  message: string
}

export interface LoadedPlugin {
  hooks: Hooks
  logs: LogEntry[]
  tool(name: string, args: Record<string, unknown>): Promise<{ text: string; json: Record<string, unknown> }>
}

export async function loadPlugin(directory: string, options?: Record<string, unknown>): Promise<LoadedPlugin> {
  const logs: LogEntry[] = []
  const client = {
    app: {
      log: async (o: { body: LogEntry }) => {
        logs.push({ level: o.body.level, message: o.body.message })
        return { data: true }
      },
    },
  }
  const input = { client, directory, worktree: directory, project: { id: "test" }, serverUrl: new URL("http://127.0.0.1:1"), $: undefined } as unknown as PluginInput
  const hooks = await AlloyPlugin(input, options)
  return {
    hooks,
    logs,
    async tool(name, args) {
      const def = hooks.tool?.[name]
      if (!def) throw new Error(`tool ${name} is not registered`)
      const context: ToolContext = {
        sessionID: "ses_test",
        messageID: "msg_test",
        agent: "build",
        directory,
        worktree: directory,
        abort: new AbortController().signal,
        metadata: () => undefined,
        ask: async () => undefined,
      }
      // validate the arguments with the tool's own zod shape, as OpenCode does
      const { z } = await import("zod")
      const parsed = z.object(def.args).parse(args)
      const out = await def.execute(parsed as never, context)
      const text = typeof out === "string" ? out : out.output
      return { text, json: JSON.parse(text) as Record<string, unknown> }
    },
  }
}
