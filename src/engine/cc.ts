// Pluggable congestion control (struct tcp_congestion_ops): reno and cubic.
// Mirrors net/ipv4/tcp_cong.c (tcp_reno_cong_avoid, tcp_slow_start, tcp_cong_avoid_ai,
// tcp_reno_ssthresh) and net/ipv4/tcp_cubic.c (bictcp_update, cubictcp_cong_avoid,
// cubictcp_recalc_ssthresh; fast convergence on, tcp_friendliness on, HyStart off — see
// README "What the link engine leaves out"). Written from the kernel source, not copied.

/** The tcp_sock fields congestion control reads and writes. */
export interface CcSock {
  snd_cwnd: number;
  snd_ssthresh: number;
  /** snd_cwnd_cnt: fractional progress of additive increase. */
  snd_cwnd_cnt: number;
  /** tcp_is_cwnd_limited(): only a cwnd-limited flow grows its window. */
  cwndLimited: boolean;
  /** Smoothed RTT, ns (for cubic's delay_min / tcp-friendliness). */
  srtt_ns: number;
}

export interface CongestionControl {
  readonly name: string;
  /** .cong_avoid(sk, ack, acked) */
  congAvoid(tp: CcSock, acked: number, nowNs: number): void;
  /** .ssthresh(sk): the slow-start threshold after a loss. */
  ssthresh(tp: CcSock): number;
  /** .set_state(TCP_CA_Loss) / cwnd_event on RTO: reset per-epoch state. */
  onLoss(nowNs: number): void;
}

export const TCP_INFINITE_SSTHRESH = 0x7fffffff;

/** tcp_slow_start(): cwnd += acked up to ssthresh; returns the acked packets left over. */
export function tcp_slow_start(tp: CcSock, acked: number): number {
  const cwnd = Math.min(tp.snd_cwnd + acked, tp.snd_ssthresh);
  acked -= cwnd - tp.snd_cwnd;
  tp.snd_cwnd = cwnd;
  return acked;
}

/** tcp_cong_avoid_ai(): one packet per w acked packets. */
export function tcp_cong_avoid_ai(tp: CcSock, w: number, acked: number): void {
  if (tp.snd_cwnd_cnt >= w) {
    tp.snd_cwnd_cnt = 0;
    tp.snd_cwnd++;
  }
  tp.snd_cwnd_cnt += acked;
  if (tp.snd_cwnd_cnt >= w) {
    const delta = Math.floor(tp.snd_cwnd_cnt / w);
    tp.snd_cwnd_cnt -= delta * w;
    tp.snd_cwnd += delta;
  }
}

export function reno(): CongestionControl {
  return {
    name: 'reno',
    // tcp_reno_cong_avoid()
    congAvoid(tp, acked) {
      if (!tp.cwndLimited) return;
      if (tp.snd_cwnd < tp.snd_ssthresh) {
        acked = tcp_slow_start(tp, acked);
        if (!acked) return;
      }
      tcp_cong_avoid_ai(tp, tp.snd_cwnd, acked);
    },
    // tcp_reno_ssthresh()
    ssthresh: (tp) => Math.max(tp.snd_cwnd >> 1, 2),
    onLoss() {},
  };
}

const BICTCP_BETA_SCALE = 1024;
const BETA = 717; // beta = 717/1024 ~ 0.7
const BIC_SCALE = 41;

/** cubic with the kernel's constants: C = 0.4 (bic_scale 41 / 1024), beta 0.7, fast convergence. */
export function cubic(): CongestionControl {
  let last_max_cwnd = 0;
  let last_cwnd = 0;
  let last_time = 0;
  let bic_origin_point = 0;
  let bic_K = 0; // seconds
  let epoch_start = -1; // ns
  let ack_cnt = 0;
  let tcp_cwnd = 0;
  let cnt = 0;
  let delay_min = 0; // ns

  const reset = () => {
    last_max_cwnd = 0;
    last_cwnd = 0;
    last_time = 0;
    epoch_start = -1;
    ack_cnt = 0;
    tcp_cwnd = 0;
  };

  /** bictcp_update(): cnt = packets to ACK before cwnd grows by one. */
  const update = (tp: CcSock, cwnd: number, acked: number, now: number) => {
    ack_cnt += acked;
    // (s32)(tcp_jiffies32 - ca->last_time) <= HZ / 32: at most one update per 1/32 s at the same cwnd
    if (last_cwnd === cwnd && now - last_time <= 1e9 / 32) return;
    last_cwnd = cwnd;
    last_time = now;
    if (epoch_start < 0) {
      epoch_start = now;
      ack_cnt = acked;
      tcp_cwnd = cwnd;
      if (last_max_cwnd <= cwnd) {
        bic_K = 0;
        bic_origin_point = cwnd;
      } else {
        // K = cubic_root((W_max - cwnd) / C), C = bic_scale / 1024 * 10 (cube_factor)
        bic_K = Math.cbrt(((last_max_cwnd - cwnd) * 1024) / (BIC_SCALE * 10));
        bic_origin_point = last_max_cwnd;
      }
    }
    // t = elapsed since the epoch plus delay_min, in seconds
    const t = (now - epoch_start + delay_min) / 1e9;
    const offs = Math.abs(t - bic_K);
    const delta = ((BIC_SCALE * 10) / 1024) * offs * offs * offs;
    const target = t < bic_K ? bic_origin_point - delta : bic_origin_point + delta;
    if (target > cwnd) cnt = cwnd / (target - cwnd);
    else cnt = 100 * cwnd;
    if (last_max_cwnd === 0 && cnt > 20) cnt = 20;
    // tcp_friendliness: the Reno-equivalent window
    const scale = (8 * (BICTCP_BETA_SCALE + BETA)) / 3 / (BICTCP_BETA_SCALE - BETA);
    const delta2 = (cwnd * scale) / 8;
    while (ack_cnt > delta2) {
      ack_cnt -= delta2;
      tcp_cwnd++;
    }
    if (tcp_cwnd > cwnd) {
      const maxCnt = cwnd / (tcp_cwnd - cwnd);
      if (cnt > maxCnt) cnt = maxCnt;
    }
    cnt = Math.max(Math.floor(cnt), 2);
  };

  return {
    name: 'cubic',
    // cubictcp_cong_avoid()
    congAvoid(tp, acked, now) {
      if (tp.srtt_ns > 0 && (delay_min === 0 || tp.srtt_ns < delay_min)) delay_min = tp.srtt_ns;
      if (!tp.cwndLimited) return;
      if (tp.snd_cwnd < tp.snd_ssthresh) {
        acked = tcp_slow_start(tp, acked);
        if (!acked) return;
      }
      update(tp, tp.snd_cwnd, acked, now);
      tcp_cong_avoid_ai(tp, cnt, acked);
    },
    // cubictcp_recalc_ssthresh(): fast convergence
    ssthresh(tp) {
      epoch_start = -1;
      if (tp.snd_cwnd < last_max_cwnd) last_max_cwnd = Math.floor((tp.snd_cwnd * (BICTCP_BETA_SCALE + BETA)) / (2 * BICTCP_BETA_SCALE));
      else last_max_cwnd = tp.snd_cwnd;
      return Math.max(Math.floor((tp.snd_cwnd * BETA) / BICTCP_BETA_SCALE), 2);
    },
    onLoss() {
      reset();
    },
  };
}

export const CONGESTION_CONTROLS: Record<string, () => CongestionControl> = { cubic, reno };
