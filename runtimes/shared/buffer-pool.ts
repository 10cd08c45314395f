/**
 * Free buffers of one size, kept for the next body instead of allocated fresh: a fresh buffer
 * costs page faults on first use (on this VM's lazily backed memory, ~1-2 ms for 4 MiB).
 * Bounded by bytes, so idle memory stays small; a buffer of another size is never kept.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    readonly size: number,
    private readonly maxBytes: number,
  ) {}

  /** A free buffer of `size` bytes, if one is kept. */
  take(): ArrayBuffer | undefined {
    return this.free.pop();
  }

  /** Keep `buffer` for a later `take`; nothing may read or write it any more. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.size && (this.free.length + 1) * this.size <= this.maxBytes) this.free.push(buffer);
  }
}
