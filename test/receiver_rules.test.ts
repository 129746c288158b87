// The receiving peer's rules that differ by kernel version or that the link path's reader uses
// (src/profiles/rcv_window.ts, src/tcp/tcp.ts, src/tcp/tcp_input.ts), each against the kernel
// function it mirrors.
import { describe, expect, it } from 'vitest';
import { rcvWindowAdvWinScale, rcvWindowScalingRatio } from '../src/profiles/rcv_window.ts';
import { tcp_cleanup_rbuf, tcp_init_receiver } from '../src/tcp/tcp.ts';
import { tcp_epollin_ready } from '../src/tcp/tcp_input.ts';
import { tcp_full_space, tcp_win_from_space } from '../src/tcp/tcp_output.ts';
import { PROFILES } from '../src/profiles/index.ts';

// msg_zerocopy's receiver: SO_RCVBUF 1 << 21 capped by rmem_max and doubled; MTU 1500, advmss
// 1460 less the timestamp option
const rx5 = () => tcp_init_receiver(rcvWindowAdvWinScale, 2 * 212992, true, 1448, 1448, 6291456, 212992);
const rx6 = () => tcp_init_receiver(rcvWindowScalingRatio, 2 * (4 << 20), true, 1448, 1448, 32 << 20, 4 << 20);

describe('tcp_win_from_space by version', () => {
  it('5.x (tcp_adv_win_scale 1) offers half the buffer, 6.x scaling_ratio / 256 of it', () => {
    const r5 = rx5();
    const r6 = rx6();
    expect(tcp_win_from_space(r5, 425984)).toBe(212992);
    expect(tcp_win_from_space(r5, 1001)).toBe(501); // space - (space >> 1)
    expect(tcp_win_from_space(r6, 1024)).toBe(512); // default scaling_ratio 128
    r6.scaling_ratio = 174;
    expect(tcp_win_from_space(r6, 1024)).toBe(696);
    expect(tcp_full_space(r5)).toBe(212992);
  });
  it('the profiles choose them: every 5.x profile the adv_win_scale rule, 6.18 the scaling ratio', () => {
    for (const p of Object.values(PROFILES)) expect(p.rcv).toBe(p.name === '6.18' ? rcvWindowScalingRatio : rcvWindowAdvWinScale);
  });
});

describe('the handshake of a locked receive buffer (tcp_openreq_init_rwin, tcp_select_initial_window, tcp_init_buffer_space)', () => {
  it('5.x: the first window is at most U16_MAX, the scale is chosen from the locked space', () => {
    const r = rx5();
    expect(r.rcv_wnd).toBe(65535); // min(rounddown(212992, 1448), U16_MAX): the cap comes after the MSS rounding
    expect(r.rcv_wscale).toBe(2); // ilog2(212992) - 15
    expect(r.window_clamp).toBe(212992 - 1460); // tcp_init_buffer_space() runs before advmss loses the timestamp option
    expect(r.rcv_ssthresh).toBe(r.rcv_wnd);
  });
  it('6.18: the first window is the whole space, scale 7 for a 4 MiB window at ratio 128', () => {
    const r = rx6();
    const space = 4 << 20; // 8 MiB * 128 / 256
    expect(r.rcv_wnd).toBe(space - (space % 1448));
    expect(r.rcv_wscale).toBe(7); // ilog2(min(max(space, tcp_rmem[2], rmem_max), clamp = 4 MiB)) - 15
    expect(r.window_clamp).toBe(space - 1448); // 6.x: advmss without the timestamp option by then
  });
});

describe('the reader', () => {
  it('tcp_epollin_ready: rcvlowat bytes, or memory pressure, or a window of at most rcv_mss', () => {
    const r = rx6();
    r.rcv_mss = 1448;
    r.rcv_wnd = 1 << 20;
    r.rcv_nxt = 1000;
    expect(tcp_epollin_ready(r, 65536)).toBe(false);
    expect(tcp_epollin_ready(r, 1000)).toBe(true);
    r.rmem_alloc = r.rcvbuf - (r.rcvbuf >> 3) + 1; // tcp_rmem_pressure()
    expect(tcp_epollin_ready(r, 65536)).toBe(true);
    r.rmem_alloc = 0;
    r.rcv_wup = 0;
    r.rcv_wnd = 1448 + 1000; // what is left of it: 1448
    expect(tcp_epollin_ready(r, 65536)).toBe(true);
    r.copied_seq = 1000;
    expect(tcp_epollin_ready(r, 1)).toBe(false); // nothing queued
  });
  it('a recv ends in tcp_cleanup_rbuf(): a pending ACK goes out once more than an MSS is unacknowledged', () => {
    const r = rx6();
    r.rcv_mss = 1448;
    r.rcv_nxt = 3 * 1448;
    r.ackScheduled = true;
    r.copied_seq = 3 * 1448;
    const ack = tcp_cleanup_rbuf(r, 3 * 1448);
    expect(ack).not.toBeNull();
    expect(ack!.ack).toBe(3 * 1448);
    expect(r.ackScheduled).toBe(false);
    // nothing pending and the window did not shrink: no ACK
    expect(tcp_cleanup_rbuf(r, 100)).toBeNull();
  });
});
