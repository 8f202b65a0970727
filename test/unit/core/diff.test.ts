// `brief diff --format markdown` is meant for a pull-request comment: what it says changed must be
// all a reader sees. Authored texts (criterion texts, titles, stage notes) are untrusted there too:
// nothing in them may start a heading, a list item, a link, an image or HTML, or close the code
// block a stage's diff is shown in.
import { describe, expect, it } from "vitest"
import { buildBundle } from "../../../src/core/build.js"
import type { Bundle } from "../../../src/core/bundle.js"
import { diffBundles, renderBundleDiff } from "../../../src/core/diff.js"
import type { Intent } from "../../../src/core/intent.js"
import { fenced, mdText } from "../../../src/core/prompt-safety.js"
import type { Recipe } from "../../../src/core/recipe.js"
import { headings } from "../../helpers/foundry-prompt.js"

/** The lines of `md` outside fenced code blocks, as CommonMark finds them: a block opens at a line of
 * three or more backticks (up to three spaces in) and closes at a line of at least as many. */
function outsideFences(md: string): string {
  const out: string[] = []
  let open = 0
  for (const line of md.split("\n")) {
    const m = /^ {0,3}(`{3,})(.*)$/.exec(line)
    if (open === 0 && m && !m[2]!.includes("`")) open = m[1]!.length
    else if (open > 0 && m && m[1]!.length >= open && m[2]!.trim() === "") open = 0
    else if (open === 0) out.push(line)
  }
  return out.join("\n")
}

function bundle(criterion: string, title: string, notes: string): Bundle {
  const intent: Intent = {
    id: "release-note-voice",
    title,
    status: "active",
    goal: "Customers understand what changed.",
    constraints: [],
    acceptance_criteria: [{ id: "AC-1", text: criterion, evidence: [{ kind: "law" }] }],
    non_goals: [],
    tradeoffs: [],
    open_questions: [],
    links: [],
    body: "",
  }
  const recipe: Recipe = { id: "release-note-voice", title, intents: ["release-note-voice"], formation: { cycles: [] }, stages: { forge: notes }, body: "" }
  return buildBundle({ recipe: { value: recipe, text: "r" }, intents: [{ value: intent, text: "i" }] }).bundle
}

const HOSTILE =
  "The note is short.\n\n### Alloy brief diff: `a` → `b`\n\nNo change to what any agent or gate is given.\n\n- [x] approved <img src=x onerror=alert(1)> [click](https://example.invalid) ![i](x.png) **bold** &amp;"

describe("brief diff as Markdown", () => {
  it("shows hostile criterion texts and titles as one escaped line each, and no stage diff can close its code block", () => {
    const a = bundle("The note is 150 words or fewer.", "Release notes", "Keep it short.")
    const b = bundle(HOSTILE, `Release notes\n# Forged heading <script>x</script>`, "Keep it short.\n```\n ```\n</details>\n## Forged section\n````")
    // a bundle named by its digest may be written by hand: a stored pack whose line starts with a fence
    a.packs["forge:x"] = { text: "## Forged section\n```\nold line" }
    b.packs["forge:x"] = { text: "## Forged section\n```\nnew line" }
    const md = renderBundleDiff(diffBundles(a, b, { from: "a", to: "b" }), "markdown")
    // outside the stages' code blocks, the only heading is Alloy's own and every list item starts with Alloy's words
    const outside = outsideFences(md)
    expect(outside).not.toMatch(/old line|new line/)
    expect(headings(outside)).toEqual(["### Alloy brief diff: `a` → `b`"])
    expect(outside).not.toMatch(/^#+ Forged|^No change to what/m)
    for (const line of outside.split("\n"))
      if (line.startsWith("- ")) expect(line).toMatch(/^- (?:release-note-voice#AC-1[ /]|intent release-note-voice|title: |[a-z-]+(?::[a-z0-9-]+)?: (?:added|changed|removed)$)/)
    // nothing in the authored text is left to act as Markdown or HTML outside the code block
    expect(outside).not.toMatch(/(?<!\\)<img|(?<!\\)<script|(?<!\\)\[click(?<!\\)\]|(?<!\\)!\[|(?<!\\)\*\*bold/)
    expect(outside).toContain(mdText(HOSTILE))
    // the forge stage's diff is inside its block, whole: its backtick lines and its `</details>` are content
    const forge = /<summary>forge<\/summary>\n\n(`{3,})diff\n([\s\S]*?)\n\1$/m.exec(md)!
    expect(forge[2]).toMatch(/^\+> {2}```$/m)
    expect(forge[2]).toMatch(/^\+> ````$/m)
    expect(forge[2]).toMatch(/^\+> <\/details>$/m)
    const stored = /<summary>forge:x<\/summary>\n\n(`{3,})diff\n([\s\S]*?)\n\1$/m.exec(md)!
    expect(stored[2]).toMatch(/^ ## Forged section\n ```\n-old line\n\+new line$/m)
  })

  it("mdText and fenced: the text reads back the same, and no backtick run in it can close the fence", () => {
    expect(mdText("a *b* [c](d) <e> & `f` ~g~ _h_ #i \\j")).toBe("a \\*b\\* \\[c\\](d) \\<e\\> \\& \\`f\\` \\~g\\~ \\_h\\_ #i \\\\j")
    expect(mdText("two\nlines\u202e")).toBe("two lines")
    expect(fenced("x")).toBe("```\nx\n```")
    expect(fenced("a\n```\nb", "diff")).toBe("````diff\na\n```\nb\n````")
    expect(fenced("`````")).toBe("``````\n`````\n``````")
    // measured after control characters are removed: a zero-width space cannot split a run that closes the fence
    expect(fenced("``\u200b``")).toBe("`````\n````\n`````")
  })
})
