// A sending host for link experiments: one network namespace (tcp_mem, sysctls), one memory
// cgroup holding every socket the workload opens, one NIC, and the flows to host B.
import { UsageError } from '../cli/errors.ts';
import { CONGESTION_CONTROLS } from '../engine/cc.ts';
import type { EventQueue } from '../engine/queue.ts';
import { resetSkbIds } from '../model/skbuff.ts';
import { newNetContext, setSndbuf, Sock, type NetContext } from '../model/sock.ts';
import { LinkFlow, Nic, type FlowOptions, type LinkParams } from '../paths/link.ts';
import { getProfile, resolveConfig } from '../profiles/index.ts';
import type { KernelConfig, NetSysctls } from '../profiles/types.ts';

export interface HostOptions {
  kernel: string;
  sysctl?: Partial<NetSysctls>;
  config?: Partial<KernelConfig>;
  link: LinkParams;
  cc: string;
}

export class Host {
  readonly net: NetContext;
  readonly nic: Nic;
  readonly flows: LinkFlow[] = [];

  constructor(
    readonly q: EventQueue,
    readonly opts: HostOptions,
  ) {
    resetSkbIds();
    const profile = getProfile(opts.kernel);
    const sysctl: NetSysctls = { ...profile.sysctlDefaults, ...(opts.sysctl ?? {}) };
    const cfg = resolveConfig(profile, opts.config ?? {});
    this.net = newNetContext(profile, cfg, sysctl);
    this.nic = new Nic(opts.link.rate_bps);
    if (CONGESTION_CONTROLS[opts.cc] === undefined) {
      throw new UsageError(`unknown congestion control "${opts.cc}" (expected ${Object.keys(CONGESTION_CONTROLS).join(' or ')})`);
    }
  }

  /** socket() + setsockopt() + connect(): a new flow; `sndbuf` null keeps autotuning. */
  openFlow(o: { sndbuf: number | null; zerocopy: boolean; flow: FlowOptions }): LinkFlow {
    const sk = new Sock(this.net, this.flows.length + 1);
    this.net.proto.sk_sockets_allocated_inc();
    if (o.sndbuf !== null) setSndbuf(sk, o.sndbuf, false);
    sk.zerocopy = o.zerocopy;
    const flow = new LinkFlow(this.q, sk, this.nic, this.opts.link, CONGESTION_CONTROLS[this.opts.cc](), o.flow);
    this.flows.push(flow);
    return flow;
  }

  /** memory.stat "sock" of the host's cgroup, bytes (exact: the per-raise MEMCG_SOCK charge). */
  memcgSockBytes(): number {
    return (this.net.memcg?.sock_pages ?? 0) * 4096;
  }
}
