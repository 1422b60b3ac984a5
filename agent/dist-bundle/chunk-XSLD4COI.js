// agent/dist/bpf/ip.js
function formatIPv4(buf, offset) {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}
function formatIPv6(buf, offset) {
  const groups = new Array(8);
  for (let i = 0; i < 8; i++)
    groups[i] = buf[offset + i * 2] << 8 | buf[offset + i * 2 + 1];
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0)
      j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from, to) => groups.slice(from, to).map((g) => g.toString(16)).join(":");
  if (bestStart < 0)
    return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
function parseIP(ip) {
  if (!ip.includes(":"))
    return ip.split(".").map(Number);
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 255];
  });
}

// agent/dist/cost/cidr.js
var IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
var IPV6 = /^[0-9a-fA-F:]+$/;
function addressBytes(ip) {
  const v4 = IPV4.exec(ip);
  if (v4) {
    const b2 = v4.slice(1).map(Number);
    return b2.every((o) => o <= 255) ? b2 : void 0;
  }
  if (!IPV6.test(ip) || !ip.includes(":") || ip.split("::").length > 2)
    return void 0;
  const b = parseIP(ip);
  return b.length === 16 && b.every((o) => Number.isInteger(o) && o >= 0 && o <= 255) ? b : void 0;
}
function canonicalIP(ip) {
  const b = addressBytes(ip);
  if (!b)
    return void 0;
  return b.length === 4 ? formatIPv4(Uint8Array.from(b), 0) : formatIPv6(Uint8Array.from(b), 0);
}
function parseCidr(text) {
  const [addr = "", len, extra] = text.trim().split("/");
  const bytes = addressBytes(addr);
  if (!bytes || extra !== void 0)
    throw new Error(`${JSON.stringify(text)} is not a CIDR block such as 10.0.0.0/8 or fd00::/8`);
  const max = bytes.length * 8;
  const prefix = len === void 0 ? max : /^\d+$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max))
    throw new Error(`${JSON.stringify(text)}: prefix length must be 0 to ${max}`);
  const masked = bytes.map((b, i) => {
    const bits = Math.min(8, Math.max(0, prefix - i * 8));
    return b & 255 << 8 - bits & 255;
  });
  return { text: text.trim(), family: bytes.length === 4 ? 4 : 6, bytes: masked, prefix };
}
function contains(c, addr) {
  if (addr.length !== c.bytes.length)
    return false;
  let bits = c.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 255 : 255 << 8 - bits & 255;
    if (((addr[i] ^ c.bytes[i]) & mask) !== 0)
      return false;
  }
  return true;
}
var CidrTable = class {
  entries = [];
  add(cidr, value) {
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1].cidr.prefix < cidr.prefix)
      i--;
    this.entries.splice(i, 0, { cidr, value });
  }
  get size() {
    return this.entries.length;
  }
  lookup(addr) {
    for (const e of this.entries)
      if (contains(e.cidr, addr))
        return e.value;
    return void 0;
  }
};
var PRIVATE = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "0.0.0.0/8",
  "192.0.0.0/24",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "fc00::/7",
  "fe80::/10",
  "::1/128",
  "::/128",
  "ff00::/8"
].map(parseCidr);
function isPrivate(addr) {
  return PRIVATE.some((c) => contains(c, addr));
}

export {
  formatIPv4,
  formatIPv6,
  addressBytes,
  canonicalIP,
  parseCidr,
  CidrTable,
  isPrivate
};
