/** `ui`: the local web app (issue: a local, live web app over intents, bundles, runs and satisfaction). */
import { EXIT_OK, usageError, type Io } from "../io.js"
import { str, type Command, type Commands } from "./types.js"

async function openBrowser(url: string): Promise<void> {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open"
  try {
    // child_process (with net, dgram and streams behind it) loads only here: every other command
    // and --help start without it
    const { spawn } = await import("node:child_process")
    const child = spawn(cmd, [url], { stdio: "ignore", detached: true })
    child.on("error", () => undefined) // no opener installed: the printed URL is enough
    child.unref()
  } catch {
    /* the printed URL is enough */
  }
}

const ui: Command = async (io: Io, rest, v) => {
  if (rest.length) throw usageError("usage: opencode-alloy ui [--port <n>] [--open]")
  const portText = str(v["port"]) ?? "0"
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw usageError("--port takes a number from 0 to 65535 (0: any free port)")
  // the server and its pages load only when `ui` runs: --help and other commands stay fast
  const [{ AlloyContext }, { startUi }, { bridgeUsage }] = await Promise.all([import("../../service/context.js"), import("../../ui/server.js"), import("../../bridge/usage.js")])
  const ctx = new AlloyContext(io.cwd)
  const token = process.env["ALLOY_UI_TOKEN"]
  const server = await startUi({ root: ctx.root, port: Number(portText), ...(token ? { token } : {}), usage: () => bridgeUsage(ctx.root) })
  if (io.json) io.out(JSON.stringify({ ok: true, url: server.url, port: server.port }))
  else {
    io.out(`Alloy UI: ${server.url}`)
    io.out("Listening on 127.0.0.1 only; the URL carries this launch's secret. Ctrl-C stops it.")
  }
  if (v["open"] === true) await openBrowser(server.url)
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener("SIGINT", stop)
      process.removeListener("SIGTERM", stop)
      void server.close().then(resolve)
    }
    process.once("SIGINT", stop)
    process.once("SIGTERM", stop)
  })
  return EXIT_OK
}

export const uiCommands: Commands = {
  ui: {
    summary: "a local, live web app: intents, briefs and bundles, runs, satisfaction",
    synonyms: ["serve", "server", "app", "web", "dashboard"],
    usage: "ui [--port <n>] [--open]",
    details:
      "Listens on 127.0.0.1 only and prints the URL with this launch's secret; every request needs it (then a cookie).\n" +
      "ALLOY_UI_TOKEN (32-128 URL-safe characters) reuses a secret, so open pages carry on across a restart on the same port.",
    options: {
      port: { type: "string", value: "n", description: "port to listen on (default 0: any free port)" },
      open: { type: "boolean", description: "open the URL in the default browser" },
    },
    examples: ["opencode-alloy ui", "opencode-alloy ui --port 8080 --open"],
    run: ui,
  },
}
