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
