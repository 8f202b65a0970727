/**
 * What a push shares about where each bundle came from: the commit that added its object file,
 * read from one `git log` of the store's folders (the oldest commit wins when a file was added twice).
 */
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { collectLocal } from "../../../src/team/transfer.js"
import { buildBrief } from "../../../src/service/build.js"
import { git, gitInitCommitAll } from "../../helpers/git.js"
import { BRIEF_ID, scratch } from "../../helpers/project.js"

const tmp = scratch()

describe("collectLocal", () => {
  it("annotates each bundle with the commit that added its object file", async () => {
    const p = await tmp.pinned()
    gitInitCommitAll(p.dir)
    const first = git(p.dir, ["rev-parse", "HEAD"]).trim()
    const intent = path.join(p.dir, ".alloy", "intents", `${BRIEF_ID}.md`)
    writeFileSync(intent, readFileSync(intent, "utf8").replace(/^title: (.*)$/m, "title: $1, plainly"))
    const rebuilt = buildBrief(p.ctx, BRIEF_ID)
    git(p.dir, ["add", "-A"])
    git(p.dir, ["commit", "-q", "-m", "rebuild"])
    const second = git(p.dir, ["rev-parse", "HEAD"]).trim()
    const objects = new Map(
      collectLocal(p.ctx, [])
        .filter((i) => i.kind === "object")
        .map((i) => [`sha256:${i.id}`, i.annotations.sourceCommit]),
    )
    expect(objects.get(p.digest)).toBe(first)
    expect(objects.get(rebuilt.digest)).toBe(second)
  })
})
