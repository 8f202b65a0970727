/**
 * Preloaded (`node --import`) into a command a benchmark times: at exit, write the process's peak
 * resident set size (KiB) to the file named by ALLOY_BENCH_RSS_FILE.
 */
import { writeFileSync } from "node:fs"

const file = process.env.ALLOY_BENCH_RSS_FILE
if (file) process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)))
