/**
 * Accountable, shared sign-offs (docs/ledger.md) through the CLI entry on a real git repository:
 * the signer is git's identity, the sign-off is one commit of the committed ledger on the base
 * branch, a fresh clone computes the same verdict, flow branches refuse, `who:` is matched, and a
 * commit signed with an SSH key generated here verifies.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeEach, describe, expect, test } from "vitest"
import { runCli } from "../helpers/cli.js"
import { isolateEnv } from "../helpers/env.js"
import { git } from "../helpers/git.js"
import { BRIEF_ID, makePinnedProject, type PinnedProject } from "../helpers/project.js"
import { skipNote } from "../helpers/skip.js"
import { writeRecord } from "../../src/store/outbox.js"
import { RUN_RECORD_TYPE, recordKey } from "../../src/core/run-record.js"

const AC4 = `${BRIEF_ID}#AC-4`
const cleanups: Array<() => void> = []

// only the repository's own config speaks: no global or system identity, no identity from the environment
isolateEnv({ GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" })
beforeEach(() => {
  for (const k of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"]) delete process.env[k]
})

async function repo(identity: { name?: string; email?: string } = { name: "Ada Lovelace", email: "ada@example.com" }): Promise<PinnedProject> {
  const p = await makePinnedProject()
  cleanups.push(p.cleanup)
  git(p.dir, ["init", "-q"])
  git(p.dir, ["add", "-A"])
  git(p.dir, ["commit", "-q", "-m", "setup"])
  if (identity.name) git(p.dir, ["config", "user.name", identity.name])
  if (identity.email) git(p.dir, ["config", "user.email", identity.email])
  return p
}

function criterion(json: { intents: Array<{ criteria: Array<{ ref: string; verdict: string; reason: string }> }> }, ref: string) {
  return json.intents.flatMap((i) => i.criteria).find((c) => c.ref === ref)!
}

function ledgerFiles(dir: string): string[] {
  const base = path.join(dir, ".alloy", "evidence", "signoffs")
  if (!existsSync(base)) return []
  return readdirSync(base, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)).split(path.sep).join("/"))
}

afterAll(() => {
  for (const c of cleanups.splice(0)) c()
})

describe("evidence signoff: the committed ledger", () => {
  test("signs off as git's identity with one commit on the base branch; a fresh clone computes the same verdict", async () => {
    const p = await repo()
    const before = git(p.dir, ["rev-parse", "HEAD"]).trim()
    expect(criterion((await runCli(p.dir, "status", "--json")).json<{ satisfaction: never }>().satisfaction, AC4).verdict).toBe("unproven")
    const r = await runCli(p.dir, "evidence", "signoff", AC4, "read it aloud; fine", "--json")
    expect(r.err).toBe("")
    expect(r.code).toBe(0)
    const j = r.json<{ created: boolean; signer: { name: string; email: string }; commit: { sha: string; signature: string }; signoffs: Array<{ file: string; who: { kind: string } }> }>()
    expect(j).toMatchObject({ created: true, signer: { name: "Ada Lovelace", email: "ada@example.com" }, commit: { signature: "unsigned" } })
    expect(j.signoffs[0]!.who.kind).toBe("role") // "the product owner": a role git cannot check
    // exactly one new commit on main, by the signer, holding exactly the ledger file
    expect(git(p.dir, ["rev-parse", "--abbrev-ref", "HEAD"]).trim()).toBe("main")
    expect(git(p.dir, ["rev-parse", "HEAD~1"]).trim()).toBe(before)
    expect(git(p.dir, ["log", "-1", "--format=%an <%ae>"]).trim()).toBe("Ada Lovelace <ada@example.com>")
    const files = git(p.dir, ["show", "--name-only", "--format=", "HEAD"]).trim().split("\n")
    expect(files).toEqual(ledgerFiles(p.dir))
    expect(files[0]).toMatch(/^\.alloy\/evidence\/signoffs\/release-note-voice\/AC-4\/[0-9a-f]{32}\.json$/)
    const rec = JSON.parse(readFileSync(path.join(p.dir, files[0]!), "utf8")) as Record<string, unknown>
    expect(rec).toMatchObject({
      $type: "alloy.signoff/v1",
      criterion: AC4,
      decision: "approve",
      reason: "read it aloud; fine",
      signer: { name: "Ada Lovelace", email: "ada@example.com" },
      bundle: { brief_id: BRIEF_ID, digest: p.digest },
    })
    expect(git(p.dir, ["status", "--porcelain", "--", ".alloy/evidence"]).trim()).toBe("")

    const status = (await runCli(p.dir, "status", "--json")).json<{ satisfaction: never }>().satisfaction
    const mine = criterion(status, AC4)
    expect(mine.verdict).toBe("satisfied")
    expect(mine.reason).toContain("approved by Ada Lovelace <ada@example.com>")

    // signing the same again adds nothing
    const again = await runCli(p.dir, "evidence", "signoff", AC4, "read it aloud; fine")
    expect(again.out).toMatch(/^Already recorded/)
    expect(git(p.dir, ["rev-list", "--count", "HEAD"]).trim()).toBe("2")

    // a fresh clone (no outbox, nothing git-ignored) computes the same verdict
    const cloneRoot = mkdtempSync(path.join(os.tmpdir(), "alloy-clone-"))
    cleanups.push(() => rmSync(cloneRoot, { recursive: true, force: true }))
    const clone = path.join(cloneRoot, "c")
    git(cloneRoot, ["clone", "-q", p.dir, clone])
    expect(existsSync(path.join(clone, ".alloy", "runs"))).toBe(false)
    const theirs = criterion((await runCli(clone, "status", "--json")).json<{ satisfaction: never }>().satisfaction, AC4)
    expect(theirs.verdict).toBe(mine.verdict)
    expect(theirs.reason).toBe(mine.reason)
    const report = (await runCli(clone, "report", "--json")).json<{ intents: Array<{ criteria: Array<{ ref: string; verdict: string }> }> }>()
    expect(report.intents.flatMap((i) => i.criteria).find((c) => c.ref === AC4)!.verdict).toBe("satisfied")
    // the HTML report and the in-toto statement of the clone carry the sign-off, named by its ledger file
    expect((await runCli(clone, "report", "--html", "r.html")).code).toBe(0)
    const html = readFileSync(path.join(clone, "r.html"), "utf8")
    expect(html).toContain("approved by Ada Lovelace &lt;ada@example.com&gt;")
    expect(html).toContain(`title=".alloy/evidence/${files[0]!.slice(".alloy/evidence/".length)}"`)
    const statement = JSON.parse((await runCli(clone, "export", "--format", "intoto")).out.split("\n")[0]!) as {
      predicate: { verdicts: Array<{ criteria: Array<{ ref: string; evidence: Array<{ kind: string; ledger?: string; commit: string | null }> }> }> }
    }
    const ev = statement.predicate.verdicts
      .flatMap((i) => i.criteria)
      .find((c) => c.ref === AC4)!
      .evidence.find((e) => e.kind === "signoff")!
    expect(ev.ledger).toBe(files[0]!.slice(".alloy/evidence/".length))
    expect(ev.commit).toBe(git(p.dir, ["rev-parse", "HEAD"]).trim())
  })

  test("refused on work/* and dry-run/* branches with the work_branch code and a fix; nothing written", async () => {
    const p = await repo()
    for (const branch of ["work/x", "dry-run/release-notes/1"]) {
      git(p.dir, ["switch", "-q", "-c", branch])
      const r = await runCli(p.dir, "evidence", "signoff", AC4, "--json")
      expect(r.code).not.toBe(0)
      expect(r.json()).toMatchObject({ ok: false, code: "work_branch" })
      expect(String(r.json()["fix"])).toContain("git switch main")
      expect(ledgerFiles(p.dir)).toEqual([])
      git(p.dir, ["switch", "-q", "main"])
    }
    expect(git(p.dir, ["rev-list", "--count", "HEAD"]).trim()).toBe("1")
  })

  test("no git identity: a clear error with the fix, nothing written or committed", async () => {
    const p = await repo({ name: "Ada Lovelace" })
    const r = await runCli(p.dir, "evidence", "signoff", AC4)
    expect(r.code).not.toBe(0)
    expect(r.err).toContain("user.email is not set")
    expect(r.err).toContain("git config user.email")
    expect(r.err).not.toMatch(/\n\s+at /)
    expect(ledgerFiles(p.dir)).toEqual([])
    expect(git(p.dir, ["rev-list", "--count", "HEAD"]).trim()).toBe("1")
    const typed = await runCli(p.dir, "evidence", "signoff", AC4, "--by", "Mallory")
    expect(typed.code).toBe(2)
    expect(typed.err).toContain("the signer is your git identity")
  })

  test("who: naming people by email is matched against the signer; a mismatch is shown and does not satisfy", async () => {
    const p = await repo({ name: "Mallory", email: "mallory@example.com" })
    const intent = path.join(p.dir, ".alloy", "intents", `${BRIEF_ID}.md`)
    writeFileSync(intent, readFileSync(intent, "utf8").replace("who: the product owner", 'who: "Pat Owner <pat@example.com>"'))
    expect((await runCli(p.dir, "brief", "build", BRIEF_ID)).code).toBe(0)
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-q", "-m", "who is pat"])
    const r = await runCli(p.dir, "evidence", "signoff", AC4)
    expect(r.code).toBe(0)
    expect(r.out).toContain("who: names pat@example.com, not mallory@example.com")
    const c = criterion((await runCli(p.dir, "status", "--json")).json<{ satisfaction: never }>().satisfaction, AC4)
    expect(c.verdict).toBe("unproven")
    expect(c.reason).toContain("not counted")
    expect(c.reason).toContain("mallory@example.com")
    // the person who: names signs: satisfied
    git(p.dir, ["config", "user.name", "Pat Owner"])
    git(p.dir, ["config", "user.email", "Pat@Example.com"])
    expect((await runCli(p.dir, "evidence", "signoff", AC4)).code).toBe(0)
    expect(criterion((await runCli(p.dir, "status", "--json")).json<{ satisfaction: never }>().satisfaction, AC4).verdict).toBe("satisfied")
  })

  test("reject and waive need a reason and decide like any result; a sign-off over an open objection stays contested", async () => {
    const p = await repo()
    const waive = await runCli(p.dir, "evidence", "signoff", AC4, "--waive", "--json")
    expect(waive.json()).toMatchObject({ ok: false, code: "usage" })
    expect((await runCli(p.dir, "evidence", "signoff", AC4, "--reject", "--reason", "too chirpy")).code).toBe(0)
    expect(criterion((await runCli(p.dir, "status", "--json")).json<{ satisfaction: never }>().satisfaction, AC4).verdict).toBe("failing")
    expect((await runCli(p.dir, "evidence", "signoff", AC4, "--waive", "--reason", "legal wording")).code).toBe(0)
    const w = criterion((await runCli(p.dir, "status", "--json")).json<{ satisfaction: never }>().satisfaction, AC4)
    expect(w.verdict).toBe("waived")
    expect(w.reason).toContain("legal wording")
    // an open human objection from human-appraise, then Ada approves: contested, both sides shown
    writeOpenObjection(p)
    expect((await runCli(p.dir, "evidence", "signoff", AC4, "fine by me")).code).toBe(0)
    const c = criterion((await runCli(p.dir, "status", "--json")).json<{ satisfaction: never }>().satisfaction, AC4)
    expect(c.verdict).toBe("contested")
    expect(c.reason).toContain("approved by Ada Lovelace")
    expect(c.reason).toContain("still open")
  })

  test("an old outbox sign-off (typed name) is shown as local and does not satisfy", async () => {
    const p = await repo()
    writeRecord(p.dir, {
      $type: RUN_RECORD_TYPE,
      run_id: "01JZ0000000000000000000000",
      idempotency_key: recordKey(["signoff", AC4, "Sam Lee", p.digest]),
      pin: { brief_id: BRIEF_ID, digest: p.digest },
      pin_source: "explicit",
      cycle: "draft-release-note",
      stage: "signoff",
      ended_at: "2026-05-27T10:00:00.000Z",
      alloy_version: "0.1.0",
      source: "cli",
      signoffs: [{ criterion: AC4, by: "Sam Lee" }],
      outcome: "ok",
    })
    const c = criterion((await runCli(p.dir, "status", "--json")).json<{ satisfaction: never }>().satisfaction, AC4)
    expect(c.verdict).toBe("unproven")
    expect(c.reason).toContain("signed off locally by Sam Lee")
    expect(c.reason).toContain("not counted")
  })
})

/** A human-appraise run under the current bundle that left a human item open on AC-4. */
function writeOpenObjection(p: PinnedProject): void {
  writeRecord(p.dir, {
    $type: RUN_RECORD_TYPE,
    run_id: "01JZ0000000000000000000001",
    idempotency_key: "a".repeat(64),
    pin: { brief_id: BRIEF_ID, digest: p.digest },
    cycle: "draft-release-note",
    stage: "human-appraise:draft-release-note",
    session: "draft-release-note@2026-05-27T09:00:00Z",
    ended_at: new Date(Date.now() - 60_000).toISOString(),
    alloy_version: "0.1.0",
    source: "hook",
    outcome: "ok",
    feedback: {
      total: 1,
      by_state: { open: 1 },
      by_tag: { human: 1 },
      alloy_items: [],
      items: [{ id: "f-1", file: "release-notes/x.md", tag: "human", state: "open", text: "AC-4: the tone is too chirpy" }],
    },
  })
}

// ---- signing ----------------------------------------------------------------------------------

const SSH_KEYGEN = (() => {
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore", timeout: 5000 })
    return undefined
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "ssh-keygen is not installed (Debian: openssh-client)" : undefined
  }
})()

describe.skipIf(SSH_KEYGEN !== undefined)(`evidence signoff --sign: an SSH-signed ledger commit${skipNote(SSH_KEYGEN)}`, () => {
  test("the commit is signed with the user's SSH key, and git verifies it with an allowed-signers file", async () => {
    const p = await repo()
    const keys = mkdtempSync(path.join(os.tmpdir(), "alloy-ssh-"))
    cleanups.push(() => rmSync(keys, { recursive: true, force: true }))
    const key = path.join(keys, "id_ed25519")
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ada@example.com", "-f", key], { timeout: 15_000 })
    git(p.dir, ["config", "gpg.format", "ssh"])
    git(p.dir, ["config", "user.signingkey", `${key}.pub`])
    // without an allowed-signers file git cannot verify: the signature is there, but unverifiable
    const r = await runCli(p.dir, "evidence", "signoff", AC4, "--sign", "--json")
    expect(r.err).toBe("")
    expect(r.json()).toMatchObject({ created: true, commit: { signature: "unverifiable" } })
    expect(git(p.dir, ["cat-file", "commit", "HEAD"])).toContain("-----BEGIN SSH SIGNATURE-----")
    // with one, git verifies it and names the principal; the evidence says so
    const allowed = path.join(keys, "allowed_signers")
    writeFileSync(allowed, `ada@example.com ${readFileSync(`${key}.pub`, "utf8")}`)
    git(p.dir, ["config", "gpg.ssh.allowedSignersFile", allowed])
    const ev = (await runCli(p.dir, "evidence", "--intent", BRIEF_ID, "--json")).json<{ criteria: Array<{ ref: string; verdict: string; observations: Array<{ kind: string; summary: string }> }> }>()
    const ac4 = ev.criteria.find((c) => c.ref === AC4)!
    expect(ac4.verdict).toBe("satisfied")
    expect(ac4.observations.find((o) => o.kind === "signoff")!.summary).toMatch(/signature good \(ada@example\.com\)/)
    // a key that cannot sign: refused with commit_failed, nothing left behind
    git(p.dir, ["config", "user.signingkey", path.join(keys, "missing.pub")])
    const bad = await runCli(p.dir, "evidence", "signoff", AC4, "second look", "--sign", "--json")
    expect(bad.json()).toMatchObject({ ok: false, code: "commit_failed" })
    expect(ledgerFiles(p.dir)).toHaveLength(1)
    expect(git(p.dir, ["status", "--porcelain"]).trim()).toBe("")
  })
})
