import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: "forks",
    // the count of skipped tests by reason, after every run (CI prints it with the results); and a
    // temp folder of the run's own, which fails the run when a test leaves something in it
    reporters: ["default", "./test/helpers/skip-reporter.ts", "./test/helpers/temp-reporter.ts"],
  },
})
