/**
 * Plugin options: the `[name, options]` form in opencode.json, overridable by environment.
 *
 *   hooks          true | false        ALLOY_HOOKS=off|on           inject packs, fail closed, export runs
 *   onPinFailure   "block" | "warn"    ALLOY_ON_PIN_FAILURE=...     what a pinned cycle whose bundle fails to verify does
 *   exportUnpinned true | false        ALLOY_EXPORT_UNPINNED=1      also export run records for cycles without a pin
 *   skills         true | false        ALLOY_SKILLS=off             register the wizard skills
 */
export interface AlloyOptions {
  readonly hooks: boolean
  readonly onPinFailure: "block" | "warn"
  readonly exportUnpinned: boolean
  readonly skills: boolean
}

export const DEFAULT_OPTIONS: AlloyOptions = { hooks: true, onPinFailure: "block", exportUnpinned: false, skills: true }

function flag(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v
  if (typeof v !== "string") return undefined
  const s = v.trim().toLowerCase()
  if (["1", "true", "on", "yes"].includes(s)) return true
  if (["0", "false", "off", "no"].includes(s)) return false
  return undefined
}

export function resolveOptions(raw: unknown, env: NodeJS.ProcessEnv = process.env): AlloyOptions {
  const o = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {}
  const pinFailure = (v: unknown) => (v === "block" || v === "warn" ? v : undefined)
  return {
    hooks: flag(env["ALLOY_HOOKS"]) ?? flag(o["hooks"]) ?? DEFAULT_OPTIONS.hooks,
    onPinFailure: pinFailure(env["ALLOY_ON_PIN_FAILURE"]) ?? pinFailure(o["onPinFailure"]) ?? DEFAULT_OPTIONS.onPinFailure,
    exportUnpinned: flag(env["ALLOY_EXPORT_UNPINNED"]) ?? flag(o["exportUnpinned"]) ?? DEFAULT_OPTIONS.exportUnpinned,
    skills: flag(env["ALLOY_SKILLS"]) ?? flag(o["skills"]) ?? DEFAULT_OPTIONS.skills,
  }
}
