// CIDR blocks and longest-prefix lookups over IPv4 and IPv6 address bytes,
// for the destinations file and the nodes' podCIDRs. Lists are short (tens of
// blocks): a scan over blocks sorted longest prefix first is enough, and the
// callers cache per address.
import { formatIPv4, formatIPv6, parseIP } from '../bpf/ip.js';

export interface Cidr {
  readonly text: string;
  readonly family: 4 | 6;
  readonly bytes: readonly number[];
  readonly prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^[0-9a-fA-F:]+$/;

/** Address bytes of `ip`, or undefined when it is not an IPv4 or IPv6 address. */
export function addressBytes(ip: string): number[] | undefined {
  const v4 = IPV4.exec(ip);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((o) => o <= 255) ? b : undefined;
  }
  if (!IPV6.test(ip) || !ip.includes(':') || ip.split('::').length > 2) return undefined;
  const b = parseIP(ip);
  return b.length === 16 && b.every((o) => Number.isInteger(o) && o >= 0 && o <= 255) ? b : undefined;
}

/** The agent's address text for an address (RFC 5952 for IPv6), as the pair labels write it. */
export function canonicalIP(ip: string): string | undefined {
  const b = addressBytes(ip);
  if (!b) return undefined;
  return b.length === 4 ? formatIPv4(Uint8Array.from(b), 0) : formatIPv6(Uint8Array.from(b), 0);
}

/** "10.0.0.0/8", "fd00::/8" or a bare address (a /32 or /128); throws with what is wrong. */
export function parseCidr(text: string): Cidr {
  const [addr = '', len, extra] = text.trim().split('/');
  const bytes = addressBytes(addr);
  if (!bytes || extra !== undefined) throw new Error(`${JSON.stringify(text)} is not a CIDR block such as 10.0.0.0/8 or fd00::/8`);
  const max = bytes.length * 8;
  const prefix = len === undefined ? max : /^\d+$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`${JSON.stringify(text)}: prefix length must be 0 to ${max}`);
  // Host bits are cleared: 10.1.2.3/8 means 10.0.0.0/8, as the kernel reads it.
  const masked = bytes.map((b, i) => {
    const bits = Math.min(8, Math.max(0, prefix - i * 8));
    return b & (0xff << (8 - bits)) & 0xff;
  });
  return { text: text.trim(), family: bytes.length === 4 ? 4 : 6, bytes: masked, prefix };
}

export function contains(c: Cidr, addr: ArrayLike<number>): boolean {
  if (addr.length !== c.bytes.length) return false;
  let bits = c.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[i]! ^ c.bytes[i]!) & mask) !== 0) return false;
  }
  return true;
}

/** Blocks with a value each; lookup() returns the value of the longest matching prefix. */
export class CidrTable<T> {
  private entries: { cidr: Cidr; value: T }[] = [];

  add(cidr: Cidr, value: T): void {
    // Kept sorted longest prefix first: inserted after the last entry at least as long.
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1]!.cidr.prefix < cidr.prefix) i--;
    this.entries.splice(i, 0, { cidr, value });
  }

  get size(): number {
    return this.entries.length;
  }

  lookup(addr: ArrayLike<number>): T | undefined {
    for (const e of this.entries) if (contains(e.cidr, addr)) return e.value;
    return undefined;
  }
}

const PRIVATE = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16',
  '0.0.0.0/8', '192.0.0.0/24', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
  'fc00::/7', 'fe80::/10', '::1/128', '::/128', 'ff00::/8',
].map(parseCidr);

/**
 * Not routable on the internet: RFC 1918, CGNAT, loopback, link-local, ULA,
 * multicast, reserved. Such an address that is neither known to the cluster
 * nor listed in the destinations file is `unknown`, never `internet` or
 * in-zone: guessing either way is the mistake users report of other tools.
 */
export function isPrivate(addr: ArrayLike<number>): boolean {
  return PRIVATE.some((c) => contains(c, addr));
}
