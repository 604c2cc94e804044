// Kubecast browser client (DESIGN §5): a dependency-free ES module.
//
// Keeps (epoch, lastSeq) and a map of live objects, applied idempotently (events with
// seq <= lastSeq are dropped). Hybrid transport: a WebSocket for live pushes, plus GET /events
// polling whenever the socket is quiet (every frame pushes the next poll 4 s out) or dead.
// Reconnects with full-jitter exponential backoff, resuming with since+epoch; on `reset` or 410
// it replaces its state from a snapshot.
//
// Authentication (docs/protocol.md, Security): `token` is a JWT or a function returning one
// (sync or async). It goes in the `bearer.<jwt>` subprotocol next to `kubecast.v1` on the
// socket and in `Authorization: Bearer` on polls. A 4401 close (expired or rejected token)
// fetches a fresh token before reconnecting; 4403 (the token does not grant the subscription)
// stops the client and reports it through `onError`. `setToken()` refreshes a live socket.

const QUIET_MS = 4000;
const POLL_MAX_MS = 30000;
const RECONNECT_BASE_MS = 500;
const RECONNECT_MAX_MS = 30000;

export function objectKey(ev) {
  return `${ev.kind}/${ev.ns}/${ev.name}`;
}

export class KubecastClient {
  /**
   * @param {object} opts
   * @param {string} [opts.baseUrl]  http(s) origin of a fanout replica (default: this page's)
   * @param {string[]} [opts.ns]     namespaces to watch (default: all)
   * @param {string[]} [opts.kinds]  kinds to watch (default: all)
   * @param {(client: KubecastClient) => void} [opts.onChange]  state changed
   * @param {(status: 'live'|'polling'|'reconnecting'|'offline') => void} [opts.onStatus]
   * @param {(event: object) => void} [opts.onEvent]  every applied event (churn warnings included)
   * @param {string | (() => string | Promise<string>)} [opts.token]  bearer token (or its source)
   * @param {(error: {code: string, message: string}) => void} [opts.onError]  fatal refusals
   */
  constructor(opts = {}) {
    this.baseUrl = (opts.baseUrl || globalThis.location.origin).replace(/\/$/, '');
    this.ns = opts.ns || [];
    this.kinds = opts.kinds || [];
    this.onChange = opts.onChange || (() => {});
    this.onStatus = opts.onStatus || (() => {});
    this.onEvent = opts.onEvent || (() => {});
    this.onError = opts.onError || (() => {});
    this._tokenSource = opts.token || null;
    this._token = typeof opts.token === 'string' ? opts.token : null;
    this.epoch = null;
    this.lastSeq = null;
    this.objects = new Map();
    this.summaries = new Map();
    this.status = null;
    this.lastUpdate = null;
    this._ws = null;
    this._live = false;
    this._attempt = 0;
    this._pollDelay = QUIET_MS;
    this._pollTimer = null;
    this._reconnectTimer = null;
    this._pending = null;
    this._stopped = true;
  }

  start() {
    this._stopped = false;
    this._connect();
    this._schedulePoll(QUIET_MS);
  }

  stop() {
    this._stopped = true;
    clearTimeout(this._pollTimer);
    clearTimeout(this._reconnectTimer);
    if (this._ws) this._ws.close(1000);
  }

  // --- state ---------------------------------------------------------------------------------

  _filterQuery() {
    const q = new URLSearchParams();
    if (this.ns.length) q.set('ns', this.ns.join(','));
    if (this.kinds.length) q.set('kinds', this.kinds.join(','));
    return q;
  }

  _cursorQuery() {
    const q = this._filterQuery();
    if (this.epoch !== null && this.lastSeq !== null) {
      q.set('since', String(this.lastSeq));
      q.set('epoch', this.epoch);
    }
    return q;
  }

  _applyEvents(epoch, events) {
    if (epoch !== this.epoch) return false;
    let changed = false;
    for (const ev of events) {
      if (this.lastSeq !== null && ev.seq <= this.lastSeq) continue;
      this.lastSeq = ev.seq;
      changed = true;
      const key = objectKey(ev);
      if (ev.op === 'deleted') this.objects.delete(key);
      else if (ev.op === 'summary') this.summaries.set(key, ev);
      else if (ev.op !== 'churn') this.objects.set(key, ev);
      this.onEvent(ev);
    }
    if (changed) this._changed();
    return changed;
  }

  _replace(epoch, seq, objects, summaries) {
    this.epoch = epoch;
    this.lastSeq = seq;
    this.objects = new Map(objects.map((o) => [objectKey(o), o]));
    this.summaries = new Map(summaries.map((o) => [objectKey(o), o]));
    this._changed();
  }

  _advance(epoch, seq) {
    if (epoch === this.epoch && (this.lastSeq === null || seq > this.lastSeq)) this.lastSeq = seq;
  }

  _changed() {
    this.lastUpdate = new Date();
    this.onChange(this);
  }

  _setStatus(status) {
    if (globalThis.navigator && navigator.onLine === false) status = 'offline';
    if (status !== this.status) {
      this.status = status;
      this.onStatus(status);
    }
  }

  // --- WebSocket -----------------------------------------------------------------------------

  /** Replaces the token; a live socket switches to it at once (before the old one expires). */
  setToken(token) {
    this._token = token;
    if (this._ws && this._ws.readyState === 1) {
      this._ws.send(JSON.stringify({ type: 'auth', token }));
    }
  }

  async _currentToken() {
    if (this._token === null && typeof this._tokenSource === 'function') {
      this._token = await this._tokenSource();
    }
    return this._token;
  }

  async _connect() {
    if (this._stopped) return;
    const url = `${this.baseUrl.replace(/^http/, 'ws')}/ws?${this._cursorQuery()}`;
    let ws;
    try {
      const token = await this._currentToken();
      ws = token ? new WebSocket(url, ['kubecast.v1', `bearer.${token}`]) : new WebSocket(url);
    } catch (e) {
      this._reconnectLater();
      return;
    }
    this._ws = ws;
    ws.onmessage = (msg) => this._onFrame(msg.data);
    ws.onclose = (ev) => {
      if (this._ws !== ws) return;
      this._ws = null;
      this._live = false;
      this._pending = null;
      if (ev.code === 4401 && typeof this._tokenSource === 'function') this._token = null;
      if (ev.code === 4403) {
        this.onError({ code: 'forbidden', message: ev.reason || 'forbidden' });
        this.stop();
        this._setStatus('offline');
        return;
      }
      this._reconnectLater();
      this._schedulePoll(0);
    };
  }

  async _fetch(path) {
    const token = await this._currentToken();
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const res = await fetch(`${this.baseUrl}${path}`, { headers });
    if (res.status === 401 && typeof this._tokenSource === 'function') this._token = null;
    return res;
  }

  _reconnectLater() {
    if (this._stopped) return;
    this._setStatus(this._polledOk ? 'polling' : 'reconnecting');
    const cap = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this._attempt);
    this._attempt += 1;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => this._connect(), Math.random() * cap);
  }

  _onFrame(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch (e) {
      return;
    }
    // Every frame proves the socket is alive: push the next poll out.
    this._schedulePoll(QUIET_MS);
    switch (f.type) {
      case 'hello':
        this._attempt = 0;
        this._live = true;
        this._setStatus('live');
        break;
      case 'snapshot':
        if (f.part === 0 || !this._pending) this._pending = { objects: [], summaries: [] };
        this._pending.objects.push(...f.objects);
        this._pending.summaries.push(...(f.summaries || []));
        if (f.last !== false) {
          this._replace(f.epoch, f.seq, this._pending.objects, this._pending.summaries);
          this._pending = null;
        }
        break;
      case 'events':
        this._applyEvents(f.epoch, f.events);
        break;
      case 'position':
        this._advance(f.epoch, f.seq);
        break;
      case 'reset':
        // A snapshot follows on the socket.
        this.epoch = f.epoch;
        this.lastSeq = null;
        break;
      default:
        break;
    }
  }

  // --- polling -------------------------------------------------------------------------------

  _schedulePoll(ms) {
    if (this._stopped) return;
    clearTimeout(this._pollTimer);
    this._pollTimer = setTimeout(() => this._poll(), ms);
  }

  async _poll() {
    if (this._stopped) return;
    let got = false;
    try {
      if (this.epoch === null || this.lastSeq === null) {
        await this._fetchSnapshot();
        got = true;
      } else {
        const res = await this._fetch(`/events?${this._cursorQuery()}`);
        if (res.status === 410) {
          await this._fetchSnapshot();
          got = true;
        } else if (res.ok) {
          const page = await res.json();
          got = this._applyEvents(page.epoch, page.events);
          this._advance(page.epoch, page.next);
        } else {
          throw new Error(`HTTP ${res.status}`);
        }
      }
      this._polledOk = true;
      if (!this._live) this._setStatus('polling');
    } catch (e) {
      this._polledOk = false;
      if (!this._live) this._setStatus('reconnecting');
    }
    this._pollDelay = got ? QUIET_MS / 4 : Math.min(POLL_MAX_MS, this._pollDelay * 2);
    this._schedulePoll(this._live ? QUIET_MS : this._pollDelay);
  }

  async _fetchSnapshot() {
    const res = await this._fetch(`/snapshot?${this._filterQuery()}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const snap = await res.json();
    this._replace(snap.epoch, snap.seq, snap.objects, snap.summaries || []);
  }
}
