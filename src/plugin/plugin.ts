/**
 * The OpenCode plugin: registers the `alloy_*` tools, the wizard skills, and the hooks that
 * make pinned Foundry cycles run under their verified bundle.
 *
 * The hooks' code loads with the plugin, not on the first Foundry call: a hook must already be in
 * memory to fail closed when the process cannot open another file (EMFILE); loaded on demand, it
 * could not load then, and the pinned stage would go out unverified (test/faults/pin-lookup.test.ts).
 */
import path from "node:path"
import type { Plugin } from "@opencode-ai/plugin"
import { resolveOptions } from "./options.js"
import { createLogger } from "./log.js"
import { resolveTools } from "./tools/resolve-tools.js"
import { authoringTools } from "./tools/authoring-tools.js"
import { insightsTools } from "./tools/insights-tools.js"
import { createHooks } from "./hooks/index.js"
import { compatTools } from "./tools/compat-tools.js"
import { formationTools } from "./tools/formation-tools.js"

import { packageDir } from "../package-dir.js"

/** `<package>/skills`, next to `dist/`. */
export const SKILLS_DIR = path.join(packageDir(), "skills")

export const AlloyPlugin: Plugin = async (input, rawOptions) => {
  const options = resolveOptions(rawOptions)
  const log = createLogger(input.client)
  return {
    async config(config) {
      if (!options.skills) return
      try {
        const c = config as { skills?: { paths?: string[] } }
        c.skills = c.skills ?? {}
        c.skills.paths = c.skills.paths ?? []
        if (!c.skills.paths.includes(SKILLS_DIR)) c.skills.paths.push(SKILLS_DIR)
      } catch (e) {
        log("warn", `could not register Alloy skills: ${(e as Error).message}`)
      }
    },
    tool: { ...resolveTools(), ...authoringTools(), ...insightsTools(), ...compatTools(input.serverUrl), ...formationTools() },
    ...(options.hooks ? createHooks(input.directory, options, log) : {}),
  }
}
