/**
 * Which cycles a Foundry flow reaches: its starting cycles, then every cycle named in a reached
 * cycle's `targets`, breadth first, each once. The one walk behind a flow's pin (which cycles it
 * covers, foundry/project.ts) and the formation designer (which cycles a flow runs, and whether a
 * proposed flow still reaches every cycle of the formation). Pure: the caller says how a cycle's
 * targets are read, from the project's files or from a proposed config.
 *
 * The walk ends by itself: each cycle is expanded at most once, so it takes at most as many steps
 * as the definitions name cycles and targets, whatever the graph's cycles and self-targets.
 */
export function reachableCycles(start: readonly string[], targetsOf: (cycle: string) => readonly string[]): string[] {
  const seen = new Set<string>()
  const queue = [...start]
  for (let i = 0; i < queue.length; i++) {
    const c = queue[i]!
    if (seen.has(c)) continue
    seen.add(c)
    for (const t of targetsOf(c)) if (!seen.has(t)) queue.push(t)
  }
  return [...seen]
}
