// The receiver's window arithmetic and quick-ACK bookkeeping, which changed between the 5.x
// profiles and 6.18: include/net/tcp.h tcp_win_from_space() (tcp_adv_win_scale until 6.6,
// scaling_ratio since dfa2f0483360 "tcp: get rid of sysctl_tcp_adv_win_scale"),
// net/ipv4/tcp_input.c tcp_measure_rcv_mss(), and tcp_dec_quickack_mode() (include/net/tcp.h in
// 5.17, net/ipv4/tcp_output.c in 6.18) and tcp_select_initial_window()'s first offer.
// 5.17 is read at 6d28e3552c15, 6.18 at bd3afa6f0.
import type { RcvWindowPolicy } from './types.ts';

/** 5.x: sysctl_tcp_adv_win_scale = 1, so a buffer offers half of itself (space - space >> 1). */
export const rcvWindowAdvWinScale: RcvWindowPolicy = {
  name: 'tcp_adv_win_scale 1 (5.x)',
  winFromSpace: (_ratio, space) => space - (space >> 1),
  learnsScalingRatio: false,
  pushedOnFullSegment: false,
  quickAckCountsOnlyScheduled: false,
  initialWindowMax: 65535,
  clampAdvmssHasTimestamps: true,
};

/** 6.6+: the window is space * scaling_ratio / 256, the ratio learnt from len / truesize of full-sized segments. */
export const rcvWindowScalingRatio: RcvWindowPolicy = {
  name: 'scaling_ratio (6.6+)',
  winFromSpace: (ratio, space) => Math.floor((space * ratio) / 256),
  learnsScalingRatio: true,
  pushedOnFullSegment: true,
  quickAckCountsOnlyScheduled: true,
  initialWindowMax: Infinity,
  clampAdvmssHasTimestamps: false,
};
