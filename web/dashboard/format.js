// Text and state of the things the dashboard draws, from the compact projections (DESIGN §2).

/**
 * One word for a pod's state, used as its CSS class: ready, starting (running, not ready),
 * pending, crashing, failed, succeeded or terminating.
 * @param {{ obj?: any }} pod
 */
export function podState(pod) {
  const o = pod.obj || {};
  if (o.deleting) return 'terminating';
  if (o.phase === 'Succeeded') return 'succeeded';
  if (o.phase === 'Failed') return 'failed';
  const waiting = (o.containers || []).find((c) => c.state === 'waiting' && c.reason && c.reason !== 'ContainerCreating');
  if (waiting) return 'crashing';
  if (o.phase === 'Pending') return 'pending';
  return o.ready ? 'ready' : 'starting';
}

/** A pod's tooltip: name, state, node, restarts and a waiting/terminated reason. */
export function podTitle(pod) {
  const o = pod.obj || {};
  const reason = (o.containers || []).map((c) => c.reason).find(Boolean);
  const parts = [pod.name, o.phase || 'Unknown'];
  if (o.deleting) parts.push('terminating');
  else if (o.phase === 'Running' && !o.ready) parts.push('not ready');
  if (reason) parts.push(reason);
  if (o.node) parts.push(`on ${o.node}`);
  if (o.restarts) parts.push(`${o.restarts} restart${o.restarts === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/** "3/5 ready" style status of a Deployment, StatefulSet, DaemonSet or ReplicaSet. */
export function rolloutText(o) {
  if (!o || o.desired === undefined) return '';
  const parts = [`${o.ready ?? 0}/${o.desired} ready`];
  if (o.updated !== undefined && o.updated !== o.desired) parts.push(`${o.updated} updated`);
  if (o.available !== undefined && o.available !== o.ready) parts.push(`${o.available} available`);
  return parts.join(' · ');
}

/** Progress of a Job: the fraction done (0..1) and a line of text. */
export function jobProgress(o) {
  const succeeded = o.succeeded || 0;
  const total = o.completions || succeeded + (o.active || 0) + (o.failed || 0) || 1;
  const parts = [`${succeeded}/${o.completions ?? '?'} done`];
  if (o.active) parts.push(`${o.active} active`);
  if (o.failed) parts.push(`${o.failed} failed`);
  if (o.state) parts.push(o.state);
  return { fraction: Math.min(1, succeeded / total), text: parts.join(' · '), failed: o.state === 'Failed' };
}

/** A CronJob's line: schedule, suspension and active jobs. */
export function cronText(o) {
  const parts = [o.schedule || ''];
  if (o.suspend) parts.push('suspended');
  if (o.active) parts.push(`${o.active} active`);
  if (o.lastSchedule) parts.push(`last ${o.lastSchedule}`);
  return parts.filter(Boolean).join(' · ');
}

/** Pod counts of a summary (`total, ready, pending, terminating, failed, churn_per_min`). */
export function summaryText(s) {
  const parts = [`${s.total ?? 0} pods`, `${s.ready ?? 0} ready`];
  for (const k of ['pending', 'terminating', 'failed']) if (s[k]) parts.push(`${s[k]} ${k}`);
  return parts.join(' · ');
}

/** A service's line: type, cluster IP and ports. */
export function serviceText(o) {
  const ports = (o.ports || []).map((p) => (p.targetPort !== undefined && p.targetPort !== p.port ? `${p.port}→${p.targetPort}` : `${p.port}`));
  return [o.type, o.clusterIP, ports.length ? `:${ports.join(',')}` : ''].filter(Boolean).join(' ');
}

/** "just now", "12 s ago", "3 min ago", "2 h ago". */
export function ago(ms) {
  if (ms < 1500) return 'just now';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  return `${Math.floor(ms / 3_600_000)} h ago`;
}
