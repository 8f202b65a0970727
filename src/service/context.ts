/**
 * One project, as the tools, hooks and CLI see it: the `.alloy/` store and the Foundry files
 * beside it. Cheap to create; holds per-project caches.
 */
import path from "node:path"
import { AlloyStore } from "../store/store.js"
import { FoundryProject } from "../foundry/project.js"

export class AlloyContext {
  readonly root: string
  readonly store: AlloyStore
  readonly project: FoundryProject

  constructor(root: string) {
    this.root = path.resolve(root)
    this.store = new AlloyStore(this.root)
    this.project = new FoundryProject(this.root)
  }
}

const contexts = new Map<string, AlloyContext>()

/** A shared context per project root (keeps caches warm across tool and hook calls). */
export function contextFor(root: string): AlloyContext {
  const key = path.resolve(root)
  let c = contexts.get(key)
  if (!c) {
    c = new AlloyContext(key)
    if (contexts.size > 32) contexts.clear()
    contexts.set(key, c)
  }
  return c
}
