// Traffic for the simulated node's pods. `serve` sinks TCP and UDP on both
// address families; `send` sends a known amount and exits when it is out.
// The counts that tests compare come from the kernel (nftables), not from here.
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';

const [mode, ...rest] = process.argv.slice(2);
const opts = Object.fromEntries(rest.map((a) => a.replace(/^--/, '').split('=')));
const port = Number(opts.port ?? 5201);

if (mode === 'serve') {
  const tcp = createServer((s) => {
    s.on('data', () => {});
    s.on('end', () => s.end());
    s.on('error', () => {});
  });
  tcp.listen({ port, host: '::', ipv6Only: false }, () => {
    const udp = createSocket({ type: 'udp6', ipv6Only: false });
    udp.on('message', () => {});
    udp.bind(port, '::', () => process.stdout.write('ready\n'));
  });
} else if (mode === 'send') {
  const to = opts.to;
  const udpCount = Number(opts['udp-count'] ?? 0);
  const udpSize = Number(opts['udp-size'] ?? 100);
  const tcpBytes = Number(opts['tcp-bytes'] ?? 0);
  const family = to.includes(':') ? 'udp6' : 'udp4';
  const udp = createSocket(family);
  // --source-port-base=P: the main UDP socket on P, the extra flows on P+1.., TCP on the port
  // after them; without it the kernel picks (and may reuse a recent port: a 5-tuple seen twice).
  const base = opts['source-port-base'] === undefined ? undefined : Number(opts['source-port-base']);
  const sourcePort = (i) => (base === undefined ? 0 : base + i);
  // --from: the source address (a node sending to its own pods from its node IP).
  if (opts.from || base !== undefined) await new Promise((resolve) => udp.bind({ ...(opts.from ? { address: opts.from } : {}), port: sourcePort(0) }, resolve));
  const payload = Buffer.alloc(udpSize, 0x61);
  for (let i = 0; i < udpCount; i++) {
    await new Promise((resolve, reject) => udp.send(payload, port, to, (err) => (err ? reject(err) : resolve())));
  }
  udp.close();
  // --udp-flows=N: N more UDP connections (each its own source port), one datagram each.
  for (let f = 0; f < Number(opts['udp-flows'] ?? 0); f++) {
    const s = createSocket(family);
    if (base !== undefined) await new Promise((resolve) => s.bind({ port: sourcePort(1 + f) }, resolve));
    await new Promise((resolve, reject) => s.send(payload, port, to, (err) => (err ? reject(err) : resolve())));
    await new Promise((resolve) => s.close(resolve));
  }
  if (tcpBytes > 0) {
    await new Promise((resolve, reject) => {
      const localPort = base === undefined ? {} : { localPort: sourcePort(1 + Number(opts['udp-flows'] ?? 0)) };
      const s = connect({ host: to, port, ...(opts.from ? { localAddress: opts.from } : {}), ...localPort }, () => {
        const chunk = Buffer.alloc(Math.min(tcpBytes, 65536), 0x62);
        let left = tcpBytes;
        const write = () => {
          while (left > 0) {
            const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= part.length;
            if (!s.write(part)) return void s.once('drain', write);
          }
          s.end();
        };
        write();
      });
      s.on('data', () => {});
      s.on('close', resolve);
      s.on('error', reject);
    });
  }
} else {
  process.stderr.write('usage: traffic.mjs serve|send --to=IP [--from=IP] [--port=N] [--udp-count=N --udp-size=B] [--tcp-bytes=B]\n');
  process.exit(2);
}
