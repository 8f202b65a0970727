/**
 * The layering Alloy describes, enforced in `npm test` (`npm run check:layers`):
 * core ← store ← foundry ← service ← evidence ← team, plugin, bridge (← ui) ← cli ← demo; a layer imports only the
 * layers to its left (and npm packages), and nothing imports in a cycle.
 */
const layer = (name, allowed) => ({
  name: `${name}-imports-downward-only`,
  comment: `src/${name}/ may import only ${allowed.length ? allowed.map((a) => `src/${a}/`).join(", ") : "itself"} (and packages)`,
  severity: "error",
  from: { path: `^src/${name}/` },
  to: { path: "^src/", pathNot: [`^src/${name}/`, ...allowed.map((a) => `^src/${a}/`), ...(name === "core" ? [] : ["^src/(version|package-dir)\\.ts$"])] },
})

module.exports = {
  forbidden: [
    layer("core", []),
    layer("store", ["core"]),
    layer("foundry", ["core", "store"]),
    layer("service", ["core", "store", "foundry"]),
    layer("evidence", ["core", "store", "foundry", "service"]),
    // the team store (an OCI registry): uses the store, the services and evidence; only the CLI uses it
    layer("team", ["core", "store", "foundry", "service", "evidence"]),
    layer("plugin", ["core", "store", "foundry", "service", "evidence"]),
    // the web app shows the exact Alloy block the hooks append, so it reads the plugin's pure renderer;
    // it starts, aborts and answers bridge runs through the bridge's own use cases (bridge/requests.ts)
    layer("ui", ["core", "store", "foundry", "service", "evidence", "plugin", "bridge"]),
    // the bridge drives Foundry runs through an OpenCode server; the CLI starts it
    layer("bridge", ["core", "store", "foundry", "service", "evidence"]),
    // the CLI may start the demo and the web app (they are commands); the demo may use the CLI's types only
    layer("cli", ["core", "store", "foundry", "service", "evidence", "team", "bridge", "demo", "ui"]),
    {
      name: "demo-uses-cli-types-only",
      severity: "error",
      from: { path: "^src/demo/" },
      to: { path: "^src/cli/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-cycles",
      comment: "an import cycle (type-only imports aside: they vanish at build time)",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-dev-dependencies-at-runtime",
      comment: "the shipped code may not import a dev dependency (it is not installed for users)",
      severity: "error",
      from: { path: "^src/" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.build.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js", ".d.ts"] },
  },
}
