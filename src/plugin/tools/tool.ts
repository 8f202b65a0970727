/**
 * OpenCode's `tool()` helper, without loading the plugin API package at run time: upstream it is
 * the identity function with `tool.schema = z` (zod 4). Only its types come from
 * `@opencode-ai/plugin`, so that package (and what it pulls in, which wants a newer Node) is a
 * development dependency and an optional peer, never part of a user's install.
 */
import { z } from "zod"
import type { tool as pluginTool } from "@opencode-ai/plugin"

export const tool: typeof pluginTool = Object.assign(<T>(input: T) => input, { schema: z }) as typeof pluginTool
