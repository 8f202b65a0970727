/**
 * Accountable human sign-off (docs/ledger.md): `opencode-alloy evidence signoff <intent>#AC-n` and the
 * UI's sign-off form both come here. The signer is git's configured identity (`user.name`,
 * `user.email`), never a typed name; the sign-off is written to the committed evidence ledger
 * (`.alloy/evidence/`, src/store/ledger.ts) under the brief's current bundle and committed, alone, on
 * the base branch — optionally signed (`git commit -S`, GPG or SSH keys as git is configured). One file
 * per (criterion, signer, bundle digest, decision, reason): signing the same again adds nothing; after a
 * rebuild the old sign-off is evidence under an older bundle (stale) until someone signs again.
 */
import { AlloyError } from "../core/errors.js"
import { parseCriterionRef } from "../core/ids.js"
import { verifyObjectBytes } from "../core/verify.js"
import { describeSigner, matchWho, SIGNOFF_TYPE, SignoffSchema, type Signer, type Signoff, type SignoffDecision } from "../core/signoff.js"
import type { AlloyContext } from "../service/context.js"
import { assertNotOnFlowBranch } from "../service/guard.js"
import { LEDGER_DIR, unwriteSignoffs, writeSignoffs } from "../store/ledger.js"
import type { LedgerCommit } from "../core/signoff.js"
import { commitPaths, gitText, isGitRepo, ledgerCommits, tryGit } from "./git.js"

export interface SignoffRequest {
  readonly ref: string
  readonly decision?: SignoffDecision
  /** the note (approve) or the reason (reject, waive: required) */
  readonly reason?: string
  /** sign the ledger commit with git's configured signing key */
  readonly sign?: boolean
  readonly now?: Date
}

export interface SignoffResult {
  /** false when every sign-off was in the ledger already (nothing written, nothing committed) */
  readonly created: boolean
  readonly signer: Signer
  readonly signoffs: Array<{ signoff: Signoff; file: string; who: ReturnType<typeof matchWho> }>
  /** the ledger commit on the base branch */
  readonly commit?: LedgerCommit
}

const IDENTITY_FIX = 'git config user.name "Ada Lovelace" && git config user.email ada@example.com   (add --global to set it for every repository)'

/**
 * The identity that signs: git's `user.name` and `user.email` as this repository's config resolves them.
 * Refused (`no_identity`) when either is unset: a sign-off nobody can be held to is no sign-off.
 */
export function gitIdentity(root: string): Signer {
  const name = gitText(root, ["config", "--get", "user.name"])?.trim() ?? ""
  const email = gitText(root, ["config", "--get", "user.email"])?.trim() ?? ""
  if (!name || !email) {
    throw new AlloyError("no_identity", `a sign-off is signed by your git identity, and git's ${!name && !email ? "user.name and user.email are" : !name ? "user.name is" : "user.email is"} not set`, {
      fix: IDENTITY_FIX,
    })
  }
  if (/[<>\u0000-\u001f\u007f]/.test(name) || /[<>\s\u0000-\u001f\u007f]/.test(email) || name.length > 200 || email.length > 320) {
    throw new AlloyError("no_identity", "git's user.name or user.email holds characters a sign-off cannot record (angle brackets, control characters, or spaces in the email)", { fix: IDENTITY_FIX })
  }
  return { name, email }
}

/** Sign off a criterion (approve, reject or waive) under every built brief whose current bundle has its human gate. */
export function recordSignoff(ctx: AlloyContext, req: SignoffRequest): SignoffResult {
  ctx.store.requireInit()
  const ref = req.ref
  const decision = req.decision ?? "approve"
  const c = parseCriterionRef(ref)
  if (!c) throw new AlloyError("invalid_id", `${JSON.stringify(ref.slice(0, 80))} is not a criterion reference`, { fix: "write it as <intent-id>#AC-<n>, e.g. release-note-voice#AC-4" })
  const reason = req.reason?.trim() || undefined
  if (reason && (reason.length > 2000 || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(reason))) {
    throw new AlloyError("usage", "the note or reason is at most 2000 characters, without control characters", { fix: `opencode-alloy evidence signoff ${ref} --reason "read it aloud; fine"` })
  }
  if (decision !== "approve" && !reason) {
    throw new AlloyError("usage", `to ${decision} ${ref} say why: a ${decision === "waive" ? "waiver" : "rejection"} needs a reason`, {
      fix: `opencode-alloy evidence signoff ${ref} --${decision} --reason "<why>"`,
    })
  }
  const targets: Array<{ briefId: string; digest: string; who?: string }> = []
  for (const briefId of ctx.store.listRefIds()) {
    const digest = ctx.store.readRef(briefId)
    if (!digest) continue
    const bytes = ctx.store.readObject(digest)
    if (!bytes) continue
    const bundle = verifyObjectBytes(bytes, { brief_id: briefId, digest }, ctx.store.rel(ctx.store.objectFile(digest)))
    const gate = bundle.overlay.gates.find((g) => g.kind === "human" && g.criterion === ref)
    if (gate) targets.push({ briefId, digest, ...(gate.who ? { who: gate.who } : {}) })
  }
  if (!targets.length) {
    throw new AlloyError("usage", `${ref} has no human gate in any built brief, so there is nothing to sign off`, {
      fix: `give the criterion \`evidence: {kind: human}\` in .alloy/intents/${c.intent}.md and rebuild its brief`,
    })
  }
  // the ledger is committed on the base branch: never on a flow branch, never outside git
  assertNotOnFlowBranch(ctx, `sign off ${ref}`)
  if (!isGitRepo(ctx.root)) {
    throw new AlloyError("usage", `a sign-off is committed to the evidence ledger (${LEDGER_DIR}/) on the base branch, and this project is not the top of a git repository`, {
      fix: "run `git init` in the project root (or run the command from the repository's root), commit .alloy/, then sign off again",
    })
  }
  const signer = gitIdentity(ctx.root)
  const at = (req.now ?? new Date()).toISOString()
  const signoffs = targets.map((t) =>
    SignoffSchema.parse({
      $type: SIGNOFF_TYPE,
      criterion: ref,
      decision,
      ...(reason ? { reason } : {}),
      signer,
      at,
      bundle: { brief_id: t.briefId, digest: t.digest },
      ...(t.who ? { who: t.who } : {}),
      ...(req.sign ? { sign_requested: true } : {}),
    } satisfies Signoff),
  )
  const { created, existing } = writeSignoffs(ctx.root, signoffs)
  const files = [...created, ...existing]
  const out = signoffs.map((s, i) => ({ signoff: s, file: files[i]!, who: matchWho(s.who, signer) }))
  if (!created.length) return { created: false, signer, signoffs: out }
  const errors: string[] = []
  const message = `alloy: ${decision} ${ref}\n\n${describeSigner(signer)} ${decision === "approve" ? "approved" : decision === "reject" ? "rejected" : "waived"} ${ref}${reason ? `: ${reason}` : ""}\n${signoffs.map((s) => `- under ${s.bundle.brief_id}@${s.bundle.digest}`).join("\n")}\n`
  const sha = commitPaths(ctx.root, created, message, { sign: !!req.sign, author: describeSigner(signer), onError: (m) => errors.push(m) })
  if (!sha) {
    tryGit(ctx.root, ["reset", "-q", "--", ...created])
    unwriteSignoffs(ctx.root, created)
    const why = errors.filter(Boolean).join("; ").replace(/\s+/g, " ").slice(0, 400)
    throw new AlloyError("commit_failed", `git did not commit the sign-off${why ? ` (${why})` : ""}; nothing was recorded`, {
      fix: req.sign
        ? "check git's signing setup (`git config user.signingkey`, and `git config gpg.format ssh` for an SSH key) with `git commit -S --allow-empty -m test`, or sign off without --sign"
        : "make sure `git commit` works here (no merge or rebase in progress), then sign off again",
    })
  }
  const rel = created[0]!.slice(LEDGER_DIR.length + 1)
  const commit = ledgerCommits(ctx.root, 50).get(rel)
  return { created: true, signer, signoffs: out, ...(commit ? { commit } : {}) }
}
