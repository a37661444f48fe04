/**
 * A WebSocket-to-TCP proxy, the piece Neon runs in front of Postgres: each WebSocket connection
 * at `ws://127.0.0.1:PORT/v1?address=HOST:PORT` becomes one TCP connection to that Postgres, and
 * bytes flow both ways unchanged. With it, `@neondatabase/serverless` runs against the local
 * Postgres exactly as it does against Neon (see core/db/neon.ts, `LAMIN_NEON_WS_PROXY`).
 */
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { WebSocketServer } from "ws";

export interface WsProxy {
  /** For `LAMIN_NEON_WS_PROXY`: `127.0.0.1:PORT/v1`. */
  address: string;
  /** WebSocket connections opened so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startWsProxy(): Promise<WsProxy> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  let opened = 0;
  server.on("connection", (socket, request) => {
    opened++;
    const target = new URL(request.url ?? "/", "http://proxy").searchParams.get("address") ?? "";
    const [host = "", port = ""] = target.split(":");
    if (!host || !port) {
      socket.close(1008, "address=HOST:PORT is required");
      return;
    }
    const tcp = connect(Number(port), host);
    const pending: Buffer[] = [];
    tcp.on("connect", () => {
      for (const chunk of pending.splice(0)) tcp.write(chunk);
    });
    socket.on("message", (data: Buffer) => {
      if (tcp.connecting) pending.push(data);
      else tcp.write(data);
    });
    tcp.on("data", (data) => socket.send(data));
    socket.on("close", () => tcp.end());
    socket.on("error", () => tcp.destroy());
    tcp.on("close", () => socket.close());
    tcp.on("error", () => socket.terminate());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}/v1`,
    connections: () => opened,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
