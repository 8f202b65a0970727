// Wires this repository's own build of Alloy into OpenCode for local use: run `npm run build`,
// then `opencode` in this folder. OpenCode loads every file in .opencode/plugins/.
export { AlloyPlugin } from "../../dist/index.js"
