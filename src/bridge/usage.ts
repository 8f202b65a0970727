/**
 * What the bridge's runs spent, for the learning loop's strategy comparison: each result's tokens and
 * cost, with the brief and digest it ran and the stage records it made. Read from the request ledger;
 * a result that cannot be read is left out (the ledger's own rule), so its usage is unknown, not zero.
 * A `lost` result is left out too: its bridge stopped before it could count, and its zeros are not a count.
 */
import type { UsageFact } from "../evidence/insights.js"
import { Ledger } from "./ledger.js"

export function bridgeUsage(root: string): UsageFact[] {
  const out: UsageFact[] = []
  for (const e of new Ledger(root).list()) {
    const r = e.result
    if (!r || r.state === "lost") continue
    out.push({
      key: r.key,
      brief_id: r.request.brief_id,
      digest: r.request.digest,
      runs: r.stage_records.map((s) => s.run_id),
      tokens: { ...r.tokens },
      cost: r.cost,
    })
  }
  return out
}
