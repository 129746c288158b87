// The SKBFL_PURE_ZEROCOPY policies (see §5.1 of the accounting reference):
// P0 = up to 5.15 (double accounting), P1 = f1a456f8f3fc (reverted by 84882cf72cd7),
// P2 = 9b65b17db723 (5.16), P2+ = P2 with 479f5547239d and f8d9d938514f (5.17, 6.x).
import { SKB_TRUESIZE } from '../model/skb_geometry.ts';
import type { PureZerocopyPolicy } from './types.ts';

/** The honest head cost: SKB_TRUESIZE(skb_end_offset(skb)). */
const realHead = (end: number) => SKB_TRUESIZE(end);

export const policyP0: PureZerocopyPolicy = {
  name: 'P0',
  marksPure: false,
  allocTruesize: realHead,
  pureFreeUncharge: (skb) => skb.truesize, // never reached: P0 has no pure skbs
  downgradeCharge: () => 0,
  spliceDowngrades: false,
  splitCopiesPure: false,
};

export const policyP1: PureZerocopyPolicy = {
  name: 'P1',
  marksPure: true,
  // tcp_stream_alloc_skb() forced truesize = SKB_TRUESIZE(size + MAX_TCP_HEADER) whatever the slab gave
  allocTruesize: (_end, size, cfg) => SKB_TRUESIZE(size + cfg.max_tcp_header),
  pureFreeUncharge: (_skb, cfg) => SKB_TRUESIZE(cfg.max_tcp_header),
  downgradeCharge: (skb) => skb.data_len,
  spliceDowngrades: false,
  splitCopiesPure: true,
};

export const policyP2: PureZerocopyPolicy = {
  name: 'P2',
  marksPure: true,
  allocTruesize: realHead,
  pureFreeUncharge: (skb) => SKB_TRUESIZE(skb.end_offset),
  downgradeCharge: (skb) => skb.data_len,
  spliceDowngrades: false,
  splitCopiesPure: true,
};

export const policyP2Fixed: PureZerocopyPolicy = {
  ...policyP2,
  name: 'P2+',
  // 479f5547239d: zerocopy truesize is page aligned, so charge truesize minus the head
  downgradeCharge: (skb) => skb.truesize - SKB_TRUESIZE(skb.end_offset),
  spliceDowngrades: true,
};
