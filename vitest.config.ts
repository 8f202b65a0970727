import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: "forks",
    // the count of skipped tests by reason, after every run (CI prints it with the results)
    reporters: ["default", "./test/helpers/skip-reporter.ts"],
  },
})
