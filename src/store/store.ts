/**
 * The repo-local projection `.alloy/` (ALLOY.md §2): authored intents and brief recipes,
 * immutable content-addressed objects, refs, and the git-ignored `runs/` outbox.
 * Reads are synchronous (small files, no thread-pool hop on the resolve path); every write
 * is atomic; ids are validated before they become paths; symlinks may not lead out of `.alloy/`.
 */
import { hasConflictMarkers } from "../core/verify-rules.js"
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync } from "node:fs"
import path from "node:path"
import { unknownNameFix } from "../core/nearest.js"
import { AlloyError, describeIoError } from "../core/errors.js"
import { assertDigest, assertSlug, digestHex, isDigest } from "../core/ids.js"
import { digestOf } from "../core/digest.js"
import { MAX_SOURCE_BYTES } from "../core/frontmatter.js"
import { parseIntentBytes, renderIntentFile, type Intent } from "../core/intent.js"
import { parseRecipeBytes, renderRecipeFile, type Recipe } from "../core/recipe.js"
import { makeDirs, writeFileAtomic, writeFileOnce } from "./atomic.js"
import { readFileBounded } from "./read-file.js"

export const ALLOY_DIR = ".alloy"
export const GITIGNORE_TEXT = "# Alloy: run results are local; everything else here is meant to be committed.\nruns/\n*.tmp\n"
/** A `.gitignore` of `*` inside runs/ hides the outbox from git even before `.alloy/.gitignore` is committed. */
export const RUNS_GITIGNORE_TEXT = "*\n"

/** Largest object Alloy will read: 16 MiB. */
export const MAX_OBJECT_BYTES = 16 * 1024 * 1024

/**
 * A copy of parsed file data (plain objects, arrays and primitives) that shares nothing a caller
 * could change: every object and array is new; strings are immutable, so they are shared rather
 * than copied (which is what makes this several times cheaper than `structuredClone`).
 */
function copyData(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyData)
  if (v === null || typeof v !== "object") return v
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v)) {
    const x = copyData((v as Record<string, unknown>)[k])
    // an own `__proto__` member (a metadata key) stays a member; assigning it would set the prototype
    if (k === "__proto__") Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true })
    else out[k] = x
  }
  return out
}

export interface SourceRead<T> {
  readonly value: T
  readonly text: string
  readonly file: string
}

export class AlloyStore {
  readonly root: string
  readonly dir: string
  private realDir: string | undefined
  /** verified ref values by file, valid while the file's device, inode, size, mtime and ctime (ns) are unchanged */
  private readonly refCache = new Map<string, { stamp: string; value: string }>()

  constructor(projectRoot: string) {
    this.root = path.resolve(projectRoot)
    this.dir = path.join(this.root, ALLOY_DIR)
  }

  /** Project-relative path for messages (never an absolute machine path). */
  rel(p: string): string {
    if (p.startsWith(this.root + path.sep))
      return path.sep === "/"
        ? p.slice(this.root.length + 1)
        : p
            .slice(this.root.length + 1)
            .split(path.sep)
            .join("/")
    return path.relative(this.root, p).split(path.sep).join("/")
  }

  exists(): boolean {
    return existsSync(this.dir)
  }

  intentFile(id: string): string {
    return path.join(this.dir, "intents", `${assertSlug(id, "intent id")}.md`)
  }
  recipeFile(id: string): string {
    return path.join(this.dir, "briefs", `${assertSlug(id, "brief id")}.md`)
  }
  objectFile(digest: string): string {
    return path.join(this.dir, "objects", "sha256", `${digestHex(assertDigest(digest))}.json`)
  }
  refFile(id: string): string {
    return path.join(this.dir, "refs", "briefs", assertSlug(id, "brief id"))
  }
  get runsDir(): string {
    return path.join(this.dir, "runs")
  }

  /** Create `.alloy/` and its layout. Idempotent; never touches existing files. */
  init(): { created: string[] } {
    const created: string[] = []
    for (const d of ["", "intents", "briefs", "objects/sha256", "refs/briefs", "runs"]) {
      const p = path.join(this.dir, d)
      if (!existsSync(p)) {
        mkdirSync(p, { recursive: true })
        created.push(this.rel(p) + "/")
      }
    }
    this.realDir = undefined
    const gi = path.join(this.dir, ".gitignore")
    if (writeFileOnce(gi, GITIGNORE_TEXT, 0o644, this.rel(gi))) created.push(this.rel(gi))
    writeFileOnce(path.join(this.runsDir, ".gitignore"), RUNS_GITIGNORE_TEXT, 0o644, ".alloy/runs/.gitignore")
    return { created }
  }

  requireInit(): void {
    if (!this.exists()) {
      throw new AlloyError("not_initialised", `there is no ${ALLOY_DIR}/ folder in this project`, { fix: "run `opencode-alloy init` on the base branch" })
    }
  }

  private alloyReal(): string {
    if (this.realDir === undefined) {
      try {
        this.realDir = realpathSync.native(this.dir)
      } catch {
        this.requireInit()
        throw new AlloyError("io_error", `cannot read ${ALLOY_DIR}/`)
      }
    }
    return this.realDir
  }

  /**
   * Run `fn`, a scan that reads many files from a few folders (every pinned object, every intent),
   * proving each folder inside `.alloy/` once for the whole scan instead of once per file. Outside
   * a scan every read checks its folder again, so a folder swapped for a symlink later is refused;
   * within one, the answer could not be fresher than the realpath before each open already was.
   */
  inOneScan<T>(fn: () => T): T {
    if (this.scanDirs) return fn()
    this.scanDirs = new Set()
    try {
      return fn()
    } finally {
      this.scanDirs = undefined
    }
  }
  private scanDirs: Set<string> | undefined

  private assertDirInside(dir: string): void {
    if (this.scanDirs?.has(dir)) return
    this.assertInside(dir)
    this.scanDirs?.add(dir)
  }

  /** Refuse a path whose real location is outside `.alloy/` (a symlink leading out). */
  private assertInside(p: string): void {
    let real: string
    try {
      // the system's realpath: one call, where the JS walk lstats every component (this runs on every read)
      real = realpathSync.native(p)
    } catch {
      return // does not exist (yet): the caller reports that
    }
    const base = this.alloyReal()
    if (real !== base && !real.startsWith(base + path.sep)) {
      throw new AlloyError("unsafe_path", `${this.rel(p)} leads outside ${ALLOY_DIR}/ (a symlink); Alloy does not follow it`, {
        file: this.rel(p),
        fix: `replace the symlink with a real file or folder inside ${ALLOY_DIR}/`,
      })
    }
  }

  /** Make sure the folder for a write exists and is really inside `.alloy/`. */
  private prepareDir(dir: string): void {
    this.requireInit()
    try {
      makeDirs(dir)
    } catch (e) {
      throw new AlloyError("io_error", `could not create ${this.rel(dir)}: ${describeIoError(e)}; nothing was changed`, { file: this.rel(dir), cause: e })
    }
    this.assertInside(dir)
  }

  /**
   * Create a folder under `.alloy/` (and `.alloy/` itself when missing) and prove it lies inside.
   * For the run outbox only: the hooks may record runs of unpinned cycles before `init`.
   */
  ensureDirInside(dir: string): void {
    try {
      makeDirs(dir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST" || (e as NodeJS.ErrnoException).code === "ENOTDIR") {
        throw new AlloyError("io_error", `${this.rel(dir)} is not a folder, so nothing can be written there`, { file: this.rel(dir), fix: `move ${this.rel(dir)} out of the way` })
      }
      throw new AlloyError("io_error", `could not create ${this.rel(dir)}: ${describeIoError(e)}; nothing was written`, { file: this.rel(dir), cause: e })
    }
    this.realDir = undefined
    this.assertInside(dir)
  }

  /**
   * Read a file inside `.alloy/`. Returns undefined when it does not exist. The final path
   * component is opened with O_NOFOLLOW; a symlink is followed only if it stays inside.
   */
  readBytes(file: string, limit = MAX_SOURCE_BYTES): Buffer | undefined {
    this.assertDirInside(path.dirname(file))
    const rel = this.rel(file)
    try {
      return readFileBounded(file, limit, rel)
    } catch (e) {
      if (!(e instanceof AlloyError) || e.code !== "unsafe_path") throw e
    }
    // a symlink is followed only when its target stays inside `.alloy/`
    this.assertInside(file)
    return readFileBounded(file, limit, rel, { followSymlink: true })
  }

  private listSlugs(sub: string, ext: string): string[] {
    const d = path.join(this.dir, sub)
    let names: string[]
    try {
      names = readdirSync(d)
    } catch {
      return []
    }
    return names
      .filter((n) => n.endsWith(ext) && !n.startsWith("."))
      .map((n) => n.slice(0, n.length - ext.length))
      .filter((n) => /^[a-z0-9]+(-[a-z0-9]+)*$/.test(n) && n.length <= 64)
      .sort()
  }

  // ---- intents -------------------------------------------------------------------------
  listIntentIds(): string[] {
    return this.listSlugs("intents", ".md")
  }

  /**
   * Parsed intents and recipes by file, with the exact bytes they were parsed from. A file is read
   * on every call (so a change is always seen) but parsed again only when its bytes changed:
   * `status` reads each intent in four places, and parsing is most of what a read costs. Every
   * caller gets its own copy, so no caller can change what another one reads.
   */
  private readonly parsed = new Map<string, { bytes: Buffer; value: unknown }>()
  private parsedOnce<T>(file: string, bytes: Buffer, parse: () => T): T {
    const hit = this.parsed.get(file)
    if (hit?.bytes.equals(bytes)) return copyData(hit.value) as T
    const value = parse()
    this.parsed.set(file, { bytes, value: copyData(value) })
    return value
  }

  readIntent(id: string): SourceRead<Intent> {
    const file = this.intentFile(id)
    let bytes: Buffer | undefined
    try {
      bytes = this.readBytes(file)
    } catch (e) {
      if (e instanceof AlloyError && e.code === "malformed") throw new AlloyError("invalid_intent", e.message, { file: this.rel(file), fix: "fix the file, then run `opencode-alloy intent lint`" })
      throw e
    }
    if (!bytes) {
      throw new AlloyError("intent_not_found", `intent ${id} does not exist (${this.rel(file)})`, {
        fix: unknownNameFix(id, this.listIntentIds(), { kind: "intent", create: `opencode-alloy intent new ${id}` }),
      })
    }
    const value = this.parsedOnce(file, bytes, () => parseIntentBytes(bytes, this.rel(file), id))
    return { value, text: bytes.toString("utf8"), file: this.rel(file) }
  }

  /** Write an intent record (as `text` when given, else in Alloy's layout). `mode: "create"` refuses to replace an existing one. */
  writeIntent(intent: Intent, mode: "create" | "replace", text: string = renderIntentFile(intent)): { file: string; text: string } {
    const file = this.intentFile(intent.id)
    this.prepareDir(path.dirname(file))
    // round-trip: what we write must read back as the same record
    parseIntentBytes(Buffer.from(text), this.rel(file), intent.id)
    if (mode === "create") {
      if (!writeFileOnce(file, text, 0o644, this.rel(file))) {
        throw new AlloyError("already_exists", `intent ${intent.id} already exists (${this.rel(file)})`, { fix: "choose another id, or use `alloy_intent_update`" })
      }
    } else {
      this.assertInside(file)
      writeFileAtomic(file, text, 0o644, this.rel(file))
    }
    return { file: this.rel(file), text }
  }

  // ---- recipes -------------------------------------------------------------------------
  listRecipeIds(): string[] {
    return this.listSlugs("briefs", ".md")
  }

  hasRecipe(id: string): boolean {
    return existsSync(this.recipeFile(id))
  }

  readRecipe(id: string): SourceRead<Recipe> {
    const file = this.recipeFile(id)
    let bytes: Buffer | undefined
    try {
      bytes = this.readBytes(file)
    } catch (e) {
      if (e instanceof AlloyError && e.code === "malformed") throw new AlloyError("invalid_recipe", e.message, { file: this.rel(file) })
      throw e
    }
    if (!bytes) {
      throw new AlloyError("brief_not_found", `brief ${id} does not exist (${this.rel(file)})`, {
        fix: unknownNameFix(id, this.listRecipeIds(), { kind: "brief", create: `opencode-alloy brief new ${id} --intent <intent-id>` }),
      })
    }
    return { value: this.parsedOnce(file, bytes, () => parseRecipeBytes(bytes, this.rel(file), id)), text: bytes.toString("utf8"), file: this.rel(file) }
  }

  writeRecipe(recipe: Recipe, mode: "create" | "replace"): { file: string } {
    const file = this.recipeFile(recipe.id)
    this.prepareDir(path.dirname(file))
    const text = renderRecipeFile(recipe)
    parseRecipeBytes(Buffer.from(text), this.rel(file), recipe.id)
    if (mode === "create") {
      if (!writeFileOnce(file, text, 0o644, this.rel(file))) {
        throw new AlloyError("already_exists", `brief ${recipe.id} already exists (${this.rel(file)})`, { fix: "edit the file, or choose another id" })
      }
    } else {
      this.assertInside(file)
      writeFileAtomic(file, text, 0o644, this.rel(file))
    }
    return { file: this.rel(file) }
  }

  // ---- objects -------------------------------------------------------------------------
  /**
   * Store canonical bytes under their digest. Objects are immutable: an existing object with
   * the right bytes is left alone; one whose bytes no longer hash to its name is restored.
   */
  writeObject(bytes: Uint8Array, digest: string): { file: string; created: boolean } {
    if (digestOf(bytes) !== digest) throw new AlloyError("digest_mismatch", `refusing to store bytes under ${digest}: they hash to ${digestOf(bytes)}`)
    const file = this.objectFile(digest)
    this.prepareDir(path.dirname(file))
    if (writeFileOnce(file, bytes, 0o444, this.rel(file))) return { file: this.rel(file), created: true }
    const existing = this.readBytes(file, MAX_OBJECT_BYTES)
    if (existing && digestOf(existing) === digest) return { file: this.rel(file), created: false }
    this.assertInside(file)
    writeFileAtomic(file, bytes, 0o444, this.rel(file))
    return { file: this.rel(file), created: true }
  }

  readObject(digest: string): Buffer | undefined {
    return this.readBytes(this.objectFile(digest), MAX_OBJECT_BYTES)
  }

  hasObject(digest: string): boolean {
    return existsSync(this.objectFile(digest))
  }

  // ---- refs ----------------------------------------------------------------------------
  listRefIds(): string[] {
    return this.listSlugs("refs/briefs", "")
  }

  /** The current digest of a brief, or undefined when it has never been built. */
  readRef(id: string): string | undefined {
    const file = this.refFile(id)
    // one stat instead of open/read/close when the ref has not changed (a write replaces it: new inode)
    let st: string | undefined
    try {
      const l = lstatSync(file, { bigint: true })
      // symlinks are read (and checked) every time
      st = l.isFile() ? `${l.dev}:${l.ino}:${l.size}:${l.mtimeNs}:${l.ctimeNs}:${l.mode}` : undefined
    } catch {
      st = undefined
    }
    const hit = st ? this.refCache.get(file) : undefined
    if (st && hit && hit.stamp === st) {
      // the folder may have become a symlink since the value was cached
      this.assertInside(path.dirname(file))
      return hit.value
    }
    const value = this.readRefUncached(id, file)
    if (st && value !== undefined) {
      if (this.refCache.size > 4096) this.refCache.clear()
      this.refCache.set(file, { stamp: st, value })
    }
    return value
  }

  private readRefUncached(id: string, file: string): string | undefined {
    const bytes = this.readBytes(file, 4096)
    if (!bytes) return undefined
    const line = bytes.toString("utf8").trim()
    if (hasConflictMarkers(line)) {
      throw new AlloyError("merge_conflict", `${this.rel(file)} holds git merge conflict markers (two builds of brief ${id} were merged)`, {
        file: this.rel(file),
        fix: `resolve the merge conflict by rebuilding from the merged sources: \`opencode-alloy brief build ${id}\` rewrites the ref; then re-pin and commit`,
      })
    }
    if (!isDigest(line)) {
      throw new AlloyError("malformed", `${this.rel(file)} does not hold a digest (found ${JSON.stringify(String(line).slice(0, 80))})`, {
        file: this.rel(file),
        fix: `rebuild with \`opencode-alloy brief build ${id}\``,
      })
    }
    return line
  }

  writeRef(id: string, digest: string): { file: string } {
    const file = this.refFile(id)
    assertDigest(digest)
    this.prepareDir(path.dirname(file))
    this.assertInside(file)
    writeFileAtomic(file, `${digest}\n`, 0o644, this.rel(file))
    return { file: this.rel(file) }
  }

  /** Is `p` (absolute) a symlink? Used by checks that report on the store's health. */
  isSymlink(p: string): boolean {
    try {
      return lstatSync(p).isSymbolicLink()
    } catch {
      return false
    }
  }
}
