/**
 * Rendering: the words each reader gets. Pure functions from bundle parts to Markdown, written
 * for their reader — forge gets what to build and what to avoid, appraisers get gradable laws
 * in Foundry's own law format, the human gets a sign-off checklist.
 */
import type { BundleIntent, Gate } from "./bundle.js"
import type { Evidence } from "./intent.js"
import { gateLawId } from "./ids.js"

const bullets = (items: readonly string[]) => items.map((s) => `- ${s.replace(/\n+/g, " ")}`).join("\n")

const oneLine = (t: string) => t.replace(/\s*\n+\s*/g, " ")

export function evidenceLabel(e: Evidence, intent: string, ac: string): string {
  const why = "description" in e && e.description ? ` (${oneLine(e.description)})` : ""
  switch (e.kind) {
    case "check":
      return `deterministic check: \`${e.command}\` must exit 0${why}`
    case "law":
      return `appraisal law \`${gateLawId(intent, ac)}\`${e.law ? ` (Foundry law \`${e.law}\`)` : ""}`
    case "human":
      return `human sign-off${e.who ? ` by ${e.who}` : ""}${why}`
    case "artefact":
      return `artefact must exist: \`${e.path}\`${why}`
  }
}

function criteriaLines(intent: BundleIntent): string {
  return intent.acceptance_criteria
    .map((c) => {
      const how = c.evidence.length ? c.evidence.map((e) => evidenceLabel(e, intent.id, c.id)).join("; ") : "no evidence defined yet"
      return `- **${c.ref}** ${c.text.replace(/\n+/g, " ")} _(proven by: ${how})_`
    })
    .join("\n")
}

function section(title: string, content: string | undefined): string {
  return content?.trim() ? `**${title}**\n\n${content.trim()}` : ""
}

/** Markdown blocks separated by one blank line; empty blocks are left out. */
function blocks(...parts: Array<string | undefined>): string {
  return parts
    .map((p) => (p ?? "").trim())
    .filter((p) => p !== "")
    .join("\n\n")
}

/** One intent, in full (the brief). */
export function renderIntentFull(intent: BundleIntent): string {
  return blocks(
    `### ${intent.title} (\`${intent.id}\`, ${intent.status})`,
    section("Goal", intent.goal),
    section("Context", intent.context),
    section("Constraints", bullets(intent.constraints)),
    section("Acceptance criteria", criteriaLines(intent)),
    section("Non-goals", bullets(intent.non_goals)),
    section("Tradeoffs", bullets(intent.tradeoffs)),
    section("Open questions", bullets(intent.open_questions)),
    section("Notes", intent.body),
    section("Links", bullets(intent.links)),
  )
}

export interface BriefHeader {
  id: string
  title: string
  formation: { flow?: string | undefined; cycles: readonly string[] }
  notes: string
}

export function renderBrief(h: BriefHeader, intents: readonly BundleIntent[]): string {
  const formation = [h.formation.flow ? `flow \`${h.formation.flow}\`` : "", h.formation.cycles.length ? `cycles ${h.formation.cycles.map((c) => `\`${c}\``).join(", ")}` : ""]
    .filter(Boolean)
    .join("; ")
  return blocks(
    `# Formation Brief: ${h.title}`,
    `Brief \`${h.id}\`${formation ? ` for ${formation}` : ""}. Built from ${intents.length} intent record${intents.length === 1 ? "" : "s"}: ${intents.map((i) => `\`${i.id}\``).join(", ")}.`,
    h.notes,
    ...intents.map(renderIntentFull),
  )
}

/** Forge: what to build, under which constraints, what to leave alone, and how it will be judged. */
export function renderForgePack(intents: readonly BundleIntent[], notes: string | undefined, briefNotes?: string): string {
  const parts: string[] = [
    "Build what these intents ask for. Every acceptance criterion below is checked after you finish (by a command, by appraisers citing the law id shown, or by a person), so meet each one; keep to the constraints and stay clear of the non-goals.",
  ]
  for (const i of intents) {
    parts.push(
      blocks(
        `### ${i.title} (\`${i.id}\`)`,
        section("Goal", i.goal),
        section("Context", i.context),
        section("Why it matters", i.body),
        section("Constraints (must hold)", bullets(i.constraints)),
        section("Non-goals (do not do these)", bullets(i.non_goals)),
        section("Tradeoffs (decided already)", bullets(i.tradeoffs)),
        section("Acceptance criteria you must meet", criteriaLines(i)),
        section(
          "Open questions (not decided yet)",
          i.open_questions.length ? `${bullets(i.open_questions)}\n\nIf your work depends on one of these, take the most conservative reading and say which one you took in your stage summary.` : "",
        ),
      ),
    )
  }
  if (briefNotes?.trim()) parts.push(`**About this brief**\n\n${briefNotes.trim()}`)
  if (notes) parts.push(`**Notes for this stage**\n\n${notes.trim()}`)
  return parts.join("\n\n")
}

/** Appraise: each law gate in Foundry's law format (`## <law-id>`, prose, Passing:, Failing:). */
export function renderLawGate(g: Gate, passing: string | undefined, failing: string | undefined, intentTitle: string): string {
  return [
    `## ${g.law_id}`,
    "",
    `${g.title.replace(/\n+/g, " ")} — acceptance criterion \`${g.criterion}\` of intent "${intentTitle}".`,
    "",
    `Passing: ${passing ?? `The artefact meets this criterion: ${g.title.replace(/\n+/g, " ")}`}`,
    "",
    `Failing: ${failing ?? "The artefact does not meet this criterion, or contradicts it."}`,
  ].join("\n")
}

export function renderAppraisePack(gates: readonly Gate[], notes: string | undefined): string {
  const laws = gates.filter((g) => g.kind === "law")
  const parts: string[] = []
  if (laws.length) {
    parts.push(
      "Grade the artefact against these additional laws too. They come from the acceptance criteria of the brief; cite a law by its id exactly as written in the heading.",
    )
    parts.push(laws.map((g) => g.text).join("\n\n"))
  } else {
    parts.push("This brief adds no appraisal laws; grade against the cycle's own laws.")
  }
  if (notes) parts.push(`**Notes for appraisers**\n\n${notes.trim()}`)
  return parts.join("\n\n")
}

export function renderHumanPack(gates: readonly Gate[], notes: string | undefined, intents: readonly BundleIntent[] = []): string {
  const human = gates.filter((g) => g.kind === "human")
  const parts: string[] = []
  if (human.length) {
    parts.push("Sign-off checklist: acceptance criteria that need a person to confirm them. Approve only when every box can be ticked; otherwise say which criterion is not met and why.")
    parts.push(human.map((g) => `- [ ] **${g.criterion}** ${oneLine(g.title)}${g.who ? ` — sign-off by ${g.who}` : ""}`).join("\n"))
    const goals = intents.filter((i) => human.some((g) => g.criterion.startsWith(`${i.id}#`)))
    if (goals.length) parts.push(`What the work is for:\n\n${goals.map((i) => `- **${i.title}**: ${oneLine(i.goal)}`).join("\n")}`)
  } else {
    parts.push("No acceptance criterion of this brief needs a human sign-off.")
  }
  if (notes) parts.push(`**Notes for the reviewer**\n\n${notes.trim()}`)
  return parts.join("\n\n")
}

export function renderQuenchPack(gates: readonly Gate[], notes: string | undefined): string {
  const checks = gates.filter((g) => g.kind === "check")
  const parts: string[] = []
  parts.push(
    checks.length
      ? `Deterministic checks that prove acceptance criteria:\n\n${checks.map((g) => `- **${g.criterion}** \`${g.command}\` — ${g.title.replace(/\n+/g, " ")}`).join("\n")}`
      : "This brief adds no deterministic checks.",
  )
  if (notes) parts.push(`**Notes**\n\n${notes.trim()}`)
  return parts.join("\n\n")
}

export function renderAssayPack(intents: readonly BundleIntent[], notes: string | undefined): string {
  const parts = intents.map((i) => blocks(`### ${i.title} (\`${i.id}\`)`, section("Goal", i.goal), section("Context", i.context)))
  if (notes) parts.push(`**Notes**\n\n${notes.trim()}`)
  return parts.join("\n\n")
}
