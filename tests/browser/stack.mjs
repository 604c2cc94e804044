// The production topology for browser tests: `deploy/local/run.sh` (a private redis-server, the
// simulated cluster, one producer, N fanout replicas and nginx as the load balancer) on free
// loopback ports, driven through the stack.env it writes. The script is stopped when the test
// process exits, so a failing test leaves nothing behind.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually, repo, snapshot } from './support.mjs';

const binDir = process.env.KUBECAST_BIN_DIR || path.join(repo, 'target', 'debug');
const runScript = path.join(repo, 'deploy', 'local', 'run.sh');
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM'); // run.sh's trap stops its processes
});

/**
 * The environment for the script: ours without `REDIS_URL` and `KUBECAST_*`, which the binaries
 * read as defaults (a developer's JWT secret or cluster name must not change the test).
 */
function childEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'REDIS_URL' && !k.startsWith('KUBECAST_')),
  );
}

/** Whether nothing listens on 127.0.0.1:`port`. */
function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with `count` free consecutive ports (run.sh numbers its processes from it). */
async function freePortRange(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** stack.env (KEY=value lines) as an object. */
function readEnv(file) {
  return Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter(Boolean)
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** A process of the stack by pid: is it alive, send it a signal. */
function processHandle(pid) {
  return {
    pid,
    get alive() {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    },
    signal(sig) {
      process.kill(pid, sig);
    },
  };
}

/** Open WebSocket sessions of a replica, from its /metrics (null when it does not answer). */
async function openSessions(url) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('kubecast_fanout_connections '));
    return line ? Number(line.split(' ')[1]) : 0;
  } catch {
    return null;
  }
}

/**
 * Starts `deploy/local/run.sh` with `replicas` fanout replicas; returns once it is ready and the
 * log holds the cluster's objects. `url` is nginx's; `fanouts[i]` has `url`, `pid`, `alive`,
 * `signal()`; `sim` can be paused (SIGSTOP) to freeze the cluster; `stop()` ends everything.
 */
export async function startLocalStack({ replicas = 3, seed = 1, churn = '200ms', drain = '500ms' } = {}) {
  const port = await freePortRange(replicas + 3);
  const state = mkdtempSync(path.join(os.tmpdir(), 'kubecast-browser-'));
  const child = spawn('bash', [runScript, '--bin', binDir, '--port', String(port),
    '--replicas', String(replicas), '--seed', String(seed), '--churn', churn, '--drain', drain,
    '--state', state], { stdio: ['ignore', 'ignore', 'inherit'], env: childEnv() });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  exited.then(() => running.delete(child));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const envFile = path.join(state, 'stack.env');
    await eventually('deploy/local/run.sh to be ready', () => {
      if (child.exitCode !== null) throw new Error(`run.sh exited with ${child.exitCode} (logs in ${state})`);
      return existsSync(envFile);
    }, 120000);
    const env = readEnv(envFile);
    const fanouts = Array.from({ length: Number(env.REPLICAS) }, (_, i) => ({
      url: env[`FANOUT_${i + 1}_URL`],
      ...processHandle(Number(env[`FANOUT_${i + 1}_PID`])),
    }));
    await eventually('the producer to publish the cluster', async () => (await snapshot(env.KUBECAST_URL)).objects.length > 0, 60000);
    return {
      url: env.KUBECAST_URL,
      state,
      fanouts,
      sim: processHandle(Number(env.SIM_PID)),
      /** Indices of the replicas holding at least one open WebSocket session. */
      async replicasWithSessions() {
        const counts = await Promise.all(fanouts.map((f) => (f.alive ? openSessions(f.url) : null)));
        return counts.flatMap((n, i) => (n ? [i] : []));
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
