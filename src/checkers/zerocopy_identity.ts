// Accounting identities of MSG_ZEROCOPY (ref. §2.5, §4.2-§4.4; net/core/skbuff.c
// msg_zerocopy_alloc/realloc, __msg_zerocopy_callback, net/core/sock.c sock_omalloc/sock_ofree):
// - sk_omem_alloc = N x (live ubuf_infos + notifications not yet read), N = truesize of the
//   notification skb alloc_skb(0) (768 on 5.x, 960 on 6.18, typical config);
// - a live ubuf_info's refcnt = the skbs carrying it (the sendmsg call's own reference is gone
//   once the call returns);
// - the error queue's id ranges are well formed (lo <= hi < sk_zckey), disjoint from each other
//   and from every range notified before: each id completes once. Not necessarily in order: a
//   purge frees the unsent skbs before the sent ones (tcp_write_queue_purge), so higher ids can
//   complete first;
// - sk_zckey = the number of successful MSG_ZEROCOPY sendmsg calls (failed ones give their id back).
// Ids are compared without 2^32 wrap-around: no fuzzed run issues 4 billion ids.
import { SKB_TRUESIZE } from '../model/skb_geometry.ts';
import type { UbufInfo } from '../model/zerocopy.ts';
import type { Step } from '../scenario/schema.ts';
import { BaseChecker } from './base.ts';
import type { ModelView } from './types.ts';

export class ZerocopyIdentityChecker extends BaseChecker {
  readonly name = 'identity: optmem, ubuf_info references, notification ids, sk_zckey';
  /** Every notification range seen on the error queue so far, by its lo (a merge grows its hi). */
  private notified = new Map<number, number>();

  protected check(view: ModelView, _index: number, _step: Step | null): void {
    const live = this.liveUargs(view);
    this.optmem(view, live.size);
    this.refs(live);
    this.notifications(view);
    this.zckey(view);
  }

  /** Every ubuf_info attached to a queued skb, with how many skbs carry it. */
  private liveUargs(view: ModelView): Map<UbufInfo, number> {
    const live = new Map<UbufInfo, number>();
    const count = (u: UbufInfo | null) => u !== null && live.set(u, (live.get(u) ?? 0) + 1);
    for (const skb of view.sk.rtx_queue) count(skb.uarg);
    for (const skb of view.sk.write_queue) count(skb.uarg);
    return live;
  }

  private optmem(view: ModelView, liveUargs: number): void {
    const sk = view.sk;
    const n = SKB_TRUESIZE(view.profile.head.endOffset(0, view.net.cfg));
    const unread = sk.error_queue.length;
    const want = n * (liveUargs + unread);
    if (sk.sk_omem_alloc === want) return;
    this.report({
      rule: 'identity.optmem', kernel: false,
      check: 'sk_omem_alloc = N x (live ubuf_infos + unread notifications), N = truesize of alloc_skb(0)',
      message: `sk_omem_alloc ${sk.sk_omem_alloc}, but ${liveUargs} live ubuf_info(s) + ${unread} unread notification(s) at N = ${n} make ${want}`,
      values: { optmem: sk.sk_omem_alloc, N: n, live_ubuf_infos: liveUargs, unread_notifications: unread },
    });
  }

  private refs(live: Map<UbufInfo, number>): void {
    for (const [u, skbs] of live) {
      if (u.refcnt === skbs) continue;
      this.report({
        rule: 'identity.ubuf_refcnt', kernel: false,
        check: "ubuf_info refcnt = skbs carrying it (once the sendmsg call's reference is dropped)",
        message: `ubuf_info id ${u.id} (len ${u.len}) has refcnt ${u.refcnt} but ${skbs} queued skb(s) carry it`,
        values: { id: u.id, refcnt: u.refcnt, skbs },
      });
      return;
    }
  }

  private notifications(view: ModelView): void {
    const sk = view.sk;
    const onQueue = new Set<number>();
    for (const e of sk.error_queue) {
      let clash: [number, number] | null = onQueue.has(e.lo) ? [e.lo, e.hi] : null; // the same range queued twice
      onQueue.add(e.lo);
      for (const [lo, hi] of this.notified) {
        if (lo !== e.lo && e.lo <= hi && lo <= e.hi) clash = [lo, hi];
      }
      if (e.lo > e.hi || e.hi >= sk.sk_zckey || clash !== null) {
        this.report({
          rule: 'identity.notification_ranges', kernel: false,
          check: 'notification ranges: lo <= hi < sk_zckey, and no id notified twice',
          message: `error queue entry [${e.lo}..${e.hi}]${clash ? ` overlaps [${clash[0]}..${clash[1]}] notified before` : ''} (sk_zckey ${sk.sk_zckey})`,
          values: { lo: e.lo, hi: e.hi, sk_zckey: sk.sk_zckey, overlaps_lo: clash?.[0] ?? -1, overlaps_hi: clash?.[1] ?? -1 },
        });
        break;
      }
      this.notified.set(e.lo, Math.max(e.hi, this.notified.get(e.lo) ?? -1));
    }
  }

  private zckey(view: ModelView): void {
    const sk = view.sk;
    const calls = sk.ledger.zc_calls >>> 0;
    if (sk.sk_zckey === calls) return;
    this.report({
      rule: 'identity.sk_zckey', kernel: false,
      check: 'sk_zckey = successful MSG_ZEROCOPY sendmsg calls',
      message: `sk_zckey ${sk.sk_zckey} after ${calls} successful MSG_ZEROCOPY call(s)`,
      values: { sk_zckey: sk.sk_zckey, zc_calls: calls },
    });
  }
}
