/**
 * Secrets out of text Alloy keeps: the tail of a check's output is stored in its run record, and
 * run records travel (the web app, reports, exports, a team store). A check runs with the user's
 * environment, so a command that prints a token would otherwise carry it into all of them.
 *
 * Two kinds are removed, each replaced by `[redacted]`: the values of environment variables whose
 * names say they are secret (TOKEN, SECRET, PASSWORD, API key, credentials…), wherever they
 * appear, and text shaped like a well-known credential (private key blocks, `Authorization:` and
 * `Bearer` values, GitHub, GitLab, Slack, npm and AWS access keys, URL passwords). The output's
 * hashes are of the bytes as printed, so what was removed is still accounted for. Pure.
 */

const SECRET_NAME = /(?:TOKEN|SECRET|PASSW(?:OR)?D|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)/i
/** shorter values are too likely to be ordinary words ("true", "main") to remove everywhere */
const MIN_SECRET_LENGTH = 8

const SHAPES: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(authorization\s*[:=]\s*)(?:(?:bearer|basic|token)\s+)?[^\s"']+/gi,
  /\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g,
  /\bnpm_[A-Za-z0-9]{30,}\b/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+(?=@)/gi,
]

export const REDACTED = "[redacted]"

/** The values of environment variables whose names say they hold a secret, longest first. */
export function secretValues(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = new Set<string>()
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(name)) values.add(value)
  }
  return [...values].sort((a, b) => b.length - a.length)
}

/** `text` with every known secret value and credential-shaped run replaced, and how many were. */
export function redactSecrets(text: string, secrets: readonly string[]): { text: string; redacted: number } {
  let redacted = 0
  let out = text
  for (const s of secrets) {
    if (!out.includes(s)) continue
    const parts = out.split(s)
    redacted += parts.length - 1
    out = parts.join(REDACTED)
  }
  for (const shape of SHAPES) {
    out = out.replace(shape, (match: string, keep?: unknown) => {
      if (match.endsWith(REDACTED) && typeof keep === "string" && match === keep + REDACTED) return match
      redacted++
      return typeof keep === "string" ? keep + REDACTED : REDACTED
    })
  }
  return { text: out, redacted }
}
