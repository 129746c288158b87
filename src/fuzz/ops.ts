// What the fuzzer can do to a connection: the operation kinds, their argument generators, and
// swarm configurations (Groce et al., "Swarm Testing", ISSTA 2012): each run enables a random
// subset of the kinds and weighs them very differently, so that rare combinations (a zerocopy
// send left pure at the tail, then a copy or a sendfile into it) are common in some runs.
import fc from 'fast-check';
import type { Scenario, SenderOptions, Step, Sysctls } from '../scenario/schema.ts';

export const OP_KINDS = [
  'send_copy', 'send_zc', 'send_iov', 'send_until_eagain', 'sendfile',
  'cork', 'uncork', 'zerocopy_on', 'zerocopy_off', 'sndbuf', 'linger0',
  'drain', 'errqueue', 'sleep', 'close', 'disconnect',
] as const;
export type OpKind = (typeof OP_KINDS)[number];

/** After close() only these may follow (the model refuses the rest, like a closed fd). */
export const AFTER_CLOSE: ReadonlySet<OpKind> = new Set(['drain', 'errqueue', 'sleep']);

/** The connection a run uses: shrinks toward the defaults independently of the steps. */
export interface ConnOptions {
  connection: { family: 'ipv4' | 'ipv6'; start: 'fresh' | 'zero_window' };
  sender: SenderOptions;
  config: { max_tcp_header?: number };
  sysctl: Sysctls;
}

/** One run's configuration: which kinds, how often, and the connection they run on. */
export interface Swarm extends ConnOptions {
  /** Weight per enabled kind; disabled kinds are absent. */
  weights: Partial<Record<OpKind, number>>;
}

/** `true` with probability 1/n; shrinks to false. */
const oneIn = (n: number) => fc.integer({ min: 0, max: n - 1 }).map((x) => x === n - 1);

/** `value` with probability 1/n, else undefined; shrinks to undefined. */
const sometimes = <T>(n: number, value: fc.Arbitrary<T>) =>
  fc.tuple(oneIn(n), value).map(([on, v]) => (on ? v : undefined));

/** Byte counts: mostly small, often around a page or an MSS, sometimes large (up to 300000). */
export const lenArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 64 }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 9000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 70000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300000 }) },
  { weight: 1, arbitrary: fc.constantFrom(4096, 8192, 32768, 65483, 65536) },
);

/** Drops undefined and false members so that steps print and write as the user would. */
function clean<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === false) delete o[k];
  return o;
}

const flagsArb = fc.tuple(oneIn(5), oneIn(5), oneIn(20)).map(([more, eor, dontwait]) => {
  const flags: ('MSG_MORE' | 'MSG_EOR' | 'MSG_DONTWAIT')[] = [];
  if (more) flags.push('MSG_MORE');
  if (eor) flags.push('MSG_EOR');
  if (dontwait) flags.push('MSG_DONTWAIT');
  return flags.length > 0 ? flags : undefined;
});

const sendArgs = (zerocopy: boolean) =>
  fc.record({ len: lenArb, flags: flagsArb, offset: sometimes(4, fc.integer({ min: 0, max: 4095 })), contiguous: oneIn(5), blocking: oneIn(10) })
    .map((a) => clean({ len: a.len, zerocopy, flags: a.flags, offset: a.offset, contiguous: a.contiguous, blocking: a.blocking }));

/** The argument generator of each kind, as the scenario step it becomes. */
export const STEP_ARBS: Record<OpKind, fc.Arbitrary<Step>> = {
  send_copy: sendArgs(false).map((send) => ({ send })),
  send_zc: sendArgs(true).map((send) => ({ send })),
  send_iov: fc.record({ iov: fc.array(lenArb, { minLength: 2, maxLength: 3 }), zerocopy: fc.boolean(), flags: flagsArb })
    .map((a) => ({ send: clean({ iov: a.iov, zerocopy: a.zerocopy, flags: a.flags }) })),
  send_until_eagain: fc.record({ len: lenArb, zerocopy: fc.boolean(), max_calls: fc.integer({ min: 1, max: 16 }) })
    .map((a) => ({ send_until_eagain: clean({ len: a.len, zerocopy: a.zerocopy, max_calls: a.max_calls }) })),
  sendfile: fc.record({ len: lenArb, offset: sometimes(3, fc.integer({ min: 0, max: 100000 })) })
    .map((a) => ({ sendfile: clean({ len: a.len, offset: a.offset }) })),
  cork: fc.constant({ setsockopt: { tcp_cork: true } }),
  uncork: fc.constant({ setsockopt: { tcp_cork: false } }),
  zerocopy_on: fc.constant({ setsockopt: { so_zerocopy: true } }),
  zerocopy_off: fc.constant({ setsockopt: { so_zerocopy: false } }),
  sndbuf: fc.constantFrom(1000, 4096, 16384, 65536, 262144, 1048576).map((v) => ({ setsockopt: { so_sndbuf: v } })),
  linger0: fc.constant({ setsockopt: { so_linger: { onoff: true, linger: 0 } } }),
  drain: fc.constant({ drain: {} }),
  errqueue: fc.constant({ errqueue: {} }),
  sleep: fc.constantFrom(1, 40, 250, 5000, 20000).map((ms) => ({ sleep: { ms } })),
  close: fc.constant({ close: {} }),
  disconnect: fc.constant({ disconnect: {} }),
};

const WEIGHTS = [1, 3, 10, 30] as const;

/** Swarm weights over the kinds the user allowed: each kind is on in 3 runs out of 4. */
export function weightsArb(allowed: readonly OpKind[]): fc.Arbitrary<Partial<Record<OpKind, number>>> {
  const perKind = fc.tuple(...allowed.map(() => fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(...WEIGHTS))));
  return perKind.map((kinds) => {
    const weights: Partial<Record<OpKind, number>> = {};
    allowed.forEach((k, i) => {
      const [on, w] = kinds[i];
      if (on > 0) weights[k] = w;
    });
    if (Object.keys(weights).length === 0) for (const k of allowed) weights[k] = 1;
    return weights;
  });
}

/** The connection, socket options, build facts and sysctls of a run (each shrinks to the default). */
export const connOptionsArb: fc.Arbitrary<ConnOptions> = fc.record({
  family: oneIn(10).map((v6): 'ipv4' | 'ipv6' => (v6 ? 'ipv6' : 'ipv4')),
  start: fc.constantFrom('fresh' as const, 'zero_window' as const),
  noZerocopy: oneIn(6),
  cork: oneIn(5),
  mth192: oneIn(5),
  optmem: sometimes(7, fc.constantFrom(1400, 3000, 20480)),
  hoad: oneIn(10),
  frags: sometimes(10, fc.integer({ min: 1, max: 17 })),
  tcpMem: sometimes(10, fc.constantFrom<[number, number, number]>([1, 2, 4], [16, 32, 64], [64, 128, 256])),
  tcpWmem: sometimes(10, fc.constant<[number, number, number]>([4096, 16384, 65536])),
}).map((r) => {
  const sysctl: Sysctls = {};
  if (r.optmem !== undefined) sysctl['net.core.optmem_max'] = r.optmem;
  if (r.hoad) sysctl['net.core.high_order_alloc_disable'] = 1;
  if (r.frags !== undefined) sysctl['net.core.max_skb_frags'] = r.frags;
  // a zero-window start fills the receiver through the sender's own queue: not under a tiny tcp_mem
  if (r.tcpMem !== undefined && r.start === 'fresh') sysctl['net.ipv4.tcp_mem'] = r.tcpMem;
  if (r.tcpWmem !== undefined) sysctl['net.ipv4.tcp_wmem'] = r.tcpWmem;
  const sender: SenderOptions = { so_zerocopy: !r.noZerocopy };
  if (r.cork) sender.tcp_cork = true;
  return { connection: { family: r.family, start: r.start }, sender, config: r.mth192 ? { max_tcp_header: 192 } : {}, sysctl };
});

/** The steps that end every fuzzed run so the socket is destroyed and the destruction checks run. */
export function teardown(closed: boolean): Step[] {
  const steps: Step[] = [];
  if (!closed) steps.push({ close: {}, note: 'teardown: close the sender' });
  steps.push({ drain: {}, note: 'teardown: the receiver reads everything; the FIN is ACKed and the socket destroyed' });
  return steps;
}

/** The scenario a run executes: its swarm's connection, the generated steps, then teardown. */
export function buildScenario(name: string, kernel: string, swarm: ConnOptions, steps: readonly Step[], closed: boolean): Scenario {
  return {
    name, kernel, config: swarm.config, sysctl: swarm.sysctl,
    connection: {
      family: swarm.connection.family, path: 'loopback', congestion: 'cubic',
      route: { cwnd_lock: 10, initcwnd: 10, rto_min_ms: 5000 }, receiver: {}, start: swarm.connection.start,
    },
    sender: swarm.sender,
    steps: [...steps, ...teardown(closed)],
  };
}
