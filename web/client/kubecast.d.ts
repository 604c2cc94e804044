// Types for kubecast.js, the Kubecast browser client (docs/protocol.md, web/client/README.md).

/** What the client reports through `onStatus` / `on('status')`. */
export type KubecastStatus = 'live' | 'polling' | 'reconnecting' | 'offline';

/** `op` of a log event (DESIGN §2). */
export type EventOp = 'added' | 'updated' | 'deleted' | 'summary' | 'churn';

/** One log event, exactly as the server sends it; the store keeps the last event per object. */
export interface KubecastEvent {
  seq: number;
  epoch: string;
  ts?: number;
  op: EventOp;
  kind: string;
  ns: string;
  name: string;
  uid?: string;
  /** The kind-specific compact projection (docs/producer.md). */
  obj?: Record<string, unknown>;
}

/** One object's change in the store. For `deleted`, `object` is the deleting event (or the last known state). */
export interface ObjectChange {
  type: 'added' | 'modified' | 'deleted';
  /** `Kind/ns/name` */
  key: string;
  object: KubecastEvent;
  previous?: KubecastEvent;
}

/**
 * `forbidden`: the server refused the token for this subscription (4403; the client stopped).
 * `unauthenticated`: a fixed token was refused (4401, or 401 on a poll); reported once per token: call `setToken()`.
 * `no_progress`: an /events page did not advance the cursor while the head was ahead (the poll
 * failed and is retried with backoff); reported once until pages advance again.
 */
export interface KubecastError {
  code: 'forbidden' | 'unauthenticated' | 'no_progress';
  message: string;
}

/** A token, or where to get one (called again after a 4401 close or a 401 poll). */
export type TokenSource = string | (() => string | null | Promise<string | null>);

/** The parts of `WebSocket` the client uses (the browser's WebSocket fits). */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Set by the client; called with a MessageEvent-like `{ data }`. */
  onmessage: ((event: any) => void) | null;
  /** Set by the client; called with a CloseEvent-like `{ code, reason }`. */
  onclose: ((event: any) => void) | null;
}

export interface WebSocketConstructorLike {
  new (url: string, protocols?: string | string[]): WebSocketLike;
}

/** The parts of a `fetch` response the client uses. */
export interface ResponseLike {
  status: number;
  ok: boolean;
  json(): Promise<any>;
}

/** `signal` is set where the host has an AbortController (it aborts a request past `requestTimeoutMs`). */
export type FetchLike = (url: string, init: { headers: Record<string, string>; signal?: AbortSignal }) => Promise<ResponseLike>;

/** localStorage-like storage for the live-updates switch. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export type EnvironmentChange = 'online' | 'offline' | 'visible' | 'hidden';

/** Online/offline and page visibility (default: `window` and `document`). */
export interface KubecastEnvironment {
  isOnline(): boolean;
  isHidden(): boolean;
  /** Calls `listener` on every change; returns a function that unsubscribes. */
  subscribe(listener: (change: EnvironmentChange) => void): () => void;
}

export interface KubecastTiming {
  /** Every WS frame pushes the next poll this far out (4000). */
  quietMs: number;
  /** Idle polling doubles up to this (30000). */
  pollMaxMs: number;
  /** Full-jitter backoff base (500): delay = random() * min(reconnectMaxMs, reconnectBaseMs * 2^attempt). */
  reconnectBaseMs: number;
  /** Backoff cap (30000). */
  reconnectMaxMs: number;
  /** A socket live this long resets the backoff (10000). */
  stableMs: number;
  /** A socket without `hello` by then is closed (4001) and retried with backoff (10000). */
  connectTimeoutMs: number;
  /** A live socket that brought no frame this long (the server's heartbeat is 2 s) is half-open: closed (4002) and replaced with backoff (30000). */
  silenceMs: number;
  /** Bound on /events pages fetched by one catch-up (100). */
  maxPagesPerPoll: number;
  /** An HTTP request (poll, gap fill, snapshot) without a whole answer by then is aborted and counts as failed (10000). */
  requestTimeoutMs: number;
  /** Socket events held while a gap is filled over HTTP; past this they are dropped and the socket resumes from `lastSeq` (10000). */
  maxHeldEvents: number;
}

export interface KubecastOptions {
  /** http(s) origin of a fanout replica; default: the page's origin. */
  baseUrl?: string;
  /** Namespaces to watch (default: all granted). */
  ns?: string[];
  /** Kinds to watch (default: all). */
  kinds?: string[];
  token?: TokenSource;

  /** The store changed (a batch: one events frame, poll page or snapshot). `changes` lists object changes (empty when only summaries changed). */
  onChange?: (client: KubecastClient, changes: ObjectChange[]) => void;
  /** One object was added, modified or deleted. */
  onObject?: (change: ObjectChange) => void;
  /** Every applied event, summaries and churn warnings included. */
  onEvent?: (event: KubecastEvent) => void;
  onStatus?: (status: KubecastStatus) => void;
  /** `forbidden` (4403, the client stopped), `unauthenticated` (a fixed token refused) or `no_progress` (see KubecastError). */
  onError?: (error: KubecastError) => void;

  // Injected environment (browser defaults), mainly for tests and non-browser hosts.
  WebSocket?: WebSocketConstructorLike;
  fetch?: FetchLike;
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (id: any) => void;
  /** A random number in [0, 1) (default Math.random), for the backoff jitter. */
  random?: () => number;
  /** Milliseconds since the Unix epoch (default Date.now). */
  now?: () => number;
  /** Where the live-updates switch is kept (default localStorage; null: not persisted). */
  storage?: StorageLike | null;
  /** Storage key of the switch (default `kubecast.live`). */
  storageKey?: string;
  environment?: KubecastEnvironment;
  timing?: Partial<KubecastTiming>;
}

export interface KubecastListeners {
  change: (client: KubecastClient, changes: ObjectChange[]) => void;
  object: (change: ObjectChange) => void;
  event: (event: KubecastEvent) => void;
  status: (status: KubecastStatus) => void;
  error: (error: KubecastError) => void;
}

export class KubecastClient {
  constructor(options?: KubecastOptions);

  readonly baseUrl: string;
  readonly ns: string[];
  readonly kinds: string[];
  readonly timing: KubecastTiming;

  /** Epoch of the state held, or null before the first snapshot. */
  readonly epoch: string | null;
  /** Every event up to this seq (matching the subscription) has been applied. */
  readonly lastSeq: number | null;
  /** Live objects by `Kind/ns/name` (a new Map after each snapshot). */
  readonly objects: Map<string, KubecastEvent>;
  /** Per-namespace / per-workload summaries by `Summary/ns/name`. */
  readonly summaries: Map<string, KubecastEvent>;
  /** null until start(). */
  readonly status: KubecastStatus | null;
  /** When the store last changed. */
  readonly lastUpdate: Date | null;
  /** The user's live-updates switch (persisted). */
  readonly live: boolean;

  start(): void;
  stop(): void;
  /** Turns live updates off (no socket, no polling, status `offline`) or back on; persisted. */
  setLive(on: boolean): void;
  /** Replaces the token; a live socket is re-authenticated at once with a new JWT, and without one the client reconnects at once. */
  setToken(token: TokenSource): void;
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof KubecastListeners>(type: K, listener: KubecastListeners[K]): () => void;
}

/** `Kind/ns/name` */
export function objectKey(event: Pick<KubecastEvent, 'kind' | 'ns' | 'name'>): string;

/** Full-jitter exponential backoff: a delay in [0, min(capMs, baseMs * 2^attempt)). */
export function backoffDelay(attempt: number, random?: () => number, baseMs?: number, capMs?: number): number;

/** The browser's online/offline and visibility signals (inert without window/document). */
export function browserEnvironment(globals?: typeof globalThis): KubecastEnvironment;
