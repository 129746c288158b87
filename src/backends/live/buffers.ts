// User buffers for sends: one large private anonymous reservation without huge pages, handed
// out by a bump pointer so that every non-contiguous send starts on a fresh page (never
// reused within a run) and a contiguous one right after the previous send's last byte.
// Pages are prefaulted (MADV_POPULATE_WRITE) just before the send that uses them, and nothing
// is unmapped or modified until the run ends (the kernel may still read zerocopy pages).
import { UsageError } from '../../cli/errors.ts';
import { SendLayout } from '../../scenario/send_layout.ts';
import { MADV_POPULATE_WRITE, madvise, mmapAnon, munmap, poke } from './libc.ts';

/** Virtual size of the reservation: address space only, pages are faulted on use. */
const RESERVE_BYTES = 4 * 1024 * 1024 * 1024;
/** Scratch area for msghdr, iovecs and control messages. */
const SCRATCH_BYTES = 1 << 20;

export interface Segment {
  addr: number;
  len: number;
}

export class SendBuffers {
  readonly base: number;
  readonly scratch: number;
  private readonly layout = new SendLayout();

  constructor() {
    this.base = mmapAnon(RESERVE_BYTES);
    this.scratch = mmapAnon(SCRATCH_BYTES, true);
  }

  /** Lays out the segments of one send back to back; see the module comment. */
  place(lens: number[], offset: number, contiguous: boolean): Segment[] {
    const { segs, fresh } = this.layout.place(lens, offset, contiguous);
    const [from, to] = fresh;
    if (to > RESERVE_BYTES) {
      throw new UsageError(`the scenario's send buffers exceed the live backend's ${RESERVE_BYTES >> 30} GiB reservation`);
    }
    if (to > from) madvise(this.base + from, to - from, MADV_POPULATE_WRITE);
    return segs.map((s) => ({ addr: this.base + s.addr, len: s.len }));
  }

  /** Writes a msghdr for these segments into the scratch area; returns its address. */
  msghdr(segs: Segment[]): number {
    const iovAt = this.scratch + 64;
    if (64 + segs.length * 16 > SCRATCH_BYTES / 2) throw new UsageError(`too many iovec segments (${segs.length})`);
    const iov = Buffer.alloc(segs.length * 16);
    segs.forEach((s, i) => {
      iov.writeBigUInt64LE(BigInt(s.addr), i * 16);
      iov.writeBigUInt64LE(BigInt(s.len), i * 16 + 8);
    });
    poke(iovAt, iov);
    const hdr = Buffer.alloc(56);
    hdr.writeBigUInt64LE(BigInt(iovAt), 16);
    hdr.writeBigUInt64LE(BigInt(segs.length), 24);
    poke(this.scratch, hdr);
    return this.scratch;
  }

  /** A msghdr with no iovec and a control buffer, for recvmsg(MSG_ERRQUEUE). */
  errqueueMsghdr(): { msghdr: number; control: number; controlLen: number } {
    const control = this.scratch + SCRATCH_BYTES / 2;
    const controlLen = 4096;
    const hdr = Buffer.alloc(56);
    hdr.writeBigUInt64LE(BigInt(control), 32);
    hdr.writeBigUInt64LE(BigInt(controlLen), 40);
    poke(this.scratch, hdr);
    return { msghdr: this.scratch, control, controlLen };
  }

  release(): void {
    munmap(this.base, RESERVE_BYTES);
    munmap(this.scratch, SCRATCH_BYTES);
  }
}
