// Accounting identities of socket memory (ref. §2.1, §2.7, §2.8):
// - per socket: pages scheduled minus pages reclaimed = sk_forward_alloc + bytes charged
//   (net of bytes uncharged), in bytes; and the socket's page count is that difference (it can
//   go negative when a policy uncharges more than it charged: the kernel then reclaims pages it
//   never scheduled, which is a symptom of the bug, not a broken identity);
// - tcp_memory_allocated = sum over sockets of their pages; with the 6.x per-CPU reserve
//   (include/net/proto_memory.h) the global counter plus the CPU's cache is the sum, and the
//   cache stays strictly inside +-net.core.mem_pcpu_rsv;
// - the memcg's "sock" counter = sum of the pages of its sockets.
import { PAGE_SIZE } from '../model/skb_geometry.ts';
import type { Step } from '../scenario/schema.ts';
import { BaseChecker } from './base.ts';
import type { ModelView } from './types.ts';

export class MemIdentityChecker extends BaseChecker {
  readonly name = 'identity: pages scheduled/reclaimed, tcp_memory_allocated, memcg sock';

  protected check(view: ModelView, _index: number, _step: Step | null): void {
    this.ledger(view);
    this.protocol(view);
    this.memcg(view);
  }

  private ledger(view: ModelView): void {
    const { sk_forward_alloc: fwd, ledger: l, mem_pages } = view.sk;
    const net_pages = l.scheduled_pages - l.reclaimed_pages;
    const lhs = net_pages * PAGE_SIZE;
    const rhs = fwd + l.charged - l.uncharged;
    if (lhs !== rhs) {
      this.report({
        rule: 'identity.forward_alloc', kernel: false,
        check: '(pages scheduled - pages reclaimed) * 4096 = sk_forward_alloc + (bytes charged - bytes uncharged)',
        message: `${l.scheduled_pages} - ${l.reclaimed_pages} pages = ${lhs} bytes, but fwd ${fwd} + charged ${l.charged} - uncharged ${l.uncharged} = ${rhs}`,
        values: { scheduled_pages: l.scheduled_pages, reclaimed_pages: l.reclaimed_pages, fwd_alloc: fwd, charged: l.charged, uncharged: l.uncharged },
      });
    }
    if (mem_pages !== net_pages) {
      this.report({
        rule: 'identity.socket_pages', kernel: false,
        check: "socket's pages = pages scheduled - pages reclaimed",
        message: `socket holds ${mem_pages} pages but scheduled - reclaimed = ${net_pages}`,
        values: { mem_pages, scheduled_pages: l.scheduled_pages, reclaimed_pages: l.reclaimed_pages },
      });
    }
  }

  private protocol(view: ModelView): void {
    const { proto, sysctl } = view.net;
    const sum = view.sk.mem_pages;
    const total = proto.memory_allocated + proto.per_cpu_fw_alloc;
    if (total !== sum) {
      this.report({
        rule: 'identity.tcp_memory_allocated', kernel: false,
        check: 'tcp_memory_allocated (+ per-CPU reserve) = sum over sockets of their pages',
        message: `tcp_memory_allocated ${proto.memory_allocated} + per-CPU ${proto.per_cpu_fw_alloc} = ${total} pages, sockets hold ${sum}`,
        values: { memory_allocated: proto.memory_allocated, per_cpu_fw_alloc: proto.per_cpu_fw_alloc, sum_socket_pages: sum },
      });
    }
    const rsv = view.profile.mem.perCpuReserve ? sysctl['net.core.mem_pcpu_rsv'] : 0;
    const cache = proto.per_cpu_fw_alloc;
    const inRange = rsv === 0 ? cache === 0 : cache > -rsv && cache < rsv;
    if (!inRange) {
      this.report({
        rule: 'identity.per_cpu_reserve', kernel: false,
        check: rsv === 0 ? 'no per-CPU tcp_memory_allocated cache before 6.0' : '-mem_pcpu_rsv < per-CPU tcp_memory_allocated cache < mem_pcpu_rsv',
        message: `per-CPU cache ${cache} pages with mem_pcpu_rsv ${rsv}`,
        values: { per_cpu_fw_alloc: cache, mem_pcpu_rsv: rsv },
      });
    }
  }

  private memcg(view: ModelView): void {
    const memcg = view.net.memcg;
    if (memcg === null) return;
    const sum = view.sk.mem_pages;
    if (memcg.sock_pages === sum) return;
    this.report({
      rule: 'identity.memcg_sock', kernel: false,
      check: 'memcg "sock" pages = sum over its sockets of their pages',
      message: `memcg sock ${memcg.sock_pages} pages, its sockets hold ${sum}`,
      values: { memcg_sock_pages: memcg.sock_pages, sum_socket_pages: sum },
    });
  }
}
