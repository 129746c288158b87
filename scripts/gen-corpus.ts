// Writes the validation corpus (corpus/*.yaml): scenarios run on both backends by
// test/corpus.test.ts. Re-run after editing: npx tsx scripts/gen-corpus.ts
import { mkdirSync, writeFileSync } from 'node:fs';

type Step = string;
interface Sc { name: string; desc: string; steps: Step[]; sender?: string; sysctl?: string; family?: string; start?: string }

const send = (len: number, o: Record<string, unknown> = {}) => {
  const extra = Object.entries(o).map(([k, v]) => `, ${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`).join('');
  return `send: { len: ${len}${extra} }`;
};
const zc = (len: number, o: Record<string, unknown> = {}) => send(len, { zerocopy: true, ...o });
const out: Sc[] = [];

for (const len of [1, 100, 1000, 4096, 4097, 10000, 32768, 65535, 65536, 200000]) {
  out.push({ name: `copy_${len}`, desc: `one copy send of ${len} B into a frozen queue (32 KiB page_frag chunks)`, steps: [send(len), 'drain: {}'] });
}
for (const len of [1, 100, 4095, 4096, 4097, 10000, 65435, 65536, 100000, 300000]) {
  out.push({ name: `zc_${len}`, desc: `one MSG_ZEROCOPY send of ${len} B into a frozen queue (pure skbs)`, steps: [zc(len), 'drain: {}'] });
}
for (const off of [1, 100, 2048, 4000, 4095]) {
  out.push({ name: `zc_offset_${off}`, desc: `zerocopy 6000 B starting at page offset ${off}`, steps: [zc(6000, { offset: off }), 'drain: {}'] });
}
for (const [a, b] of [[1, 100], [100, 4000], [4000, 200], [5000, 5000], [20000, 70000]]) {
  out.push({ name: `zc_contiguous_${a}_${b}`, desc: 'two zerocopy sends sharing a page: the page is counted twice', steps: [zc(a), zc(b, { contiguous: true }), 'drain: {}'] });
}
for (const [z, c] of [[1, 10], [4096, 100], [10000, 5000], [65000, 1000]]) {
  out.push({ name: `zc_${z}_then_copy_${c}`, desc: 'pure skb downgraded by a copy (charges truesize - head)', steps: [zc(z), send(c), 'drain: {}'] });
}
for (const [c, z] of [[100, 1], [1000, 4096], [5000, 20000]]) {
  out.push({ name: `copy_${c}_then_zc_${z}`, desc: 'zerocopy into a mixed skb (fwd may go negative)', steps: [send(c), zc(z), 'drain: {}'] });
}
out.push({ name: 'zc_extend_uarg_8', desc: '8 zerocopy sends extend one ubuf_info (one optmem charge)', steps: [...Array(8).fill(zc(10000)), 'drain: {}'] });
out.push({ name: 'zc_uarg_512k_limit', desc: 'the uarg stops growing past 512 KiB: a new uarg, a new skb', steps: [zc(300000), zc(300000), zc(10), 'drain: {}'] });
out.push({ name: 'zc_frag_limit_17', desc: 'iovec of 20 one-page segments on separate pages: 17 frags per skb', steps: [`send: { iov: [${Array(20).fill(100).join(', ')}], zerocopy: true }`, 'drain: {}'] });
out.push({ name: 'zc_iov_3_segments', desc: 'three iovec segments laid back to back', steps: ['send: { iov: [1000, 5000, 20000], zerocopy: true }', 'drain: {}'] });
out.push({ name: 'copy_iov_3_segments', desc: 'copy send from three iovec segments', steps: ['send: { iov: [1000, 5000, 20000] }', 'drain: {}'] });
for (const sb of [4096, 16384, 65536, 131072]) {
  out.push({ name: `sndbuf_${sb}_copy_eagain`, desc: `SO_SNDBUF ${sb}: copy sends until EAGAIN (the tail skb may overshoot)`, sender: `so_sndbuf: ${sb}`, steps: ['send_until_eagain: { len: 10000, max_calls: 1000 }', 'drain: {}'] });
  out.push({ name: `sndbuf_${sb}_zc_eagain`, desc: `SO_SNDBUF ${sb}: zerocopy sends until EAGAIN`, sender: `so_sndbuf: ${sb}`, steps: ['send_until_eagain: { len: 10000, zerocopy: true, max_calls: 1000 }', 'drain: {}'] });
}
for (const om of [3000, 20480]) {
  const pair = [zc(1, { flags: ['MSG_EOR'] }), send(1, { flags: ['MSG_EOR'] })];
  out.push({ name: `optmem_${om}_enobufs`, desc: `optmem_max ${om}: one ubuf_info per send until ENOBUFS`, sysctl: `net.core.optmem_max: ${om}`, steps: [...Array(30).fill(pair).flat(), 'errqueue: {}', 'drain: {}'] });
}
out.push({ name: 'msg_zerocopy_without_so_zerocopy', desc: 'MSG_ZEROCOPY without SO_ZEROCOPY is a plain copy: no id, no notification', sender: 'so_zerocopy: false', steps: [zc(10000), 'drain: {}', 'errqueue: {}'] });
out.push({ name: 'close_with_unsent_data', desc: 'close with data in a frozen queue: the orphan keeps its charge', steps: [zc(10000), send(100), 'close: {}'] });
out.push({ name: 'close_then_drain', desc: 'close, then the receiver reads: the orphan goes away', steps: [zc(10000), 'close: {}', 'drain: {}'] });
out.push({ name: 'linger0_close', desc: 'SO_LINGER 0: close purges the queue at once', sender: 'so_linger: { onoff: true, linger: 0 }', steps: [zc(10000), send(100), 'close: {}'] });
out.push({ name: 'disconnect_purges', desc: 'connect(AF_UNSPEC) purges: notification with code 0', steps: [zc(10000), 'disconnect: {}', 'errqueue: {}'] });
for (const s of [['zc', zc(20000)], ['copy', send(20000)], ['downgrade', `${zc(3000)}\n  - ${send(50)}`]] as const) {
  out.push({ name: `ipv6_${s[0]}`, desc: `IPv6: ${s[0]}`, family: 'ipv6', steps: [s[1], 'drain: {}'] });
}
out.push({ name: 'fresh_zc_5x20000', desc: 'fresh connection, receiver ACKs at once: one merged notification', start: 'fresh', steps: [...Array(5).fill(zc(20000)), 'errqueue: {}'] });
out.push({ name: 'fresh_copy_then_close', desc: 'fresh connection: data acked at once; close leaves the FIN waiting for a delayed ACK', start: 'fresh', steps: [send(5000), 'close: {}', 'drain: {}'] });
out.push({ name: 'eor_new_skb_each', desc: 'MSG_EOR: every send starts a new skb', steps: [send(100, { flags: ['MSG_EOR'] }), send(100, { flags: ['MSG_EOR'] }), zc(100, { flags: ['MSG_EOR'] }), 'drain: {}'] });
out.push({ name: 'copy_many_small', desc: '50 small copy sends share one skb and one page_frag', steps: ['send_until_eagain: { len: 300, max_calls: 50 }', 'drain: {}'] });

for (const len of [1, 4096, 10000, 40000, 100000]) {
  out.push({ name: `sendfile_${len}`, desc: `sendfile of ${len} B from a page-cache file (MSG_SPLICE_PAGES)`, steps: [`sendfile: { len: ${len} }`, 'drain: {}'] });
}
out.push({ name: 'sendfile_onto_pure_zc', desc: 'splice onto a pure zerocopy skb: downgraded first (f8d9d938514f)', steps: [zc(1), 'sendfile: { len: 100 }', 'drain: {}'] });
out.push({ name: 'sendfile_then_zc', desc: 'zerocopy into a skb holding spliced pages (not pure: charged)', steps: ['sendfile: { len: 3000 }', zc(5000), 'drain: {}'] });
out.push({ name: 'sendfile_same_page_twice', desc: 'two sendfiles of the same file range: page references merge only when contiguous', steps: ['sendfile: { len: 2000, offset: 0 }', 'sendfile: { len: 2000, offset: 0 }', 'sendfile: { len: 2000 }', 'drain: {}'] });

mkdirSync('corpus', { recursive: true });
for (const sc of out) {
  const sender = `{ so_zerocopy: true${sc.sender && !sc.sender.startsWith('so_zerocopy') ? `, ${sc.sender}` : ''} }`;
  const senderLine = sc.sender?.startsWith('so_zerocopy') ? `{ ${sc.sender} }` : sender;
  const yaml = [
    `name: ${sc.name}`,
    `description: ${JSON.stringify(sc.desc)}`,
    'kernel: "6.18"',
    ...(sc.sysctl ? [`sysctl: { ${sc.sysctl} }`] : []),
    `connection: { start: ${sc.start ?? 'zero_window'}${sc.family ? `, family: ${sc.family}` : ''} }`,
    `sender: ${senderLine}`,
    'steps:',
    ...sc.steps.map((s) => `  - ${s}`),
    '',
  ].join('\n');
  writeFileSync(`corpus/${sc.name}.yaml`, yaml);
}
console.log(`${out.length} scenarios written to corpus/`);
