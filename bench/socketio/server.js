// The Socket.IO peer of `kubecast-bench fanout`: one Socket.IO server process, the counterpart of
// one `kubecast-fanout` replica. Events reach it through the Redis streams adapter from
// publisher.js; it pushes every broadcast to its WebSocket clients.
//
//   node server.js --port 8090 --redis-url redis://127.0.0.1:6379 --stream kubecast-bench-1
//   (or PORT, REDIS_URL, SIO_STREAM; --host / HOST defaults to 127.0.0.1)
//
// Prints one JSON line on stdout once it listens ({"ready":true,…}); closes every connection
// and the Redis clients on SIGTERM or SIGINT.
//
// Settings, and why. The aim is what a competent Socket.IO user would deploy for a live
// dashboard: the library's defaults plus what its own guides recommend, no handicap and no trick.
// - transports: ["websocket"]: no HTTP long-polling and no upgrade step (the setting; a
//   dashboard on modern browsers does not need polling). Clients connect straight to
//   /socket.io/?EIO=4&transport=websocket.
// - perMessageDeflate: false and httpCompression: false: no compression, as on Kubecast's side
//   (both are stated explicitly; perMessageDeflate is already off by default).
// - connectionStateRecovery: {} (defaults: 2 minutes, skipMiddlewares): a client that reconnects
//   gets the packets it missed, the counterpart of Kubecast's resume. With it on, every broadcast
//   carries its stream offset as the last argument, and every disconnection stores a session.
// - adapter: @socket.io/redis-streams-adapter on the run's stream (options.js).
// - The first HTTP request of each connection is dropped once the connection exists, as
//   Socket.IO's memory-usage guide suggests: nothing here needs it (no express-session).
// - bufferutil is installed (an optional dependency), as the performance-tuning guide suggests;
//   utf-8-validate is not: ws uses Node's own buffer.isUtf8 on Node >= 18.14.
// - Everything else is the default: pingInterval 25 s, pingTimeout 20 s, maxHttpBufferSize 1 MB,
//   the ws WebSocket engine (the guides' C++ engines, eiows and uWebSockets.js, are not the
//   default and uWebSockets.js is not on npm), one process without the cluster module (one
//   process is one replica, like one kubecast-fanout process).

import { createServer } from "node:http";
import { Server } from "socket.io";
import { options, redisAdapter, report, serverOptions } from "./options.js";

const opts = options({
  host: { env: "HOST", fallback: "127.0.0.1" },
  port: { env: "PORT" },
  "redis-url": { env: "REDIS_URL" },
  stream: { env: "SIO_STREAM" },
});

const { redis, adapter } = await redisAdapter(opts["redis-url"], opts.stream);
const httpServer = createServer();
const io = new Server(httpServer, { ...serverOptions, adapter });

io.engine.on("connection", (rawSocket) => {
  rawSocket.request = null;
});

httpServer.listen(Number(opts.port), opts.host, () => {
  report({ ready: true, port: Number(opts.port), node: process.version });
});

let closing = false;
async function shutdown() {
  if (closing) {
    process.exit(1); // a second signal: do not wait
  }
  closing = true;
  setTimeout(() => process.exit(1), 5000).unref();
  await io.close();
  await redis.quit();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
