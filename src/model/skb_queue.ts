// The retransmit queue (tcp_rtx_queue): skbs in sequence order, freed from the head as ACKs
// arrive, appended at the tail as tcp_event_new_data_sent() moves them out of the write queue.
// The kernel keeps it in an rb-tree (tcp_rtx_queue_head/tail, tcp_rtx_queue_unlink); the model
// only needs its order, its head, its tail, removal at an index (retransmit collapsing) and
// insertion after an skb (a retransmission split by tcp_fragment()), so a
// ring buffer serves: taking the head is O(1) where Array.prototype.shift/splice copy the array.
import type { SkBuff } from './skbuff.ts';

export class SkbQueue implements Iterable<SkBuff> {
  private buf: (SkBuff | undefined)[] = new Array(64);
  private head = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  /** The i-th skb from the head (0 = tcp_rtx_queue_head), or undefined past the end. */
  at(i: number): SkBuff | undefined {
    if (i < 0 || i >= this.n) return undefined;
    return this.buf[(this.head + i) & (this.buf.length - 1)];
  }

  /** tcp_rtx_queue_tail() */
  last(): SkBuff | undefined {
    return this.n === 0 ? undefined : this.buf[(this.head + this.n - 1) & (this.buf.length - 1)];
  }

  /** Append at the tail (tcp_rbtree_insert of the newest skb). */
  push(skb: SkBuff): void {
    if (this.n === this.buf.length) this.grow();
    this.buf[(this.head + this.n) & (this.buf.length - 1)] = skb;
    this.n++;
  }

  /** Unlink the head (tcp_rtx_queue_unlink of the oldest skb). */
  shift(): SkBuff | undefined {
    if (this.n === 0) return undefined;
    const skb = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.n--;
    return skb;
  }

  /** Unlink the i-th skb (tcp_rtx_queue_unlink of a collapsed skb); later ones move up. */
  removeAt(i: number): void {
    if (i < 0 || i >= this.n) return;
    const mask = this.buf.length - 1;
    for (let k = i; k < this.n - 1; k++) this.buf[(this.head + k) & mask] = this.buf[(this.head + k + 1) & mask];
    this.buf[(this.head + this.n - 1) & mask] = undefined;
    this.n--;
  }

  /** Link `skb` in at index i (0..length), later ones move down (tcp_fragment's tcp_insert_write_queue_after on the rtx queue). */
  insertAt(i: number, skb: SkBuff): void {
    if (i < 0 || i > this.n) throw new Error(`SkbQueue.insertAt(${i}) outside 0..${this.n}`);
    if (this.n === this.buf.length) this.grow();
    const mask = this.buf.length - 1;
    for (let k = this.n; k > i; k--) this.buf[(this.head + k) & mask] = this.buf[(this.head + k - 1) & mask];
    this.buf[(this.head + i) & mask] = skb;
    this.n++;
  }

  /** Unlink everything, oldest first (tcp_rtx_queue_purge). */
  drain(): SkBuff[] {
    const out: SkBuff[] = [];
    while (this.n > 0) out.push(this.shift()!);
    return out;
  }

  *[Symbol.iterator](): Iterator<SkBuff> {
    for (let i = 0; i < this.n; i++) yield this.at(i)!;
  }

  /** Double the ring, unrolled so that the head is at 0. */
  private grow(): void {
    const cap = this.buf.length;
    const next: (SkBuff | undefined)[] = new Array(cap * 2);
    for (let k = 0; k < this.n; k++) next[k] = this.buf[(this.head + k) & (cap - 1)];
    this.buf = next;
    this.head = 0;
  }
}
