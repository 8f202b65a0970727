/**
 * The contract-test pack shipped in the package (`opencode-alloy/contracts`): per generation, the
 * tools Alloy relies on with their recorded parameter schemas (known-good digests), the agents and
 * the prompt shapes. Read-only data; the compatibility check compares a manifest against it.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import path from "node:path"
import { z } from "zod"
import { ToolCapabilitySchema, type ToolCapability } from "../core/capabilities.js"
import type { KnownGeneration } from "./generations.js"

/** `<package>/contracts` (next to `dist/`, and next to `src/` in the repository). */
export const CONTRACTS_DIR = fileURLToPath(new URL("../../contracts", import.meta.url))

const RecordedTool = ToolCapabilitySchema.extend({ schema: z.unknown() })
const RecordedTools = z.array(RecordedTool)
export type RecordedTool = ToolCapability & { schema?: unknown }

export function contractPath(generation: KnownGeneration, file: string): string {
  return path.join(CONTRACTS_DIR, "generations", generation, file)
}

/** The known-good tools of a generation (as recorded from a server serving them). */
export function knownTools(generation: KnownGeneration): RecordedTool[] {
  return RecordedTools.parse(JSON.parse(readFileSync(contractPath(generation, "tools.json"), "utf8")))
}
