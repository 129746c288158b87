// Closing, disconnecting and destroying the sender, with the kernel's destruction WARNs.
// Mirrors net/ipv4/tcp.c (__tcp_close, tcp_disconnect, tcp_write_queue_purge),
// net/ipv4/tcp_output.c tcp_send_fin(), net/core/stream.c sk_stream_kill_queues() and
// net/ipv4/af_inet.c inet_sock_destruct(), 5.15 .. 6.18.
import type { Warning } from '../scenario/observation.ts';
import { SKB_TRUESIZE } from './skb_geometry.ts';
import { SkBuff } from './skbuff.ts';
import { sk_forced_mem_schedule, sk_mem_charge, sk_mem_reclaim, sk_mem_reclaim_final } from './sk_mem.ts';
import type { Sock } from './sock.ts';
import { tcp_wmem_free_skb } from './tcp_skb.ts';
import { read_error_queue } from './zerocopy.ts';
import { TRACE, trace } from './trace.ts';

/** tcp_write_queue_purge(): free every queued skb (write and retransmit queues). */
export function tcp_write_queue_purge(sk: Sock): void {
  // the write queue first, then the retransmit queue (tcp_rtx_queue_purge): unsent zerocopy
  // ranges complete before the sent ones
  for (const skb of sk.write_queue.splice(0, sk.write_queue.length)) tcp_wmem_free_skb(sk, skb);
  for (const skb of sk.rtx_queue.drain()) tcp_wmem_free_skb(sk, skb);
  sk.snd_nxt = sk.snd_una = sk.write_seq;
  sk_mem_reclaim(sk);
}

/**
 * tcp_send_fin(): tack the FIN onto an unsent tail skb (under memory pressure also onto the
 * last sent one), else queue a FIN-only skb from
 * alloc_skb_fclone(MAX_TCP_HEADER) with forced scheduling (its truesize is the real head cost
 * in every policy: it does not come from tcp_stream_alloc_skb).
 */
export function tcp_send_fin(sk: Sock): void {
  sk.write_seq++;
  const tail = sk.writeQueueTail();
  if (tail !== undefined) {
    tail.end_seq++;
    tail.fin = true;
    if (TRACE.on) trace(sk, 'tcp_send_fin', () => `FIN tacked onto unsent skb #${tail.id}: no memory moves`, tail.id);
    return;
  }
  const sent = sk.rtx_queue.last();
  if (sent !== undefined && sk.net.proto.memory_pressure) {
    // under memory pressure the FIN goes onto the last sent skb, as if it had been sent with it
    sent.end_seq++;
    sent.fin = true;
    sk.snd_nxt++;
    if (TRACE.on) trace(sk, 'tcp_send_fin', () => `under memory pressure: FIN tacked onto sent skb #${sent.id} (snd_nxt + 1): no new skb`, sent.id);
    return;
  }
  const end = sk.profile.head.endOffset(sk.net.cfg.max_tcp_header, sk.net.cfg);
  const skb = new SkBuff(end, SKB_TRUESIZE(end));
  sk_forced_mem_schedule(sk, skb.truesize);
  skb.seq = sk.write_seq - 1;
  skb.end_seq = sk.write_seq;
  skb.fin = true;
  skb.gso_segs = 1; // tcp_init_nondata_skb(): tcp_skb_pcount_set(skb, 1)
  sk.write_queue.push(skb);
  sk.sk_wmem_queued += skb.truesize;
  sk_mem_charge(sk, skb.truesize);
  if (TRACE.on) trace(sk, 'tcp_send_fin', () => `FIN-only skb #${skb.id} queued: wq +${skb.truesize}, fwd -${skb.truesize}`, skb.id);
}

/** tcp_disconnect() (connect(AF_UNSPEC), or close with SO_LINGER 0): purge, socket stays. */
export function tcp_disconnect(sk: Sock): void {
  tcp_write_queue_purge(sk);
  sk.state = 'CLOSE';
}

/**
 * inet_csk_destroy_sock() -> sk_stream_kill_queues() and inet_sock_destruct(): purge the error
 * queue, final reclaim, then the WARNs a kernel would print.
 */
export function destroySock(sk: Sock, step: number): Warning[] {
  const warnings: Warning[] = [];
  const warn = (check: string, message: string) => warnings.push({ step, check, message });
  if (!sk.queuesEmpty()) warn('WARN_ON(!skb_queue_empty(&sk->sk_write_queue)) in sk_stream_kill_queues()', `${sk.write_queue.length + sk.rtx_queue.length} skbs still queued`);
  read_error_queue(sk);
  sk_mem_reclaim_final(sk);
  if (sk.sk_wmem_queued !== 0) warn('WARN_ON(sk->sk_wmem_queued) in sk_stream_kill_queues()', `sk_wmem_queued = ${sk.sk_wmem_queued}`);
  if (sk.sk_forward_alloc !== 0 && sk.profile.killQueuesWarnsFwd) {
    warn('WARN_ON(sk->sk_forward_alloc) in sk_stream_kill_queues()', `sk_forward_alloc = ${sk.sk_forward_alloc} after sk_mem_reclaim_final()`);
  }
  if (sk.sk_forward_alloc !== 0) {
    warn('WARN_ON(sk_forward_alloc_get(sk)) in inet_sock_destruct()', `sk_forward_alloc = ${sk.sk_forward_alloc} after sk_mem_reclaim_final() (not a whole number of pages: charges and uncharges do not balance)`);
  }
  sk.state = 'CLOSE';
  return warnings;
}
