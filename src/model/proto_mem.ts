// Protocol-wide memory state: tcp_memory_allocated, tcp_mem[3] and the pressure flag
// (net/core/sock.c, net/ipv4/tcp.c tcp_enter/leave_memory_pressure, include/net/proto_memory.h),
// and the memory cgroup's "sock" counter (mm/memcontrol.c mem_cgroup_charge_skmem /
// mem_cgroup_sk_charge), 5.15 .. 6.18.

/** A memory cgroup as seen by socket accounting: MEMCG_SOCK pages. */
export class Memcg {
  /** memory.stat "sock" / PAGE_SIZE, or v1 memory.kmem.tcp.usage_in_bytes / PAGE_SIZE. */
  sock_pages = 0;
  /** Optional limit in pages (memory.kmem.tcp.limit_in_bytes / memory.max); null = unlimited. */
  limit_pages: number | null = null;

  /** mem_cgroup_charge_skmem(): false when over the limit (the caller then suppresses). */
  try_charge(pages: number): boolean {
    if (this.limit_pages !== null && this.sock_pages + pages > this.limit_pages) return false;
    this.sock_pages += pages;
    return true;
  }

  /** __GFP_NOFAIL charge (sk_forced_mem_schedule, the suppress "force" branch). */
  force_charge(pages: number): void {
    this.sock_pages += pages;
  }

  uncharge(pages: number): void {
    this.sock_pages -= pages;
  }
}

const SK_ALLOC_PERCPU_COUNTER_BATCH = 16;

/**
 * tcp_prot's memory fields. `memory_allocated` is the global atomic the limits compare against;
 * with a per-CPU reserve (6.0+, sk_memory_allocated_add/sub in include/net/proto_memory.h) a
 * CPU's delta reaches it only once it crosses +-mem_pcpu_rsv pages. The model runs every socket
 * on one CPU, so one per-CPU slot suffices.
 */
export class TcpProto {
  memory_allocated = 0;
  per_cpu_fw_alloc = 0;
  /** tcp_memory_pressure: jiffies when entered, 0 when not under pressure. Simulated ms here. */
  memory_pressure = false;
  /** tcp_sockets_allocated, exactly (for reports). */
  sockets_allocated = 0;
  /**
   * The same percpu_counter as the kernel reads it: sk_sockets_allocated_inc() adds to this
   * CPU's count and moves it to the global count only once it reaches
   * SK_ALLOC_PERCPU_COUNTER_BATCH (16); percpu_counter_read_positive() sees the global count.
   * The model runs every socket on one CPU.
   */
  private sockets_pcpu = 0;
  private sockets_global = 0;
  /** Pages ever entered into pressure (for reports). */
  pressure_entries = 0;

  constructor(
    public tcp_mem: [number, number, number],
    private readonly pcpu_rsv_pages: number | null,
  ) {}

  /** sk_sockets_allocated_inc() (include/net/sock.h, 5.17 and 6.18): percpu_counter_add_batch(1, 16). */
  sk_sockets_allocated_inc(): void {
    this.sockets_allocated++;
    this.sockets_pcpu++;
    if (Math.abs(this.sockets_pcpu) >= SK_ALLOC_PERCPU_COUNTER_BATCH) {
      this.sockets_global += this.sockets_pcpu;
      this.sockets_pcpu = 0;
    }
  }

  /** sk_sockets_allocated_read_positive(): the global count, never below 0 (so 0 with fewer than 16 sockets). */
  sockets_allocated_read_positive(): number {
    return Math.max(0, this.sockets_global);
  }

  /** sk_memory_allocated_add() */
  add(pages: number): void {
    if (this.pcpu_rsv_pages === null) {
      this.memory_allocated += pages;
      return;
    }
    this.per_cpu_fw_alloc += pages;
    if (this.per_cpu_fw_alloc >= this.pcpu_rsv_pages) this.flush();
  }

  /** sk_memory_allocated_sub() */
  sub(pages: number): void {
    if (this.pcpu_rsv_pages === null) {
      this.memory_allocated -= pages;
      return;
    }
    this.per_cpu_fw_alloc -= pages;
    if (this.per_cpu_fw_alloc <= -this.pcpu_rsv_pages) this.flush();
  }

  private flush(): void {
    this.memory_allocated += this.per_cpu_fw_alloc;
    this.per_cpu_fw_alloc = 0;
  }

  /** The exact total (global + per-CPU), what /proc/net/sockstat would show after a drain. */
  get exact_pages(): number {
    return this.memory_allocated + this.per_cpu_fw_alloc;
  }

  enter_memory_pressure(): void {
    if (!this.memory_pressure) this.pressure_entries++;
    this.memory_pressure = true;
  }

  leave_memory_pressure(): void {
    this.memory_pressure = false;
  }
}
