/**
 * Package entry for OpenCode. It exports only the plugin function (OpenCode calls every
 * export of a plugin module), as a named export and as the default. The library API is
 * `opencode-alloy/core`.
 *
 * The plugin's code is loaded when OpenCode calls the plugin, not when it imports this module:
 * importing costs OpenCode's start-up next to nothing, and a session that never loads the plugin
 * (`hooks: false` and no tool use aside) pays for nothing else.
 */
import type { Plugin } from "@opencode-ai/plugin"

export const AlloyPlugin: Plugin = async (input, options) => {
  const { AlloyPlugin: plugin } = await import("./plugin/plugin.js")
  return plugin(input, options)
}

export default AlloyPlugin
