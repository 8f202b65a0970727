/**
 * `opencode-alloy/core`: the library API. Pure formats, digests, building and verification,
 * plus the store and services the CLI and plugin are built on.
 */
export * from "./errors.js"
export * from "./ids.js"
export * from "./digest.js"
export * from "./frontmatter.js"
export * from "./intent.js"
export * from "./recipe.js"
export * from "./bundle.js"
export * from "./build.js"
export * from "./verify.js"
export * from "./pin.js"
export * from "./run-record.js"
export * from "./lint.js"
export { AlloyStore } from "../store/store.js"
export { writeFileAtomic, writeFileOnce } from "../store/atomic.js"
export { FoundryProject } from "../foundry/project.js"
export { AlloyContext, contextFor } from "../service/context.js"
export { resolveTarget, resolvePin, locatePin, type Resolved, type ResolveTarget } from "../service/resolve.js"
export { buildBrief, buildBriefs, computeBuild, type BuildResult, type BuildOptions } from "../service/build.js"
export { pinBrief, type PinResult } from "../service/pin.js"
export { verifyAllPins, type VerifyReport, type PinCheck } from "../service/verify-pins.js"
