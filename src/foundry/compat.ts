/**
 * Which Foundry versions Alloy's hooks are written for. The hooks read and rewrite Foundry 3.6's
 * tool results (CONTRACTS.md §4–5); 3.7 changes the forge dispatch and later versions move the
 * token out of the prompt, so other versions get a warning (never a refusal).
 */
export const SUPPORTED_FOUNDRY = { major: 3, minor: 6 } as const

/** A warning for `foundry/VERSION`, or undefined when it is a supported (or unknown) version. */
export function foundryVersionWarning(version: string | undefined): string | undefined {
  if (version === undefined) return undefined
  const m = /^(\d+)\.(\d+)\./.exec(`${version}.`)
  if (m && Number(m[1]) === SUPPORTED_FOUNDRY.major && Number(m[2]) === SUPPORTED_FOUNDRY.minor) return undefined
  return `foundry/VERSION is ${JSON.stringify(version.slice(0, 20))}; Alloy's hooks are written for Foundry ${SUPPORTED_FOUNDRY.major}.${SUPPORTED_FOUNDRY.minor}.x result shapes, so check the injected prompts after upgrading (pins and \`verify\` are unaffected)`
}
