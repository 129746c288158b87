// The kernel's own checks when the sender is destroyed: sk_stream_kill_queues()
// (net/core/stream.c) and inet_sock_destruct() (net/ipv4/af_inet.c), 5.17 and 6.18. After
// sk_mem_reclaim_final() only whole pages go back, so any charge that was not matched by an
// uncharge leaves sk_forward_alloc != 0: the WARN behind 479f5547239d and f8d9d938514f.
// 5.x: WARN_ON in both functions; 6.18: WARN_ON_ONCE, and only inet_sock_destruct() tests fwd.
import type { Step } from '../scenario/schema.ts';
import { BaseChecker } from './base.ts';
import type { ModelView } from './types.ts';

export class DestructChecker extends BaseChecker {
  readonly name = 'kernel: destruction (sk_stream_kill_queues, inet_sock_destruct)';
  private done = false;

  protected check(view: ModelView, _index: number, _step: Step | null): void {
    if (this.done || !view.destroyed) return;
    this.done = true;
    const sk = view.sk;
    const queued = sk.write_queue.length + sk.rtx_queue.length;
    const once = view.profile.killQueuesWarnsFwd ? 'WARN_ON' : 'WARN_ON_ONCE';
    if (queued !== 0) {
      this.report({
        rule: 'destruct.write_queue', kernel: true,
        check: `${once}(!skb_queue_empty(&sk->sk_write_queue)) in sk_stream_kill_queues()`,
        message: `${queued} skb(s) still queued when the socket was destroyed`,
        values: { skbs: queued }, skbs: [...sk.rtx_queue, ...sk.write_queue].map((s) => s.id),
      });
    }
    if (sk.sk_wmem_queued !== 0) {
      this.report({
        rule: 'destruct.wmem_queued', kernel: true,
        check: `${once}(sk->sk_wmem_queued) in sk_stream_kill_queues() and inet_sock_destruct()`,
        message: `sk_wmem_queued = ${sk.sk_wmem_queued} at destruction (must be 0 once every skb is freed)`,
        values: { wmem_queued: sk.sk_wmem_queued },
      });
    }
    if (sk.sk_forward_alloc !== 0) {
      const where = view.profile.killQueuesWarnsFwd
        ? 'WARN_ON(sk->sk_forward_alloc) in sk_stream_kill_queues(), WARN_ON(sk_forward_alloc_get(sk)) in inet_sock_destruct()'
        : 'WARN_ON_ONCE(sk->sk_forward_alloc) in inet_sock_destruct()';
      this.report({
        rule: 'destruct.fwd_alloc', kernel: true, check: where,
        message: `sk_forward_alloc = ${sk.sk_forward_alloc} after sk_mem_reclaim_final(), which returns whole pages only: the bytes charged and uncharged over the socket's life do not balance`,
        values: { fwd_alloc: sk.sk_forward_alloc, charged: sk.ledger.charged, uncharged: sk.ledger.uncharged },
      });
    }
  }
}
