// The fixed-rate publisher of the Socket.IO peer, the counterpart of bench/src/publisher.rs: a
// Socket.IO server instance that listens to nobody, on the same adapter and stream as server.js,
// broadcasting `io.emit("event", event)` at a fixed rate for a duration.
//
//   node publisher.js --redis-url redis://127.0.0.1:6379 --stream kubecast-bench-1 \
//       --epoch 1a2b3c4d5e6f --rate 100 --duration 20 [--batch 100] [--pad 200]
//
// 1. Connects, prints {"ready":true} on stdout and waits for the line `go` on stdin, so the
//    runner starts its measuring window when publishing starts, not when Node starts.
// 2. Publishes event k at k/rate seconds after `go` by the wall clock, whatever the servers do:
//    when it is late it catches up in batches of at most --batch events, like publisher.rs.
// 3. Waits until Redis has every event, prints {"published":N,"last_seq":N,"elapsed_s":…} and
//    exits.
//
// An event is the JSON of one of Kubecast's synthetic events (publisher.rs): a Pod update with
// `seq`, `epoch`, `ts` (ms), and `obj.sent_us` (µs, taken just before the emit) next to --pad
// bytes of padding, with the keys in the same order, so both systems carry the same bytes.

import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { Server } from "socket.io";
import { options, redisAdapter, report, serverOptions } from "./options.js";

const opts = options({
  "redis-url": { env: "REDIS_URL" },
  stream: { env: "SIO_STREAM" },
  epoch: { env: "EPOCH" },
  rate: { env: "RATE" },
  duration: { env: "DURATION_S" },
  batch: { env: "BATCH", fallback: "100" },
  pad: { env: "PAD", fallback: "200" },
});
const rate = Number(opts.rate);
const durationMs = Number(opts.duration) * 1000;
const batch = Math.max(1, Number(opts.batch));
const pad = "x".repeat(Number(opts.pad));

/** Microseconds since the Unix epoch, finer than Date.now(). */
function nowUs() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** The synthetic event `seq`, byte for byte the shape publisher.rs appends. */
function event(seq) {
  const sentUs = nowUs();
  return {
    seq,
    epoch: opts.epoch,
    ts: Math.floor(sentUs / 1000),
    op: "updated",
    kind: "Pod",
    ns: "bench",
    name: `pod-${seq % 1000}`,
    uid: "",
    obj: { pad, phase: "Running", sent_us: sentUs },
  };
}

/** Emits events at `rate` per second for the duration; returns how many. */
async function publish(io) {
  const start = performance.now();
  let head = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) {
      return head;
    }
    const due = Math.floor((elapsed / 1000) * rate);
    if (due <= head) {
      await sleep(1);
      continue;
    }
    const n = Math.min(due - head, batch);
    for (let seq = head + 1; seq <= head + n; seq++) {
      io.emit("event", event(seq));
    }
    head += n;
    // Lets the Redis client write the batch before the next one.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function waitForGo() {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === "go") {
      return;
    }
  }
  throw new Error("stdin closed before `go`");
}

const { redis, adapter } = await redisAdapter(opts["redis-url"], opts.stream);
const io = new Server({ ...serverOptions, adapter });
report({ ready: true });
await waitForGo();
const started = performance.now();
const published = await publish(io);
// Commands run in order on one connection: once PING answers, every XADD before it is stored.
await redis.ping();
report({ published, last_seq: published, elapsed_s: (performance.now() - started) / 1000 });
// An instance that never listened has no engine to close (io.close() would throw): exiting ends
// the adapter's own Redis clients too.
await redis.quit();
process.exit(0);
