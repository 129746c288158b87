// The receive side's truesize check on local delivery: skb_try_coalesce() in
// net/core/skbuff.c (5.17 and 6.18), reached from tcp_queue_rcv() -> tcp_try_coalesce() and
// tcp_add_backlog(). For a `from` skb without linear data (a TCP tx skb after its headers are
// pulled) the truesize it hands over is delta = from->truesize - SKB_TRUESIZE(skb_end_offset(from)),
// and WARN_ON_ONCE(delta < len) asserts that this covers the payload. 5.16-v1 forced
// truesize = SKB_TRUESIZE(MAX_TCP_HEADER) (896) on heads that really cost 1280, so every
// coalesced loopback segment fired it (ref. §5.2): the reason f1a456f8f3fc was reverted.
import { SKB_TRUESIZE } from '../model/skb_geometry.ts';
import type { SkBuff } from '../model/skbuff.ts';
import type { Step } from '../scenario/schema.ts';
import { BaseChecker } from './base.ts';
import type { ModelView } from './types.ts';

export class CoalesceChecker extends BaseChecker {
  readonly name = 'kernel: skb_try_coalesce() truesize on local delivery';

  attach(view: ModelView): void {
    view.path.coalesceObservers.push((_sk, from) => this.onCoalesce(from));
  }

  protected check(_view: ModelView, _index: number, _step: Step | null): void {}

  private onCoalesce(from: SkBuff): void {
    const head = SKB_TRUESIZE(from.end_offset);
    const delta = from.truesize - head;
    if (delta >= from.len) return;
    this.report({
      rule: 'coalesce.truesize', kernel: true,
      check: 'WARN_ON_ONCE(delta < len) in skb_try_coalesce() (receiver, local delivery)',
      message: `skb#${from.id}: truesize ${from.truesize} - SKB_TRUESIZE(skb_end_offset ${from.end_offset}) = ${delta} < len ${from.len}: the skb claims less memory than its head and payload occupy`,
      values: { truesize: from.truesize, end_offset: from.end_offset, head_truesize: head, delta, len: from.len },
      skbs: [from.id],
    });
  }
}
