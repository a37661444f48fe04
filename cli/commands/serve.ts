/**
 * `lamin serve`: the current instance's HTTP API on this machine. While it runs, other `lamin`
 * commands for the instance go through it (it holds the embedded database).
 */
import { serve as listen } from "@hono/node-server";
import { generateToken, hashToken, tokenMatches } from "../../core/auth.js";
import { ValidationError } from "../../core/errors.js";
import { registerServer, resolveInstanceSettings, unregisterServer } from "../../core/settings.js";
import { openInstance } from "../../core/setup.js";
import { createApp } from "../../functions/api/app.js";
import { note, say } from "../output.js";

declare const __VERSION__: string;

export async function serve(opts: { json?: boolean; port: string; host: string; token?: string }) {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ValidationError(
      `invalid port '${opts.port}'`,
      "pass --port 8787 (0 picks a free one)",
    );
  }
  const settings = resolveInstanceSettings();
  const instance = await openInstance(settings.name, {
    purpose: "lamin serve",
    onWait: (holder) =>
      note(`waiting for process ${holder.pid}, which has the instance database open ...`),
  });
  const token = opts.token ?? process.env.LAMIN_SERVE_TOKEN ?? generateToken();
  const digest = hashToken(token);
  const app = createApp({
    instance: () => instance,
    authorize: (given) => given !== undefined && tokenMatches(given, digest),
    version: typeof __VERSION__ === "string" ? __VERSION__ : undefined,
  });
  const server = listen({ fetch: app.fetch, port, hostname: opts.host });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new ValidationError(
              `port ${port} is in use`,
              "pass another --port (0 picks a free one)",
            )
          : error,
      ),
    );
  }).catch(async (error) => {
    await instance.close();
    throw error;
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  const url = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${boundPort}`;
  registerServer(settings.name, { url, token, pid: process.pid });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    unregisterServer(settings.name);
    server.close();
    await instance.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  process.once("exit", () => unregisterServer(settings.name));

  if (opts.json) process.stdout.write(`${JSON.stringify({ url, token })}\n`);
  else {
    say(`serving ${instance.slug} at ${url}`);
    say(`token:   ${token}`);
    say(`docs:    ${url}/docs`);
    say("other lamin commands for this instance now go through this server; Ctrl-C stops it");
  }
}
