// The observation output contract (../shared/spec/scenario-format.md, "Observation output").
// Every backend (model, live) produces exactly this shape; field names are fixed.

/** SO_MEMINFO, in the kernel's slot order (include/uapi/linux/sock_diag.h SK_MEMINFO_*). */
export interface Meminfo {
  rmem_alloc: number;
  rcvbuf: number;
  wmem_alloc: number;
  sndbuf: number;
  /** Signed: sk_forward_alloc does go negative. */
  fwd_alloc: number;
  wmem_queued: number;
  optmem: number;
  backlog: number;
  drops: number;
}
export const MEMINFO_FIELDS = [
  'rmem_alloc', 'rcvbuf', 'wmem_alloc', 'sndbuf', 'fwd_alloc', 'wmem_queued', 'optmem', 'backlog', 'drops',
] as const satisfies readonly (keyof Meminfo)[];

/** One sock_extended_err of origin SO_EE_ORIGIN_ZEROCOPY: ids lo..hi inclusive, ee_code. */
export interface Notification {
  lo: number;
  hi: number;
  code: number;
}

export type StepResult =
  | { ret: number }
  | { errno: string }
  | { calls: number; accepted_bytes: number; returns: (number | string)[]; errno?: string }
  | { notifications: number }
  | Record<string, never>;

export interface StateFields {
  meminfo: Meminfo;
  memcg_sock_bytes: number | null;
  tcp_mem_pages: number | null;
  skbs: number | null;
  unsent: number;
  outq: number;
}

export interface StepObservation extends StateFields {
  op: Record<string, unknown>;
  result: StepResult;
  notifications: Notification[];
  /** Failed expectations of an `expect` step (skmem extension). */
  failures?: ExpectFailure[];
  /** With --explain (model backend, skmem extension): what each kernel function did, in order. */
  explain?: TrailEntry[];
}

export interface TrailEntry {
  fn: string;
  what: string;
  fwd_alloc: number;
  wmem_queued: number;
}

export interface ExpectFailure {
  path: string;
  expected: unknown;
  actual: unknown;
}

export interface Warning {
  step: number;
  /** The kernel check that fired, e.g. "WARN_ON(sk->sk_forward_alloc) in inet_sock_destruct()". */
  check: string;
  message: string;
}

export interface Observation {
  scenario: string;
  backend: 'model' | 'live';
  kernel: { profile: string; release: string; config: Record<string, number | boolean> };
  setup: { sender: Meminfo };
  steps: StepObservation[];
  final: StateFields;
  warnings: Warning[];
  unknown?: Record<string, string>;
}
