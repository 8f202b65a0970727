/**
 * `opencode-alloy/core`: the library API. Pure formats, digests, building and verification, plus
 * the store and services the CLI and plugin are built on. An explicit list: what is here is the
 * public, semver-bound surface; everything else (lint word lists, internal helpers) may change in
 * any release.
 */
export { AlloyError, ERROR_CODES, isAlloyError, toAlloyError, type ErrorCode, type ErrorDetail } from "./core/errors.js"
export { assertDigest, assertSlug, isDigest, isSlug, parseCriterionRef, parseStage, type CriterionRef, type StageName } from "./core/ids.js"
export { bytesMatchDigest, canonicalBytes, digestOf, encodeCanonical, sourceDigest, type Json } from "./core/digest.js"
export { MAX_SOURCE_BYTES } from "./core/frontmatter.js"
export {
  IntentSchema,
  INTENT_STATUSES,
  EVIDENCE_KINDS,
  MAX_BODY,
  MAX_EVIDENCE,
  MAX_ITEMS,
  MAX_TEXT,
  parseIntent,
  validateIntent,
  MAX_CLARIFICATIONS,
  type Clarification,
  type Criterion,
  type Evidence,
  type EvidenceKind,
  type Intent,
  type IntentStatus,
} from "./core/intent.js"
export { parseRecipe, RecipeSchema, validateRecipe, type Recipe } from "./core/recipe.js"
export { BUNDLE_TYPE, BundleSchema, CompositionSchema, FORMATION_TYPE, GATE_KINDS, type Bundle, type Composition, type Gate, type GateKind } from "./core/bundle.js"
export { buildBundle, type BuildInput, type BuildOutput, type SourceFile } from "./core/build.js"
export { appliesTo, gatesFor, packFor } from "./core/formation.js"
export { diffBundles, renderBundleDiff, unifiedDiff, type BundleDiff } from "./core/diff.js"
export { FindingSchema, VerifyReportSchema, type Finding } from "./core/verify-report.js"
export { FINDING_CODES, VERIFY_REPORT_TYPE, type FindingCode } from "./core/verify-rules.js"
export { parseBundle, verifyObjectBytes } from "./core/verify.js"
export { PIN_KEY, readPinBlock, type LocatedPin, type Pin, type PinSource } from "./core/pin.js"
export { RUN_EVENT_TYPE, RUN_RECORD_TYPE, RunEventSchema, RunRecordSchema, type RunEvent, type RunRecord } from "./core/run-record.js"
export { SIGNOFF_TYPE, SignoffSchema, matchWho, signoffPath, type Signoff, type SignoffDecision } from "./core/signoff.js"
export { criterionForm, failsStrict, formatWarning, LINT_CODES, lintBrief, lintIntent, type CriterionForm, type LintCode, type LintSeverity, type LintWarning } from "./core/lint.js"
export { AlloyStore } from "./store/store.js"
export { writeFileAtomic, writeFileOnce } from "./store/atomic.js"
export { FoundryProject } from "./foundry/project.js"
export { AlloyContext, contextFor } from "./service/context.js"
export { resolveTarget, resolvePin, locatePin, type Resolved, type ResolveTarget } from "./service/resolve.js"
export { buildBrief, buildBriefs, computeBuild, type BuildOptions, type BuildResult } from "./service/build.js"
export { pinBrief, type PinResult } from "./service/pin.js"
export { verifyAllPins, type VerifyReport, type PinCheck } from "./service/verify-pins.js"
