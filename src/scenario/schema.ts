// The scenario file contract (../shared/spec/scenario-format.md, version 1) as a zod schema.
// Field names are fixed by the contract; optional additions are marked "skmem extension".
import { z } from 'zod';

const UNIT_BYTES: Record<string, number> = {
  '': 1, B: 1, K: 1024, KiB: 1024, KB: 1000, M: 1 << 20, MiB: 1 << 20, MB: 1_000_000,
  G: 1 << 30, GiB: 1 << 30, GB: 1_000_000_000,
};
const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(B|K|KiB|KB|M|MiB|MB|G|GiB|GB)?\s*$/;

/** Parses "64KiB" style sizes; returns null when the text is not a size. */
export function parseSize(text: string): number | null {
  const m = SIZE_RE.exec(text);
  if (!m) return null;
  const bytes = Number(m[1]) * UNIT_BYTES[m[2] ?? ''];
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A byte count: a non-negative integer, or a string with a unit suffix ("64KiB"). */
export const size = (what = 'a byte count') =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : parseSize(v);
    if (n === null || !Number.isSafeInteger(n) || n < 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected ${what} (a non-negative integer, or a size like 64KiB), found ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return n;
  });

const posInt = (what: string) => z.number({ error: `expected ${what}` }).int(`expected ${what}`).min(0, `expected ${what}`);
const bool = z.boolean({ error: 'expected true or false' });

export const MSG_FLAGS = ['MSG_MORE', 'MSG_EOR', 'MSG_DONTWAIT'] as const;

const linger = z.strictObject({ onoff: bool, linger: posInt('seconds, a non-negative integer') });

export const senderOptions = z.strictObject({
  so_zerocopy: bool.optional(),
  so_sndbuf: size('an SO_SNDBUF value').optional(),
  so_sndbufforce: size('an SO_SNDBUFFORCE value').optional(),
  tcp_nodelay: bool.optional(),
  tcp_cork: bool.optional(),
  so_linger: linger.optional(),
});
export type SenderOptions = z.infer<typeof senderOptions>;

const sendArgsBase = {
  len: size('the number of bytes to send').optional(),
  zerocopy: bool.optional(),
  flags: z.array(z.enum(MSG_FLAGS, { error: `expected one of ${MSG_FLAGS.join(', ')}` })).optional(),
  offset: posInt('an offset within a 4 KiB page (0..4095)').max(4095, 'expected an offset within a 4 KiB page (0..4095)').optional(),
  contiguous: bool.optional(),
  iov: z.array(size('an iovec segment length')).min(1, 'expected at least one iovec segment').optional(),
  blocking: bool.optional(),
};

function lenOrIov(a: { len?: number; iov?: number[] }, ctx: z.RefinementCtx) {
  if ((a.len === undefined) === (a.iov === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'expected exactly one of len or iov' });
  }
}

export const sendArgs = z.strictObject(sendArgsBase).superRefine(lenOrIov);
export const sendUntilEagainArgs = z
  .strictObject({ ...sendArgsBase, max_calls: posInt('a call count').min(1, 'expected at least 1 call').optional() })
  .superRefine(lenOrIov);
export type SendArgs = z.infer<typeof sendArgs>;
export type SendUntilEagainArgs = z.infer<typeof sendUntilEagainArgs>;

/** sendfile() from a page-cache file (6.x: MSG_SPLICE_PAGES; 5.x: do_tcp_sendpages). skmem extension. */
export const sendfileArgs = z.strictObject({
  len: size('the number of bytes to send'),
  offset: size('a file offset').optional(),
  blocking: bool.optional(),
});
export type SendfileArgs = z.infer<typeof sendfileArgs>;

const none = z.union([z.null(), z.strictObject({})]).transform(() => ({}));
const note = z.string({ error: 'expected a string' }).optional();

/** Value of an expect entry: a number, string, bool or null. */
const expectValue = z.union([z.number(), z.string(), z.boolean(), z.null()], {
  error: 'expected a number, string, boolean or null',
});

export const step = z.union(
  [
    z.strictObject({ send: sendArgs, note }),
    z.strictObject({ send_until_eagain: sendUntilEagainArgs, note }),
    z.strictObject({ sendfile: sendfileArgs, note }),
    z.strictObject({ setsockopt: senderOptions, note }),
    z.strictObject({ recv: z.strictObject({ bytes: size('the number of bytes to read') }), note }),
    z.strictObject({ drain: none, note }),
    z.strictObject({ errqueue: none, note }),
    z.strictObject({ close: none, note }),
    z.strictObject({ disconnect: none, note }),
    z.strictObject({ sleep: z.strictObject({ ms: posInt('milliseconds') }), note }),
    z.strictObject({ expect: z.record(z.string(), expectValue), note }),
  ],
  { error: 'expected a step with exactly one op: send, send_until_eagain, sendfile, setsockopt, recv, drain, errqueue, close, disconnect, sleep or expect' },
);
export type Step = z.infer<typeof step>;
export const OPS = ['send', 'send_until_eagain', 'sendfile', 'setsockopt', 'recv', 'drain', 'errqueue', 'close', 'disconnect', 'sleep', 'expect'] as const;
export type OpName = (typeof OPS)[number];

const triple = z.tuple([size(), size(), size()], { error: 'expected a list of three integers' });

/** Sysctls a scenario may set; each is per network namespace unless the backend says otherwise. */
export const sysctls = z.strictObject({
  'net.core.optmem_max': size().optional(),
  'net.core.wmem_max': size().optional(),
  'net.core.max_skb_frags': posInt('a frag count').min(1).max(17).optional(),
  'net.core.high_order_alloc_disable': z.union([z.literal(0), z.literal(1)]).optional(),
  'net.ipv4.tcp_wmem': triple.optional(),
  'net.ipv4.tcp_rmem': triple.optional(),
  'net.ipv4.tcp_mem': triple.optional(),
  'net.ipv4.tcp_autocorking': z.union([z.literal(0), z.literal(1)]).optional(),
  'net.ipv4.tcp_notsent_lowat': size().optional(),
});
export type Sysctls = z.infer<typeof sysctls>;

/** Kernel build facts (profile `config`); see src/profiles/config.ts for their meaning. */
export const configFacts = z.strictObject({
  max_tcp_header: posInt('MAX_TCP_HEADER in bytes').optional(),
  max_header: posInt('MAX_HEADER in bytes').optional(),
  nr_cpus: posInt('a CPU count').min(1).optional(),
  cap_ipc_lock: bool.optional(),
  rlimit_memlock: z.union([size('RLIMIT_MEMLOCK in bytes'), z.literal('unlimited')]).transform((v) => (v === 'unlimited' ? -1 : v)).optional(),
});
export type ConfigOverrides = z.infer<typeof configFacts>;

export const connection = z.strictObject({
  family: z.enum(['ipv4', 'ipv6'], { error: 'expected ipv4 or ipv6' }).default('ipv4'),
  path: z.enum(['loopback', 'link'], { error: 'expected loopback or link' }).default('loopback'),
  /** `path: link` (skmem extension): two hosts joined by a NIC; see src/paths/link.ts. */
  link: z
    .strictObject({
      rate: z.string({ error: 'expected a rate such as 100gbit' }).default('100gbit'),
      rtt: z.string({ error: 'expected a duration such as 50us' }).default('50us'),
      mtu: posInt('an MTU in bytes').min(576, 'expected an MTU of at least 576').max(65535, 'expected an MTU of at most 65535').default(1500),
      loss: z.number({ error: 'expected a probability' }).min(0, 'expected a probability in [0, 1)').lt(1, 'expected a probability in [0, 1)').default(0),
      seed: posInt('a seed').default(1),
      txc_delay: z.string({ error: 'expected a duration such as 2us' }).default('2us'),
    })
    .optional(),
  congestion: z.enum(['cubic', 'reno', 'bbr'], { error: 'expected cubic, reno or bbr' }).default('cubic'),
  route: z
    .strictObject({
      cwnd_lock: posInt('a window in packets').optional(),
      initcwnd: posInt('a window in packets').optional(),
      rto_min_ms: posInt('milliseconds').optional(),
    })
    .default({ cwnd_lock: 10, initcwnd: 10, rto_min_ms: 5000 }),
  receiver: z.strictObject({ rcvbuf: size('an SO_RCVBUF value').optional() }).default({}),
  start: z.enum(['fresh', 'zero_window'], { error: 'expected fresh or zero_window' }).default('fresh'),
});
export type Connection = z.infer<typeof connection>;

export const scenario = z.strictObject({
  name: z.string({ error: 'expected a name' }).regex(/^[a-z0-9_.-]+$/, 'expected a name made of [a-z0-9_.-]'),
  description: z.string({ error: 'expected a string' }).optional(),
  kernel: z.union([z.string(), z.number()]).transform(String).optional(),
  config: configFacts.default({}),
  sysctl: sysctls.default({}),
  connection: connection.prefault({}),
  sender: senderOptions.default({}),
  steps: z.array(step, { error: 'expected a list of steps' }),
});
export type Scenario = z.infer<typeof scenario>;
