import { z } from "zod"
const mode = process.argv[2]
const t0 = performance.now()
const T = mode === "check"
  ? (w) => z.string({ error: () => `x ${w}` }).check(z.trim(), z.minLength(1, `${w} empty`), z.maxLength(8000, `${w} long`))
  : (w) => z.string({ error: () => `x ${w}` }).trim().min(1, `${w} empty`).max(8000, `${w} long`)
const out = []
for (let i = 0; i < 40; i++) out.push(T("w" + i))
const t1 = performance.now()
for (let i = 0; i < 40; i++) out.push(T("v" + i))
const t2 = performance.now()
console.log(mode, "first 40:", (t1 - t0).toFixed(2), "ms; next 40:", (t2 - t1).toFixed(2), "ms", out[0].safeParse("  a ").data)
