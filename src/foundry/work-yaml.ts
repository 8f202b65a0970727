/**
 * Foundry's WORK files (`WORK.feedback.yaml`, `WORK.history.yaml`) are written by Foundry with
 * js-yaml's `dump`; Alloy reads them with js-yaml's `load` (CORE schema: no timestamps or binary
 * types), the same library that wrote them, and about 6x faster than a round-trip-preserving parser
 * on a 1,000-item feedback file (which the stage-end hook reads while the agent waits).
 */
import { load, CORE_SCHEMA } from "js-yaml"
import { AlloyError } from "../core/errors.js"

export function parseWorkYaml(text: string, file: string): unknown {
  try {
    return load(text, { schema: CORE_SCHEMA, filename: file })
  } catch (e) {
    const msg = e instanceof RangeError ? "it is nested too deeply" : String((e as Error)?.message ?? e).split("\n")[0]
    throw new AlloyError("malformed", `${file} is not valid YAML (${msg})`, { file })
  }
}
