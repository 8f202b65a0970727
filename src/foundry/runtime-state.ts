/**
 * Foundry's runtime state under `.foundry/` (CONTRACTS.md §3): `active-stage.json`, written by
 * `foundry_stage_begin` and deleted by `foundry_stage_end`, and `last-stage.json`, written by
 * `foundry_stage_end`. Small JSON files; read bounded and tolerant (a file in another shape reads
 * as absent, so the hooks never fail on Foundry's bookkeeping).
 */
import path from "node:path"
import { z } from "zod"
import { readRegularFile, type BoundedRead } from "../store/read-file.js"

export const ActiveStageSchema = z.object({
  cycle: z.string().min(1),
  stage: z.string().min(1),
  tokenHash: z.string().nullable().optional(),
  token: z.string().nullable().optional(),
  baseSha: z.string().optional(),
  startedAt: z.string().optional(),
})
export type ActiveStage = z.infer<typeof ActiveStageSchema>

export const LastStageSchema = z.object({
  cycle: z.string().min(1),
  stage: z.string().min(1),
  baseSha: z.string().optional(),
  summary: z.string().optional(),
})

const MAX_STATE_BYTES = 64 * 1024

/** Read one of Foundry's small runtime JSON files under `.foundry/`; undefined when absent or not in the expected shape. */
export function readFoundryState<T>(root: string, name: string, schema: z.ZodType<T>): T | undefined {
  let r: BoundedRead
  try {
    r = readRegularFile(path.join(root, ".foundry", name), MAX_STATE_BYTES)
  } catch {
    return undefined
  }
  if (r.kind !== "ok") return undefined
  try {
    const parsed = schema.safeParse(JSON.parse(r.bytes.toString("utf8")))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
