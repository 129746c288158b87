// Transmit rules that changed between the 5.x profiles and 6.18, each read from the source
// (5.17 6d28e3552c15, 6.18 bd3afa6f0): net/ipv4/tcp_output.c tcp_small_queue_check() (6.x sends
// while the rtx queue is empty or holds a single skb: tcp_rtx_queue_empty_or_single_skb()),
// tcp_tso_should_defer() (6.x: the ACK must be due within min(srtt / 2, 1 ms)), and
// net/ipv4/tcp.c tcp_should_autocork() (6.x also asks tcp_skb_can_collapse_to(): no EOR), and
// tcp_cwnd_test() (5.x lets a one-segment FIN skb past a full cwnd).
import type { TcpOutputRules } from './types.ts';

export const tcpOutput5x: TcpOutputRules = {
  name: '5.x tcp_output',
  tsqSendsUpToRtxSkbs: 0,
  deferAckWaitCapNs: Infinity,
  autocorkChecksEor: false,
  finIgnoresCwnd: true,
  tlpAddsRouteRtoMin: false,
};

export const tcpOutput618: TcpOutputRules = {
  name: '6.18 tcp_output',
  tsqSendsUpToRtxSkbs: 1,
  deferAckWaitCapNs: 1e6,
  autocorkChecksEor: true,
  finIgnoresCwnd: false,
  tlpAddsRouteRtoMin: true,
};
