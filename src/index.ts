/**
 * Package entry for OpenCode. It exports only the plugin function (OpenCode calls every
 * export of a plugin module), as a named export and as the default. The library API is
 * `opencode-alloy/core`.
 */
import { AlloyPlugin } from "./plugin/plugin.js"

export { AlloyPlugin }
export default AlloyPlugin
