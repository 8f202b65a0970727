/**
 * Small map helpers shared by the evidence readers, which group up to hundreds of thousands of
 * records and observations: every grouping must stay linear.
 */
/** Append to the list under a key (in place: building lists by copying would be quadratic in their length). */
export function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k)
  if (l) l.push(v)
  else m.set(k, [v])
}

/**
 * A lookup `(key, list) => items` that groups `list` once, the first time it is asked about that
 * list (the same list object gives the same index), so asking per intent, per brief or per
 * criterion stays linear. `keysOf` names each item's keys, in the order given by `order`.
 */
export function groupedOnce<T>(keysOf: (item: T) => Iterable<string>, order: (list: readonly T[]) => readonly T[] = (l) => l): (key: string, list: readonly T[]) => readonly T[] {
  const memo = new WeakMap<readonly T[], Map<string, T[]>>()
  return (key, list) => {
    let m = memo.get(list)
    if (!m) {
      m = new Map()
      for (const item of order(list)) for (const k of keysOf(item)) pushTo(m, k, item)
      memo.set(list, m)
    }
    return m.get(key) ?? []
  }
}
