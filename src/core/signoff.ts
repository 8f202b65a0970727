/**
 * A human sign-off in the committed evidence ledger (docs/ledger.md): `alloy.signoff/v1`.
 * `SignoffSchema` is the format's single source of truth; everything here is pure.
 *
 *   .alloy/evidence/signoffs/<intent>/<AC-n>/<key>.json   one file per sign-off (create-once)
 *
 * `key` is a function of what was signed (criterion, signer's email, bundle digest, decision, reason), so
 * signing the same thing twice adds nothing and two people (or two clones) never write the same file:
 * git merges of the ledger never conflict.
 */
import { z } from "zod"
import { AC_ID_RE, DIGEST_RE, parseCriterionRef } from "./ids.js"
import { canonicalBytes, normalizeJson, sha256Hex } from "./digest.js"

export const SIGNOFF_TYPE = "alloy.signoff/v1"
export const SIGNOFF_DECISIONS = ["approve", "reject", "waive"] as const
export type SignoffDecision = (typeof SIGNOFF_DECISIONS)[number]

const OneLine = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "one line, no control characters")

export const SignerSchema = z.strictObject({
  /** `git config user.name` */
  name: OneLine(200),
  /** `git config user.email` */
  email: OneLine(320),
})
export type Signer = z.infer<typeof SignerSchema>

export const SignoffSchema = z
  .strictObject({
    $type: z.literal(SIGNOFF_TYPE),
    /** `<intent>#AC-n` */
    criterion: z.string().refine((s) => parseCriterionRef(s) !== undefined, "a criterion reference <intent>#AC-n"),
    decision: z.enum(SIGNOFF_DECISIONS),
    /** why: required to waive or reject, optional note when approving */
    reason: z.string().max(2000).optional(),
    /** who signed, from git's configured identity (never typed by hand) */
    signer: SignerSchema,
    /** when (ISO 8601) */
    at: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "an ISO 8601 time"),
    /** the bundle the criterion was signed off under: the brief's current digest at the time */
    bundle: z.strictObject({ brief_id: z.string().min(1).max(200), digest: z.string().regex(DIGEST_RE) }),
    /** the criterion's `who:` at the time, as the signer was shown it */
    who: z.string().max(500).optional(),
    /** the signer asked git to sign the ledger commit (`--sign`); whether it verifies is git's to say */
    sign_requested: z.boolean().optional(),
  })
  .refine((s) => s.decision === "approve" || (s.reason ?? "").trim() !== "", { message: "a rejection or waiver needs a reason", path: ["reason"] })
export type Signoff = z.infer<typeof SignoffSchema>

/** Identity of a sign-off: the same signer signing the same decision under the same bundle is one sign-off. */
export function signoffKey(s: Pick<Signoff, "criterion" | "signer" | "bundle" | "decision" | "reason">): string {
  return sha256Hex(canonicalBytes(normalizeJson([SIGNOFF_TYPE, s.criterion, s.signer.email.toLowerCase(), s.bundle.digest, s.decision, s.reason ?? ""]))).slice(0, 32)
}

/** The ledger path of a sign-off, relative to `.alloy/evidence/`. */
export function signoffPath(s: Signoff): string {
  const c = parseCriterionRef(s.criterion)!
  return `signoffs/${c.intent}/${c.ac}/${signoffKey(s)}.json`
}

/** Does a ledger path (relative to `.alloy/evidence/`) name a sign-off file? */
export function isSignoffPath(rel: string): boolean {
  const p = rel.split("/")
  return p.length === 4 && p[0] === "signoffs" && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(p[1]!) && AC_ID_RE.test(p[2]!) && /^[0-9a-f]{32}\.json$/.test(p[3]!)
}

/** The bytes of a ledger file: canonical key order, two-space indent, one trailing newline (stable diffs). */
export function signoffBytes(s: Signoff): string {
  const ordered = {
    $type: s.$type,
    criterion: s.criterion,
    decision: s.decision,
    reason: s.reason,
    signer: { name: s.signer.name, email: s.signer.email },
    at: s.at,
    bundle: { brief_id: s.bundle.brief_id, digest: s.bundle.digest },
    who: s.who,
    sign_requested: s.sign_requested,
  }
  return `${JSON.stringify(normalizeJson(ordered), null, 2)}\n`
}

export function describeSigner(s: Signer): string {
  return `${s.name} <${s.email}>`
}

const EMAIL_RE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+/g

/**
 * Match a criterion's `who:` against the signer.
 *
 * `who:` is free text. When it names people by email (`ada@example.com`, `Ada <ada@example.com>`, several
 * separated by commas or "or"), it is an identity check: the signer's git email must be one of them
 * (case-insensitive); otherwise the sign-off is a **mismatch** and does not satisfy the gate. When it names
 * no email (`the product owner`), it describes a role that git's identity cannot check: it is shown beside
 * the signer, and the sign-off counts.
 */
export function matchWho(
  who: string | undefined,
  signer: Signer,
): { kind: "none" } | { kind: "role"; who: string } | { kind: "match"; who: string } | { kind: "mismatch"; who: string; expected: string[] } {
  if (!who?.trim()) return { kind: "none" }
  const emails = [...who.matchAll(EMAIL_RE)].map((m) => m[0].toLowerCase().replace(/\.+$/, ""))
  if (!emails.length) return { kind: "role", who }
  return emails.includes(signer.email.toLowerCase()) ? { kind: "match", who } : { kind: "mismatch", who, expected: emails }
}

/** What git says about the signature of the commit that added a sign-off (evidence/git.ts `ledgerCommits`). */
export type SignatureStatus = "good" | "good-unknown-key" | "bad" | "expired" | "revoked" | "unverifiable" | "unsigned"

export interface LedgerCommit {
  readonly sha: string
  readonly author: { name: string; email: string }
  readonly signature: SignatureStatus
  /** who git says signed (the principal of an SSH key, the user id of a GPG key), when it could verify */
  readonly signed_by?: string
  /** the key's fingerprint, when git could read it */
  readonly key?: string
}
