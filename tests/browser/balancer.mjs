// A layer-4 (TCP) load balancer for the browser tests, like a cloud LB in front of fanout
// replicas: each accepted connection goes to the next backend in round-robin order, skipping
// backends that refuse the connection (so a killed replica is routed around). Bytes are piped
// both ways; when the backend side closes or fails, the client side is closed too, so a page
// sees its replica die. Only `node:net`.
//
// For the tests it keeps a book of open connections: the backend each one is routed to and the
// first line the client sent (`GET /ws?… HTTP/1.1` for a WebSocket), so a test can find the
// replica a page's socket is on. The line is only read for the book, never for routing.

import net from 'node:net';

/**
 * Starts a balancer on 127.0.0.1 (on a free port) over `backends` (`[{ port, host? }]`);
 * resolves once it listens.
 */
export async function startBalancer(backends) {
  let next = 0;
  /** Open client connections: `{ backend, firstLine, client }`. */
  const open = new Set();

  const server = net.createServer(async (client) => {
    client.pause(); // hold what the client sends until a backend is connected
    client.on('error', () => {}); // 'close' follows
    const start = next;
    next = (next + 1) % backends.length;
    const routed = await connectFrom(backends, start);
    if (!routed || client.destroyed) {
      routed?.upstream.destroy();
      client.destroy();
      return;
    }
    const { backend, upstream } = routed;
    const entry = { backend, firstLine: null, client };
    open.add(entry);
    client.once('data', (chunk) => {
      entry.firstLine = chunk.toString('latin1').split('\r\n', 1)[0];
    });
    upstream.on('error', () => client.destroy()); // a reset: cut the client off the same way
    upstream.on('close', () => client.end()); // a clean close: flush what was piped, then FIN
    client.on('close', () => {
      open.delete(entry);
      upstream.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const book = () => [...open].map(({ backend, firstLine }) => ({ backend, firstLine }));

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    /** The open client connections: `[{ backend, firstLine }]`. */
    connections: book,
    /** How many open client connections are routed to backend `index`. */
    connectionsTo: (index) => book().filter((c) => c.backend === index).length,
    /** The backend index of each open WebSocket connection (first line `GET /ws…`). */
    webSocketBackends: () => book().filter((c) => c.firstLine?.startsWith('GET /ws')).map((c) => c.backend),
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const { client } of open) client.destroy();
      await closed;
    },
  };
}

/** Connects to backend `start`, else to the following ones in turn; null when none answers. */
async function connectFrom(backends, start) {
  for (let i = 0; i < backends.length; i++) {
    const backend = (start + i) % backends.length;
    const upstream = await connectOrNull(backends[backend]);
    if (upstream) return { backend, upstream };
  }
  return null;
}

/** A socket connected to `{ host, port }`, or null when the connection fails. */
function connectOrNull({ host = '127.0.0.1', port }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(null));
  });
}
