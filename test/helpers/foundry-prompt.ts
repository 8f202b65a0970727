/**
 * Reading a prompt the way Foundry and its agents do (docs/prompt-safety.md): line-start control
 * lines, the `## Output` section, law headings inside `## Laws` (Foundry's law parser starts a law
 * at every line `## <id>`), checklist items, and headings. Used to check that authored text
 * never adds to any of them.
 */

/** `Stage:` / `Cycle:` / `Token:` lines, in order. */
export function controlLines(prompt: string): string[] {
  return prompt.split("\n").filter((l) => /^\s*(?:Stage|Cycle|Token)\s*:/i.test(l))
}

/** Lines that are an `## Output` heading. */
export function outputHeadings(prompt: string): number {
  return prompt.split("\n").filter((l) => /^\s{0,3}#{1,6}\s*Output\b/i.test(l)).length
}

/** Law ids: every `## <id>` line between the `## Laws` heading and the `## Output` heading. */
export function lawHeadings(prompt: string): string[] {
  const lines = prompt.split("\n")
  const start = lines.findIndex((l) => /^## Laws\s*$/.test(l))
  if (start < 0) return []
  const out: string[] = []
  for (const l of lines.slice(start + 1)) {
    if (/^## Output\s*$/.test(l)) break
    const m = /^## (.+)/.exec(l)
    if (m) out.push(m[1]!)
  }
  return out
}

/** Checklist items (`- [ ]`, `* [x]`, `1. [ ]`), also behind more list markers or inside quotes, as a reviewer's Markdown view would tick them. */
export function checklistItems(text: string): string[] {
  return text.split("\n").filter((l) => /^\s*(?:>\s*)*(?:(?:[-*+]|\d{1,9}[.)])\s+(?:>\s*)*)+\[[ xX]?\]/.test(l))
}

/** Every heading line (ATX) at the start of a line, at any level. */
export function headings(text: string): string[] {
  return text.split("\n").filter((l) => /^\s{0,3}#{1,6}(?:\s|$)/.test(l))
}

/** Runs of quoted lines (`> …` / `>`), each as one block of text (still quoted). */
export function quotedRuns(text: string): string[] {
  const out: string[] = []
  let cur: string[] = []
  for (const l of text.split("\n")) {
    if (l === ">" || l.startsWith("> ")) cur.push(l)
    else if (cur.length) {
      out.push(cur.join("\n"))
      cur = []
    }
  }
  if (cur.length) out.push(cur.join("\n"))
  return out
}

/** Does any line start with a control or escape character? (terminal/agent confusion) */
export function hasControlChars(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(text)
}
