// Where the bytes of each `send` live in the sender's memory, the same on every backend (page
// identity decides whether zerocopy frags share a page): a non-contiguous send starts on a
// fresh page (never reused in the run) plus its `offset`; `contiguous: true` starts right
// after the previous send's last byte; `iov` segments follow each other. Addresses are
// offsets from the start of the run's buffer area; the page after a send's last byte is never
// handed to a later non-contiguous send.
export const LAYOUT_PAGE_SIZE = 4096;

export interface PlacedSegment {
  addr: number;
  len: number;
}

export class SendLayout {
  /** First page-aligned offset not yet used. */
  private next = 0;
  /** Offset just past the previous send's last byte (for `contiguous`). */
  private prevEnd: number | null = null;

  /** Lays out one send; `fresh` is the range of offsets newly taken into use (to prefault). */
  place(lens: readonly number[], offset: number, contiguous: boolean): { segs: PlacedSegment[]; fresh: [number, number] } {
    let at = contiguous && this.prevEnd !== null ? this.prevEnd : this.next + offset;
    const segs = lens.map((len) => {
      const s = { addr: at, len };
      at += len;
      return s;
    });
    this.prevEnd = at;
    const used = Math.ceil(at / LAYOUT_PAGE_SIZE) * LAYOUT_PAGE_SIZE;
    const from = this.next;
    if (used > this.next) this.next = used;
    return { segs, fresh: [from, this.next] };
  }
}
