// A growable byte buffer the /metrics text is written into: no string per
// line and no rope to flatten, so 100k IP pairs (300k lines, ~30 MB) render
// in one pass over the pair table with one allocation (bench/ exposition).
export class TextWriter {
  private buf: Buffer;
  length = 0;

  constructor(capacity = 64 * 1024) {
    // Pages an over-estimate never touches never count towards RSS.
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Empty again, keeping the buffer: the metrics server reuses one across scrapes. */
  reset(): void {
    this.length = 0;
  }

  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Any text (help strings, label values): UTF-8. */
  string(s: string): void {
    this.reserve(s.length * 3);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  /** Text known to be ASCII (addresses, metric names), copied in place; the caller reserved room. */
  ascii(s: string): void {
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.length = at;
  }

  /**
   * Text known to be ASCII, in one call to Buffer.write: past ~20 characters
   * that beats ascii()'s loop (a pair's ~55-byte label: 3x, bench/ cost).
   * The caller reserved room (write() stops short rather than grow the buffer).
   */
  latin1(s: string): void {
    this.length += this.buf.write(s, this.length, 'latin1');
  }

  /** Bytes already encoded (a series' label text kept as bytes); the caller reserved room. */
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  byte(b: number): void {
    this.buf[this.length++] = b;
  }

  /**
   * A sample value as prom-client writes it (`${value}`): integers up to 2^53
   * digit by digit (the high part first: float division by 10 is inexact
   * above 2^49), anything else through its string. The caller reserved 24 bytes.
   */
  number(v: number): void {
    if (!(Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER)) {
      this.ascii(Number.isNaN(v) ? 'Nan' : Number.isFinite(v) ? `${v}` : v < 0 ? '-Inf' : '+Inf');
      return;
    }
    if (v < 1e8) {
      this.digits(v, 0);
      return;
    }
    let hi = Math.floor(v / 1e8);
    let lo = v - hi * 1e8;
    if (lo < 0) {
      hi--;
      lo += 1e8;
    }
    this.digits(hi, 0);
    this.digits(lo, 8);
  }

  /** v < 1e8 in decimal, left-padded with zeros to `width` digits. */
  private digits(v: number, width: number): void {
    let n = 1;
    for (let p = 10; p <= v; p *= 10) n++;
    if (n < width) n = width;
    const buf = this.buf;
    let at = this.length + n;
    this.length = at;
    for (let i = 0; i < n; i++) {
      const q = (v / 10) | 0;
      buf[--at] = 48 + v - q * 10;
      v = q;
    }
  }

  /** The buffer itself, for writers that fill room reserve() made and set `length` after. Valid until the next reserve(). */
  get buffer(): Buffer {
    return this.buf;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
