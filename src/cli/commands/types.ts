import type { Io } from "../io.js"

export type OptionValues = Record<string, string | boolean | string[] | undefined>
export type Command = (io: Io, positionals: string[], values: OptionValues) => number | Promise<number>

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)
export const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : [])
