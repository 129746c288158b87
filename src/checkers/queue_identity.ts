// Accounting identity of the queues: sk_wmem_queued is the sum of the truesize of every skb in
// the write queue and the retransmit queue (ref. §2.2: += truesize at tcp_skb_entail() and on
// every append, -= on free and trim, in every policy, pure or not).
import type { Step } from '../scenario/schema.ts';
import { BaseChecker } from './base.ts';
import type { ModelView } from './types.ts';

export class QueueIdentityChecker extends BaseChecker {
  readonly name = 'identity: sk_wmem_queued = sum of queued truesize';

  protected check(view: ModelView, _index: number, _step: Step | null): void {
    const sk = view.sk;
    let sum = 0;
    for (const skb of sk.rtx_queue) sum += skb.truesize;
    for (const skb of sk.write_queue) sum += skb.truesize;
    if (sum === sk.sk_wmem_queued) return;
    this.report({
      rule: 'identity.wmem_queued', kernel: false,
      check: 'sk_wmem_queued = sum of skb->truesize over the write and retransmit queues',
      message: `sk_wmem_queued = ${sk.sk_wmem_queued} but the queued skbs' truesize adds up to ${sum}`,
      values: { wmem_queued: sk.sk_wmem_queued, sum_truesize: sum },
      skbs: [...sk.rtx_queue, ...sk.write_queue].map((s) => s.id),
    });
  }
}
