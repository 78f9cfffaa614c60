const EMPTY = new Uint8Array(0);

/**
 * Bytes gathered across chunks, copied into one growing buffer so that many tiny
 * chunks cost no more memory than a few large ones (at most twice the bytes held).
 */
export class ByteAccumulator {
  private buf: Uint8Array = EMPTY;
  private used = 0;

  get length(): number {
    return this.used;
  }

  append(data: Uint8Array): void {
    const need = this.used + data.length;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2, 256));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    this.buf.set(data, this.used);
    this.used = need;
  }

  /** The bytes held so far; valid until the next append or take. */
  peek(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }

  /** A new array of the bytes held followed by `tail`; empties and frees the buffer. */
  take(tail: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.used + tail.length);
    out.set(this.buf.subarray(0, this.used));
    out.set(tail, this.used);
    this.buf = EMPTY;
    this.used = 0;
    return out;
  }
}
