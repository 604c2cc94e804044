// The production topology for browser tests, as real processes on free loopback ports: a private
// redis-server, the simulated cluster (kubecast-sim), one kubecast-producer and N kubecast-fanout
// replicas sharing one Redis log. Every process started here is also killed when the test
// process exits, so a failing test leaves nothing behind.

import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { eventually, freePort, repo, snapshot } from './support.mjs';

const binDir = process.env.KUBECAST_BIN_DIR || path.join(repo, 'target', 'debug');
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * The environment for a child: ours without `REDIS_URL` and `KUBECAST_*`, which the binaries
 * read as defaults (a developer's JWT secret or cluster name must not change the test).
 */
function childEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'REDIS_URL' && !k.startsWith('KUBECAST_')),
  );
}

/** Spawns `command`; its stderr goes to ours. Returns a handle that can kill it. */
function startProcess(name, command, args, { stdout = 'ignore' } = {}) {
  const child = spawn(command, args, { stdio: ['ignore', stdout, 'inherit'], env: childEnv() });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  exited.then(() => running.delete(child));
  let spawnError = null;
  child.once('error', (e) => { // e.g. the binary is missing: no 'exit' comes
    spawnError = e;
    running.delete(child);
  });
  return {
    name,
    child,
    get alive() {
      return !spawnError && child.exitCode === null && child.signalCode === null;
    },
    /** Why the process is gone (or null while it runs). */
    get end() {
      if (spawnError) return spawnError.message;
      return this.alive ? null : `exit ${child.exitCode ?? child.signalCode}`;
    },
    /** Sends `signal` and waits until the process is gone (SIGKILL after 5 s). */
    async kill(signal = 'SIGTERM') {
      if (!this.alive) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `check` until it holds, failing early if `proc` exits; `proc` is killed when it never
 * gets ready.
 */
async function readyWhen(proc, what, check, ms = 30000) {
  try {
    return await eventually(what, async () => {
      if (!proc.alive) throw new Error(`${proc.name} is gone (${proc.end}) while waiting for ${what}`);
      return check();
    }, ms);
  } catch (e) {
    await proc.kill('SIGKILL');
    throw e;
  }
}

/** True when a Redis server on `port` answers PING. */
function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.on('error', () => {}); // not listening yet: 'close' follows
    socket.once('close', () => resolve(false));
  });
}

/** A private, non-persistent redis-server on a free port, once it answers PING. */
export async function startRedis() {
  const port = await freePort();
  const proc = startProcess('redis-server', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--maxmemory-policy', 'noeviction',
  ]);
  await readyWhen(proc, 'redis-server to answer PING', () => redisAnswers(port));
  return Object.assign(proc, { port, url: `redis://127.0.0.1:${port}/` });
}

/** The simulated Kubernetes API server with churn every `churn`, once it prints its URL. */
export async function startSim({ seed = 1, churn = '200ms' } = {}) {
  const port = await freePort();
  const proc = startProcess('kubecast-sim', path.join(binDir, 'kubecast-sim'), [
    '--listen', `127.0.0.1:${port}`, '--seed', String(seed), '--churn-interval', churn, '--log', 'warn',
  ], { stdout: 'pipe' });
  let printed = '';
  proc.child.stdout.on('data', (chunk) => { printed += chunk; });
  const firstLine = () => printed.includes('\n') && printed.split('\n')[0].trim();
  const url = await readyWhen(proc, 'kubecast-sim to print its URL', firstLine);
  return Object.assign(proc, { url });
}

/** A producer watching `kubeUrl` and appending to `cluster`'s log in `redisUrl` (no readiness check). */
export function startProducer({ kubeUrl, redisUrl, cluster }) {
  return startProcess('kubecast-producer', path.join(binDir, 'kubecast-producer'), [
    '--kube-url', kubeUrl, '--redis-url', redisUrl, '--cluster', cluster,
    '--metrics-listen', '', '--log', 'warn',
  ]);
}

/** A fanout replica on a free port, once it answers /readyz. */
export async function startFanout({ redisUrl, cluster, name }) {
  const port = await freePort();
  const proc = startProcess(name, path.join(binDir, 'kubecast-fanout'), [
    '--listen', `127.0.0.1:${port}`, '--redis-url', redisUrl, '--cluster', cluster,
    '--server-name', name, '--drain-window', '500ms', '--log', 'warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await readyWhen(proc, `${name} to be ready`, async () => {
    try {
      return (await fetch(`${url}/readyz`)).ok;
    } catch {
      return false; // not listening yet
    }
  });
  return Object.assign(proc, { port, url });
}

/**
 * Redis, the simulated cluster, a producer and `replicas` fanout replicas on one log; returns
 * once every replica is ready and the log holds the cluster's objects. `stop()` ends them all.
 */
export async function startStack({ replicas = 3, seed = 1, churn = '200ms', cluster = 'browser' } = {}) {
  const started = [];
  const keep = (proc) => {
    started.push(proc);
    return proc;
  };
  const stop = async () => {
    for (const proc of [...started].reverse()) await proc.kill();
  };
  try {
    const redis = keep(await startRedis());
    const sim = keep(await startSim({ seed, churn }));
    const producer = keep(startProducer({ kubeUrl: sim.url, redisUrl: redis.url, cluster }));
    const fanouts = [];
    for (let i = 0; i < replicas; i++) {
      fanouts.push(keep(await startFanout({ redisUrl: redis.url, cluster, name: `replica-${i}` })));
    }
    await readyWhen(producer, 'the producer to publish the cluster',
      async () => (await snapshot(fanouts[0].url)).objects.length > 0);
    return { redis, sim, producer, fanouts, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
