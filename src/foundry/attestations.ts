/**
 * Where Foundry leaves its audit of a run, read for the bridge's result (CONTRACTS.md §6.3 and the
 * run era's notes):
 *
 *   run era      `.foundry/attestations/<run-id>.jsonl`: one `foundry-stage-attestation/v1` line per
 *                stage, each with `_hash` = sha256 of the canonical JSON of its other fields, and a
 *                final `foundry-cycle-attestation/v1` seal line; the file name is the run id (a ULID).
 *   3.6 / 3.7    `ATTEST.md` in the work tree (`foundry_attest`), parsed by work-files.ts.
 *
 * Bounded, tolerant reads: a missing or foreign file is no attestation (never an error in the
 * bridge's path). Each line's `_hash` is checked here, so a result says whether what it cites is
 * intact.
 */
import { createHash } from "node:crypto"
import { readdirSync, statSync } from "node:fs"
import path from "node:path"
import canonicalize from "canonicalize"
import { readRegularFile } from "../store/read-file.js"
import { parseAttest } from "./work-files.js"

const MAX_ATTESTATION_BYTES = 4 * 1024 * 1024
const RUN_ID_RE = /^[0-9A-Za-z][0-9A-Za-z_-]{0,127}$/

export interface RunAttestation {
  readonly kind: "attestations-jsonl" | "attest-md"
  /** the file, relative to the checkout */
  readonly file: string
  /** sha256 hex of the file's bytes as read */
  readonly sha256: string
  /** the Foundry run id (run era: the file's name) */
  readonly run_id?: string
  /** stage attestation lines (run era) or stages in the payload (ATTEST.md) */
  readonly stages: number
  /** run era: every line's `_hash` matches its content */
  readonly verified?: boolean
  /** run era: the cycle seal line, when written */
  readonly seal?: { readonly status: string; readonly hash: string }
}

const sha256Hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex")

function read(file: string): Buffer | undefined {
  try {
    const r = readRegularFile(file, MAX_ATTESTATION_BYTES)
    return r.kind === "ok" ? r.bytes : undefined
  } catch {
    return undefined
  }
}

/** Check one attestation line: its `_hash` is the sha256 of the canonical JSON of the other fields. */
export function lineVerifies(obj: Record<string, unknown>): boolean {
  const { _hash, ...rest } = obj
  if (typeof _hash !== "string") return false
  const canon = canonicalize(rest)
  return canon !== undefined && sha256Hex(canon) === _hash
}

/** Parse a run-era attestation file's text (pure). */
export function parseAttestationJsonl(text: string): { stages: number; verified: boolean; seal?: { status: string; hash: string } } {
  let stages = 0
  let verified = true
  let seal: { status: string; hash: string } | undefined
  for (const line of text.split("\n")) {
    if (!line.trim()) continue
    let obj: unknown
    try {
      obj = JSON.parse(line)
    } catch {
      verified = false
      continue
    }
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
      verified = false
      continue
    }
    const o = obj as Record<string, unknown>
    if (!lineVerifies(o)) verified = false
    if (o["schema"] === "foundry-cycle-attestation/v1")
      seal = { status: typeof o["composite_status"] === "string" ? o["composite_status"] : "unknown", hash: typeof o["_hash"] === "string" ? o["_hash"] : "" }
    else stages++
  }
  return { stages, verified, ...(seal ? { seal } : {}) }
}

/**
 * The attestation a run left in `checkout`: the run era's file for `runId` (or, without one, the
 * newest written at or after `since`), else an `ATTEST.md`. Undefined when there is none.
 */
export function readRunAttestation(checkout: string, opts: { runId?: string | undefined; since?: number | undefined } = {}): RunAttestation | undefined {
  const dir = path.join(checkout, ".foundry", "attestations")
  let names: string[] = []
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".jsonl") && RUN_ID_RE.test(n.slice(0, -6)))
  } catch {
    /* none */
  }
  const candidates = names
    .map((n) => {
      try {
        return { n, mtime: statSync(path.join(dir, n)).mtimeMs }
      } catch {
        return undefined
      }
    })
    .filter((x): x is { n: string; mtime: number } => x !== undefined && (opts.since === undefined || x.mtime >= opts.since))
    .sort((a, b) => b.mtime - a.mtime || a.n.localeCompare(b.n))
  const chosen = (opts.runId && candidates.find((c) => c.n === `${opts.runId}.jsonl`)) || candidates[0]
  if (chosen) {
    const bytes = read(path.join(dir, chosen.n))
    if (bytes) {
      const parsed = parseAttestationJsonl(bytes.toString("utf8"))
      return { kind: "attestations-jsonl", file: `.foundry/attestations/${chosen.n}`, sha256: sha256Hex(bytes), run_id: chosen.n.slice(0, -6), ...parsed }
    }
  }
  const md = read(path.join(checkout, "ATTEST.md"))
  if (md) {
    try {
      const a = parseAttest(md.toString("utf8"))
      return { kind: "attest-md", file: "ATTEST.md", sha256: sha256Hex(md), stages: a.payload.process.stages.length }
    } catch {
      return undefined
    }
  }
  return undefined
}
