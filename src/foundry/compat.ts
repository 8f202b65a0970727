/**
 * Which Foundry versions Alloy's hooks know. The per-generation shapes live in generations.ts;
 * a `foundry/VERSION` outside them is an unknown protocol: a warning here, and pinned stages are
 * refused by the hooks (unless `onPinFailure: "warn"`).
 */
import { classifyGeneration } from "./generations.js"

/** A warning for `foundry/VERSION`, or undefined when it is a known (or absent) version. */
export function foundryVersionWarning(version: string | undefined): string | undefined {
  if (version === undefined) return undefined
  if (classifyGeneration({ version }) !== "unknown") return undefined
  return `foundry/VERSION is ${JSON.stringify(version.slice(0, 20))}; Alloy knows Foundry 3.6, 3.7 and the foundry_run era, so pinned stages of an unknown protocol are refused (run \`opencode-alloy caps\` and \`opencode-alloy verify --compat\`; pins are unaffected)`
}
