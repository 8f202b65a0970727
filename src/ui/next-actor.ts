/**
 * "Who must act next" for a criterion (pure): from its verdict, its gates and what the intent says
 * about who signs off, name the party that can move it and what they do. Any verdict string is
 * handled: one this file does not know asks a person to read the evidence.
 */
import type { CriterionVerdict } from "../evidence/satisfaction.js"

export interface NextActor {
  /** a party: "the flow (forge)", "the product owner", "nobody" */
  readonly who: string
  readonly what: string
  /** true when nothing is needed */
  readonly done: boolean
}

export interface ActorFacts {
  /** the `who` of the criterion's human evidence, when the intent names one */
  readonly humanWho?: string | undefined
  /** cycles of the briefs carrying the intent */
  readonly cycles: readonly string[]
}

const list = (cs: readonly string[]) => (cs.length ? cs.join(", ") : "the brief's cycle")

/** `verdict` is any string: a verdict added later (e.g. "contested") still gets an answer. */
export function nextActor(c: Pick<CriterionVerdict, "gates" | "ref"> & { readonly verdict: string }, f: ActorFacts): NextActor {
  const human = f.humanWho?.trim() || "a person with the sign-off"
  const gateOf = (v: string) => c.gates.filter((g) => g.verdict === v)
  switch (c.verdict) {
    case "satisfied":
      return { who: "nobody", what: "every gate passed under the current bundle", done: true }
    case "waived":
      return { who: "the intent's owner", what: "confirm the waiver (a feedback item was closed as wont-fix), or reopen it", done: false }
    case "failing": {
      const g = gateOf("failing")
      if (g.length && g.every((x) => x.kind === "human")) return { who: human, what: "answer the open human feedback, then sign off again", done: false }
      return { who: "the flow (forge)", what: `resolve the failing ${g.map((x) => x.kind).join(" and ") || "gate"} and run ${list(f.cycles)} again`, done: false }
    }
    case "stale":
      return { who: "the flow owner", what: `run ${list(f.cycles)} again under the current build (re-pin the cycle if its pin is behind)`, done: false }
    case "unproven": {
      if (!c.gates.length) return { who: "the intent's author", what: "add evidence to the criterion (check, law, human or artefact) and rebuild the brief", done: false }
      const g = gateOf("unproven")
      if (g.length && g.every((x) => x.kind === "human")) return { who: human, what: `sign off ${c.ref} (below, or \`opencode-alloy evidence signoff\`)`, done: false }
      return { who: "the flow", what: `run ${list(f.cycles)} so its ${g.map((x) => x.kind).join(" and ") || "unproven"} gate${g.length === 1 ? "" : "s"} can produce evidence`, done: false }
    }
    default:
      return { who: "a reviewer", what: `the verdict is "${c.verdict}": read the evidence below and settle it (sign off, or reopen the feedback)`, done: false }
  }
}
