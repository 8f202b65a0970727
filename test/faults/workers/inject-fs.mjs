// Fault injection for a child process: `node --import <this file> ...`. Every write under
// ALLOY_FAULT_DIR fails the way a full disk or a read-only file system fails, for tests that
// cannot mount a tiny tmpfs (and for root, whom chmod does not stop).
//
//   ALLOY_FAULT=ENOSPC  files can be created, but after ALLOY_FAULT_BYTES bytes (in all, default 0)
//                       every write fails: the first failing write is a short write, the next one
//                       throws ENOSPC, the way a disk fills up mid-file
//   ALLOY_FAULT=EROFS   opening for writing, creating, renaming, linking, removing: all EROFS
//
// Reads are never touched. The patched functions are the `node:fs` exports (CommonJS object and,
// via syncBuiltinESMExports, the ESM named exports) used by the code under test.
import fs from "node:fs"
import path from "node:path"
import { syncBuiltinESMExports } from "node:module"

const MODE = process.env.ALLOY_FAULT
const DIR = path.resolve(process.env.ALLOY_FAULT_DIR ?? "/nonexistent")
let budget = Number(process.env.ALLOY_FAULT_BYTES ?? "0")
const { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = fs.constants
const ERRNO = { ENOSPC: -28, EROFS: -30 }
const TEXT = { ENOSPC: "no space left on device", EROFS: "read-only file system" }

function fault(code, syscall, p) {
  const e = new Error(`${code}: ${TEXT[code]}, ${syscall}${p !== undefined ? ` '${p}'` : ""}`)
  e.code = code
  e.errno = ERRNO[code]
  e.syscall = syscall
  if (p !== undefined) e.path = String(p)
  return e
}

const inside = (p) => {
  if (typeof p !== "string" && !(p instanceof URL) && !Buffer.isBuffer(p)) return false
  const a = path.resolve(p instanceof URL ? p.pathname : String(p))
  return a === DIR || a.startsWith(DIR + path.sep)
}
const writes = (flags) => (typeof flags === "number" ? (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) !== 0 : typeof flags === "string" ? /[wa+]/.test(flags) : false)

const orig = {}
for (const k of ["openSync", "writeSync", "closeSync", "mkdirSync", "renameSync", "linkSync", "unlinkSync", "writeFileSync", "appendFileSync", "symlinkSync", "copyFileSync", "rmSync"]) {
  orig[k] = fs[k]
}
const tracked = new Set()

fs.openSync = function (p, flags = "r", mode) {
  if (inside(p) && writes(flags)) {
    if (MODE === "EROFS") throw fault("EROFS", "open", p)
    const fd = orig.openSync(p, flags, mode)
    tracked.add(fd)
    return fd
  }
  return orig.openSync(p, flags, mode)
}

fs.writeSync = function (fd, buffer, ...rest) {
  if (!tracked.has(fd) || MODE !== "ENOSPC") return orig.writeSync(fd, buffer, ...rest)
  if (budget <= 0) throw fault("ENOSPC", "write")
  let buf
  let position
  if (typeof buffer === "string") {
    buf = Buffer.from(buffer, typeof rest[1] === "string" ? rest[1] : "utf8")
    position = rest[0]
  } else {
    const offset = rest[0] ?? 0
    const length = rest[1] ?? buffer.byteLength - offset
    buf = Buffer.from(buffer.buffer, buffer.byteOffset + offset, length)
    position = rest[2]
  }
  const n = Math.min(buf.byteLength, budget)
  budget -= n
  return orig.writeSync(fd, buf, 0, n, position ?? null)
}

fs.closeSync = function (fd) {
  tracked.delete(fd)
  return orig.closeSync(fd)
}

const refuse = (name, syscall, ...which) =>
  function (...args) {
    if (MODE === "EROFS" && which.some((i) => inside(args[i]))) throw fault("EROFS", syscall, args[which.find((i) => inside(args[i]))])
    return orig[name].apply(fs, args)
  }
fs.renameSync = refuse("renameSync", "rename", 0, 1)
fs.linkSync = refuse("linkSync", "link", 0, 1)
fs.unlinkSync = refuse("unlinkSync", "unlink", 0)
fs.symlinkSync = refuse("symlinkSync", "symlink", 1)
fs.copyFileSync = refuse("copyFileSync", "copyfile", 1)
fs.rmSync = refuse("rmSync", "rm", 0)

fs.mkdirSync = function (p, options) {
  if (MODE === "EROFS" && inside(p) && !fs.existsSync(p)) throw fault("EROFS", "mkdir", p)
  return orig.mkdirSync(p, options)
}

// whole-file writes (Node's string fast path does not go through openSync/writeSync)
for (const name of ["writeFileSync", "appendFileSync"]) {
  fs[name] = function (p, data, options) {
    if (typeof p !== "number" && inside(p)) {
      if (MODE === "EROFS") throw fault("EROFS", "open", p)
      if (MODE === "ENOSPC" && budget <= 0) throw fault("ENOSPC", "write", p)
    }
    return orig[name].call(fs, p, data, options)
  }
}

syncBuiltinESMExports()
