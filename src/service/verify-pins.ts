/** The CI gate (`opencode-alloy verify`): the pin scan's facts as an `alloy.verify/v1` report. */
import type { PinCheck, VerifyReport } from "../core/verify-report.js"
import { verifyPasses, VERIFY_REPORT_TYPE } from "../core/verify-rules.js"
import type { AlloyContext } from "./context.js"
import { scanPins, type ScannedPin } from "./pin-scan.js"

export type { PinCheck, VerifyReport }

function pinCheck(p: ScannedPin): PinCheck {
  const base = { kind: p.kind, id: p.id, file: p.file, ...(p.brief_id ? { brief_id: p.brief_id } : {}), ...(p.digest ? { digest: p.digest } : {}) }
  if (p.state === "broken") {
    return { ...base, status: "error", code: p.error!.code, message: p.error!.message, ...(p.error!.fix ? { fix: p.error!.fix } : {}) }
  }
  return { ...base, status: p.state === "behind" ? "stale" : "ok", ...(p.current ? { current: p.current } : {}), ...(p.covers ? { covers: p.covers } : {}) }
}

export function verifyAllPins(ctx: AlloyContext, opts: { strict?: boolean } = {}): VerifyReport {
  const strict = opts.strict === true
  const scan = scanPins(ctx)
  const pins = scan.pins.map(pinCheck)
  const warnings = scan.findings.filter((f) => f.severity === "warning")
  return {
    $type: VERIFY_REPORT_TYPE,
    ok: verifyPasses(scan.findings, strict),
    strict,
    checked: pins.length,
    failed: pins.filter((p) => p.status === "error").length,
    stale: pins.filter((p) => p.status === "stale").length,
    errors: scan.findings.length - warnings.length,
    warning_count: warnings.length,
    pins,
    covered: scan.covered,
    unpinned: scan.unpinned,
    findings: scan.findings,
    warnings: warnings.map((f) => f.message),
  }
}
