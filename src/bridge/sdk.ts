/**
 * The OpenCode SDK, an ES module only, loaded on first use (the bridge alone needs it).
 *
 * Where this code runs as the CLI's bundle (a classic script, src/cli/launch.ts), Node 20 runs no
 * `import()` inside the script without an experimental flag and cannot `require` an ES module, so
 * the bundle is built with `__ALLOY_IMPORT__` standing for the entry's own `import()` (build.mjs).
 * Everywhere else (the sources, the library) it is not defined and `import()` runs as written.
 */
import type * as Sdk from "@opencode-ai/sdk/v2/client"

declare const __ALLOY_IMPORT__: ((specifier: string) => Promise<unknown>) | undefined

export function loadSdk(): Promise<typeof Sdk> {
  return typeof __ALLOY_IMPORT__ === "function" ? (__ALLOY_IMPORT__("@opencode-ai/sdk/v2/client") as Promise<typeof Sdk>) : import("@opencode-ai/sdk/v2/client")
}
