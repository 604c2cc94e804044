// Command-line options and the Socket.IO settings shared by the peer's server and publisher, so
// both processes run the same adapter with the same options.

import { parseArgs } from "node:util";
import { createClient } from "redis";
import { createAdapter } from "@socket.io/redis-streams-adapter";

/** Parses `--name value` options; each falls back to an environment variable, then a default. */
export function options(spec) {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(spec).map((name) => [name, { type: "string" }])),
  });
  const out = {};
  for (const [name, { env, fallback }] of Object.entries(spec)) {
    const value = values[name] ?? process.env[env] ?? fallback;
    if (value === undefined) {
      throw new Error(`--${name} (or ${env}) is required`);
    }
    out[name] = value;
  }
  return out;
}

/**
 * The Socket.IO server options of the peer (see the header of server.js for why each is set).
 * The publisher uses the same ones, so the adapter behaves the same on both sides.
 */
export const serverOptions = {
  transports: ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
  // The defaults: missed packets are kept 2 minutes; a recovered client skips the middlewares.
  connectionStateRecovery: {},
};

/**
 * Connects the Redis client the adapter publishes with, and returns it with the adapter. One
 * stream (and Pub/Sub channel prefix) per benchmark run keeps runs apart on a shared Redis; every
 * other adapter option is its default (maxLen 10,000, readCount 100, blockTimeInMs 5,000).
 */
export async function redisAdapter(url, stream) {
  const redis = createClient({ url });
  redis.on("error", (err) => console.error(`redis: ${err.message}`));
  await redis.connect();
  const adapter = createAdapter(redis, { streamName: stream, channelPrefix: stream });
  return { redis, adapter };
}

/** Prints one JSON line on stdout: what the benchmark runner reads. */
export function report(fields) {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}
