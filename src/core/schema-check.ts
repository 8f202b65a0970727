/**
 * A cheap "is this value already valid, as it stands?" for a zod schema, derived from the schema
 * itself (so the schema stays the single source of truth). zod's own parse builds a new copy of
 * every object and an issue list per field, which is most of the cost of verifying a large bundle;
 * this walks the value once and allocates almost nothing.
 *
 * The answer is one-sided: `true` means zod's `safeParse` succeeds AND returns a value equal to the
 * input (no trimming, defaults or stripped keys changed anything); `false` means "cannot tell
 * cheaply", and the caller runs `safeParse`, which decides and words the error. Every leaf check
 * (regex, lengths, number ranges, refinements, trims) is zod's own check function, run on the
 * value; a trim that would change a string answers `false`. A schema using anything not handled
 * here (transforms, pipes, defaults, coercion, plain unions, lazy or async parts...) gets no cheap
 * check at all: `compileSchemaCheck` returns undefined.
 */
import type { z } from "zod"

type Check = (v: unknown) => boolean

interface ZodCheckInst {
  _zod: { def: { when?: unknown }; check: (payload: { value: unknown; issues: unknown[] }) => unknown }
}
interface ZodInternals {
  def: {
    type: string
    checks?: ZodCheckInst[]
    coerce?: boolean
    shape?: Record<string, z.ZodType>
    catchall?: z.ZodType
    element?: z.ZodType
    innerType?: z.ZodType
    keyType?: z.ZodType
    valueType?: z.ZodType
    options?: z.ZodType[]
    discriminator?: string
    unionFallback?: boolean
  }
  values?: Set<unknown>
  propValues?: Record<string, Set<unknown>>
}

class Unsupported extends Error {}

const internals = (s: z.ZodType) => (s as unknown as { _zod: ZodInternals })._zod

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** zod's checks of one node, run as zod runs them; `false` when any reports an issue or would change the value. */
function checksOf(checks: ZodCheckInst[] | undefined): Check | undefined {
  if (!checks || checks.length === 0) return undefined
  const direct = checks.map(directCheck)
  // every check has a direct form (the usual case: a pattern, a length): no payload, no issue list
  if (direct.every((d) => d !== undefined)) {
    const all = direct as Check[]
    return all.length === 1 ? all[0]! : (v) => all.every((d) => d(v))
  }
  return (v) => {
    const payload = { value: v, issues: [] as unknown[] }
    for (const ch of checks) {
      // a conditional check zod might skip is still run here: a spurious `false` only costs the full parse
      if (ch._zod.check(payload) instanceof Promise) return false
      if (payload.issues.length > 0 || payload.value !== v) return false
    }
    return true
  }
}

/**
 * The few zod checks whose whole test is one expression, written as that expression: what zod's
 * check function tests before it reports an issue (a regular expression, reset first as zod resets
 * it; a length bound; a number's bound or safe-integer format), or, for a check that rewrites the
 * value (`.trim()`), that the rewrite leaves it as it is. The node's own type check runs first, so
 * the value is a string, an array or a finite number here. Any other check is run by zod. A schema
 * with one check zod must run runs all of its checks through zod, with a payload per value: a text
 * field's `.trim()` did that for every text of a bundle before it had a form here.
 */
function directCheck(ch: ZodCheckInst): Check | undefined {
  const d = ch._zod.def as {
    check?: string
    format?: string
    pattern?: RegExp
    minimum?: number
    maximum?: number
    length?: number
    value?: unknown
    inclusive?: boolean
    tx?: (v: unknown) => unknown
  }
  switch (d.check) {
    case "overwrite": {
      const tx = d.tx
      return typeof tx === "function" ? (v) => tx(v) === v : undefined
    }
    case "number_format":
      return d.format === "safeint" ? (v) => Number.isSafeInteger(v) : undefined
    case "greater_than": {
      const min = d.value
      if (typeof min !== "number") return undefined
      return d.inclusive ? (v) => (v as number) >= min : (v) => (v as number) > min
    }
    case "less_than": {
      const max = d.value
      if (typeof max !== "number") return undefined
      return d.inclusive ? (v) => (v as number) <= max : (v) => (v as number) < max
    }
    case "string_format": {
      const p = d.pattern
      if (d.format !== "regex" || !(p instanceof RegExp)) return undefined
      return (v) => {
        p.lastIndex = 0
        return p.test(v as string)
      }
    }
    case "min_length": {
      const min = d.minimum
      return typeof min === "number" ? (v) => (v as { length: number }).length >= min : undefined
    }
    case "max_length": {
      const max = d.maximum
      return typeof max === "number" ? (v) => (v as { length: number }).length <= max : undefined
    }
    case "length_equals": {
      const n = d.length
      return typeof n === "number" ? (v) => (v as { length: number }).length === n : undefined
    }
    default:
      return undefined
  }
}

/**
 * Set while mismatchPath runs: where the value failed, innermost first. A check only writes here on
 * its way out with `false`, so the checks cost the same when no one asks.
 */
let trail: Array<string | number> | undefined

function failAt(key: string | number): false {
  trail?.push(key)
  return false
}

function withChecks(base: Check, checks: Check | undefined): Check {
  return checks ? (v) => base(v) && checks(v) : base
}

function compile(schema: z.ZodType): Check {
  const zi = internals(schema)
  const def = zi.def
  if (def.coerce) throw new Unsupported(def.type)
  const checks = checksOf(def.checks)
  switch (def.type) {
    case "string":
      return withChecks((v) => typeof v === "string", checks)
    case "number":
      return withChecks((v) => typeof v === "number" && Number.isFinite(v), checks)
    case "boolean":
      return withChecks((v) => typeof v === "boolean", checks)
    case "literal":
    case "enum": {
      const values = zi.values
      if (!values) throw new Unsupported(def.type)
      return withChecks((v) => values.has(v), checks)
    }
    case "optional": {
      const inner = compile(def.innerType!)
      return withChecks((v) => v === undefined || inner(v), checks)
    }
    case "array": {
      const element = compile(def.element!)
      return withChecks((v) => {
        if (!Array.isArray(v)) return false
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return failAt(i)
        return true
      }, checks)
    }
    case "object": {
      // strict (catchall never) or stripping (no catchall): either way an unknown key answers `false`
      if (def.catchall && internals(def.catchall).def.type !== "never") throw new Unsupported("object catchall")
      const keys = Object.keys(def.shape!)
      const fieldChecks = keys.map((k) => compile(def.shape![k]!))
      const known = new Set(keys)
      return withChecks((v) => {
        if (typeof v !== "object" || v === null || Array.isArray(v)) return false
        const o = v as Record<string, unknown>
        for (let i = 0; i < keys.length; i++) if (!fieldChecks[i]!(o[keys[i]!])) return failAt(keys[i]!)
        for (const k in o) if (!known.has(k)) return failAt(k)
        return true
      }, checks)
    }
    case "record": {
      const value = compile(def.valueType!)
      const keyValues = internals(def.keyType!).values
      if (keyValues) {
        // zod reads a record keyed by an enum as exhaustive: every key present, no other
        for (const k of keyValues) if (typeof k !== "string") throw new Unsupported("record key")
        return withChecks((v) => {
          if (!isPlainObject(v)) return false
          for (const k of keyValues) if (!value(v[k as string])) return failAt(k as string)
          for (const k in v) if (!keyValues.has(k)) return failAt(k)
          return true
        }, checks)
      }
      const key = compile(def.keyType!)
      return withChecks((v) => {
        if (!isPlainObject(v)) return false
        for (const k of Reflect.ownKeys(v)) {
          // zod skips an own `__proto__` member, so its result would differ from the input
          if (typeof k !== "string" || k === "__proto__" || !key(k) || !value(v[k])) return failAt(String(k))
        }
        return true
      }, checks)
    }
    case "union": {
      const disc = def.discriminator
      if (disc === undefined || def.unionFallback) throw new Unsupported("union")
      const options = def.options!.map((o) => ({ values: internals(o).propValues?.[disc], check: compile(o) }))
      if (options.some((o) => !o.values)) throw new Unsupported("union option")
      return withChecks((v) => {
        if (typeof v !== "object" || v === null || Array.isArray(v)) return false
        const tag = (v as Record<string, unknown>)[disc]
        const option = options.find((o) => o.values!.has(tag))
        return option?.check(v) === true
      }, checks)
    }
    default:
      throw new Unsupported(def.type)
  }
}

/** The cheap check for `schema`, or undefined when the schema uses a part it does not handle. */
export function compileSchemaCheck(schema: z.ZodType): Check | undefined {
  try {
    return compile(schema)
  } catch (e) {
    if (e instanceof Unsupported) return undefined
    throw e
  }
}

/**
 * Where `value` first fails `check` (made by compileSchemaCheck): the keys and indexes down to the
 * value it refused, `[]` for the value itself. For a value too large to hand to zod's own parse,
 * which lists every fault it finds (millions, for an object made to hold them) before anyone reads
 * the first.
 */
export function mismatchPath(check: Check, value: unknown): Array<string | number> {
  trail = []
  try {
    check(value)
    return trail.reverse()
  } finally {
    trail = undefined
  }
}

/**
 * The most JSON values Alloy hands to zod in one parse of something it read. zod words every fault
 * it finds before the first is read, so a file made of millions of bad values (an object, a WORK
 * file, an intent: anyone can write one) cost seconds and gigabytes, and an 8 MB object ran
 * `verify` out of memory. A valid one of each holds far fewer: a bundle Alloy builds a few
 * thousand, an intent within its limits a few ten thousand, a Foundry history entry a few dozen.
 * Above it a reader refuses the value without zod (for an object: naming where it first differs).
 */
export const MAX_PARSED_VALUES = 100_000

/**
 * How every reader says it. Written out, not formatted: `toLocaleString` starts the ICU number
 * formatter, 15 ms of every command's start for one constant.
 */
export const TOO_MANY_VALUES = "holds more than 100,000 values"

/** Does a parsed JSON value hold more than `limit` values (itself, every member and element)? Stops counting there. */
export function holdsMoreValuesThan(value: unknown, limit: number): boolean {
  const stack: unknown[] = [value]
  let count = 0
  while (stack.length > 0) {
    const v = stack.pop()
    if (++count > limit) return true
    if (typeof v !== "object" || v === null) continue
    if (Array.isArray(v)) {
      // every element is one more value: a list of millions is answered without stacking them
      if (count + stack.length + v.length > limit) return true
      for (let i = 0; i < v.length; i++) stack.push(v[i])
    } else for (const k in v) stack.push((v as Record<string, unknown>)[k])
  }
  return false
}
