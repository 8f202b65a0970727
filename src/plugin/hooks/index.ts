/** Native Foundry integration (ALLOY.md §6). Filled in by the hooks module. */
import type { Hooks } from "@opencode-ai/plugin"
import type { AlloyOptions } from "../options.js"
import type { Logger } from "../log.js"

export function createHooks(directory: string, options: AlloyOptions, log: Logger): Partial<Hooks> {
  void directory
  void options
  void log
  return {}
}
