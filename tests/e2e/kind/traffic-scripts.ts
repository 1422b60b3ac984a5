// The programs the client and server pods run (with `node -e`, in the agent
// image, which the cluster already has). They live here as text so the harness
// test can run the very same code on loopback.

/**
 * node -e SERVER_SCRIPT <tcpPort> <udpPort> <families: "4" or "4,6">
 * Sinks TCP and UDP; prints one JSON line per finished TCP connection and, 300 ms
 * after the last datagram from a source, that source's UDP totals.
 */
export const SERVER_SCRIPT = `
const net = require('node:net'), dgram = require('node:dgram');
const [tcpPort, udpPort, families] = process.argv.slice(1);
const udp = new Map();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let pending = 0;
const bound = () => { if (--pending === 0) say({ listening: true }); };
for (const f of families.split(',')) {
  const host = f === '6' ? '::' : '0.0.0.0';
  pending += 2;
  net.createServer((s) => {
    let bytes = 0;
    s.on('data', (d) => { bytes += d.length; });
    s.on('end', () => { say({ tcp: { from: s.remoteAddress, bytes } }); s.end(); });
    s.on('error', () => {});
  }).listen({ host, port: Number(tcpPort), ipv6Only: f === '6' }, bound);
  const u = dgram.createSocket({ type: f === '6' ? 'udp6' : 'udp4', ipv6Only: f === '6' });
  u.on('message', (m, r) => {
    const t = udp.get(r.address) ?? { bytes: 0, datagrams: 0 };
    t.bytes += m.length; t.datagrams += 1;
    clearTimeout(t.timer);
    t.timer = setTimeout(() => say({ udp: { from: r.address, bytes: t.bytes, datagrams: t.datagrams } }), 300);
    udp.set(r.address, t);
  });
  u.bind({ address: host, port: Number(udpPort) }, bound);
}
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * node -e CLIENT_SCRIPT <tcp|udp> <target ip> <port> <count> <size>
 * UDP: count datagrams of size bytes, one after the other. TCP: one connection
 * carrying count*size bytes, closed by the client. Prints what was sent as JSON.
 */
export const CLIENT_SCRIPT = `
const net = require('node:net'), dgram = require('node:dgram');
const [proto, target, portText, countText, sizeText] = process.argv.slice(1);
const port = Number(portText), count = Number(countText), size = Number(sizeText);
const report = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
if (proto === 'udp') {
  const s = dgram.createSocket(net.isIPv6(target) ? 'udp6' : 'udp4');
  const payload = Buffer.alloc(size, 0x61);
  let sent = 0;
  const next = (err) => {
    if (err) { console.error(err.message); process.exit(1); }
    if (sent === count) { s.close(); report({ proto, datagrams: sent, bytes: sent * size }); return; }
    sent += 1;
    s.send(payload, port, target, next);
  };
  next();
} else {
  const s = net.connect({ host: target, port }, () => s.end(Buffer.alloc(count * size, 0x61)));
  s.on('error', (e) => { console.error(e.message); process.exit(1); });
  s.on('close', (hadError) => { if (!hadError) report({ proto, bytes: count * size }); });
  s.resume();
}
`;

/** What a pod that only waits for `kubectl exec`-style commands runs. */
export const IDLE_SCRIPT = 'setInterval(() => {}, 1 << 30); process.on("SIGTERM", () => process.exit(0));';

export interface ServerLine {
  readonly listening?: boolean;
  readonly tcp?: { readonly from: string; readonly bytes: number };
  readonly udp?: { readonly from: string; readonly bytes: number; readonly datagrams: number };
}

export interface ClientReport {
  readonly proto: 'tcp' | 'udp';
  readonly bytes: number;
  readonly datagrams?: number;
}

export function parseLines<T>(text: string): T[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T);
}

/** L3 header bytes the agent adds per UDP datagram: IP header plus the 8-byte UDP header. */
export function udpHeaderBytes(family: 4 | 6): number {
  return (family === 4 ? 20 : 40) + 8;
}
