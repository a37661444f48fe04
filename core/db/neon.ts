/**
 * Neon's serverless driver (Postgres over a WebSocket), configured once per process.
 *
 * In AWS Lambda it reaches Neon's WebSocket endpoint directly. Elsewhere (tests, benchmarks,
 * a laptop), `LAMIN_NEON_WS_PROXY=host:port/path` sends it through a WebSocket-to-TCP proxy to
 * any Postgres, the way Neon's own docs run it locally; the proxy speaks plain `ws://` and
 * Postgres does its own (SCRAM) authentication, so the driver must not pipeline the startup.
 */
let configured: Promise<typeof import("@neondatabase/serverless")> | undefined;

export function configureNeon(
  env = process.env,
): Promise<typeof import("@neondatabase/serverless")> {
  configured ??= (async () => {
    const [neon, { default: WebSocket }] = await Promise.all([
      import("@neondatabase/serverless"),
      import("ws"),
    ]);
    // Node 20 has no global WebSocket; Lambda's Node 22 has one, but `ws` is the tested path.
    neon.neonConfig.webSocketConstructor = WebSocket;
    const proxy = env.LAMIN_NEON_WS_PROXY;
    if (proxy) {
      neon.neonConfig.wsProxy = (host, port) =>
        `${proxy}${proxy.includes("?") ? "&" : "?"}address=${host}:${port}`;
      neon.neonConfig.useSecureWebSocket = false;
      neon.neonConfig.pipelineTLS = false;
      neon.neonConfig.pipelineConnect = false;
    }
    return neon;
  })();
  return configured;
}
