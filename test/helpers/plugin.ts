/**
 * One plugin driver: the real plugin entry called the way OpenCode does (the exported plugin
 * function with a PluginInput), then its tools with a ToolContext and its hooks with
 * `tool.execute.before` / `tool.execute.after` objects carrying Foundry's compact JSON text.
 */
import { AlloyPlugin } from "../../src/index.js"
import type { PluginInput, ToolContext } from "@opencode-ai/plugin"

export type Json = Record<string, any>

export interface LogEntry {
  level: string
  message: string
  extra?: unknown
}

export interface LoadedPlugin {
  /** what the plugin function returned (tools and hooks by name) */
  hooks: Json
  /** what the plugin logged through `client.app.log` */
  logs: LogEntry[]
  /** call a tool: arguments checked against its zod shape, then executed; the result text and JSON */
  tool(name: string, args: Record<string, unknown>, opts?: { checkArgs?: boolean }): Promise<{ text: string; json: Json }>
  /** run `tool.execute.after` on `text` and return the text the model would see */
  after(tool: string, text: string, opts?: { callID?: string; args?: unknown }): Promise<string>
  /** run `tool.execute.before` */
  before(tool: string, opts?: { callID?: string; args?: unknown }): Promise<void>
}

let calls = 0

export async function loadPlugin(directory: string, options?: unknown): Promise<LoadedPlugin> {
  const logs: LogEntry[] = []
  const client = {
    app: {
      log: async (o: { body: LogEntry }) => {
        logs.push({ level: o.body.level, message: o.body.message, extra: o.body.extra })
        return { data: true }
      },
    },
  }
  const input = { client, directory, worktree: directory, project: { id: "test" }, serverUrl: new URL("http://127.0.0.1:1"), $: undefined } as unknown as PluginInput
  const hooks = (await AlloyPlugin(input, options as never)) as Json
  return {
    hooks,
    logs,
    async tool(name, args, opts = {}) {
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
      } as unknown as ToolContext
      // validate the arguments with the tool's own zod shape, as OpenCode does (unless a test
      // wants to see what the tool itself says about arguments OpenCode would have refused)
      const { z } = await import("zod")
      const parsed = opts.checkArgs === false ? args : z.object(def.args).parse(args)
      const out = await def.execute(parsed as never, context)
      const text = typeof out === "string" ? out : out.output
      return { text, json: JSON.parse(text) as Json }
    },
    async after(tool, text, opts = {}) {
      const output = { title: "", output: text, metadata: {} }
      const fn = hooks["tool.execute.after"]
      if (fn) await fn({ tool, sessionID: "ses_test", callID: opts.callID ?? `call_${++calls}`, args: opts.args ?? {} }, output)
      return output.output
    },
    async before(tool, opts = {}) {
      const fn = hooks["tool.execute.before"]
      if (fn) await fn({ tool, sessionID: "ses_test", callID: opts.callID ?? `call_${++calls}` }, { args: opts.args ?? {} })
    },
  }
}
