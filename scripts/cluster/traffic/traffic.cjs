// The traffic pods' program (server and client), kept apart from the agent image
// so a traffic pod carries no BPF tooling.
//   node traffic.cjs server <tcpPort> <udpPort>...  sinks TCP and UDP on each pair of ports
//   node traffic.cjs client <tcp|udp> <ip> <port> <count> <size>
//                                                   UDP: count datagrams of size bytes; TCP: one
//                                                   connection carrying count*size bytes.
// Prints what it did as JSON lines, the counts the test compares with the agent's.
'use strict';
const net = require('node:net');
const dgram = require('node:dgram');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const [mode, ...args] = process.argv.slice(2);

if (mode === 'server') {
  for (let i = 0; i + 1 < args.length; i += 2) {
    const [tcpPort, udpPort] = [Number(args[i]), Number(args[i + 1])];
    net.createServer((s) => {
      let bytes = 0;
      s.on('data', (d) => { bytes += d.length; });
      s.on('end', () => { say({ tcp: { port: tcpPort, from: s.remoteAddress, bytes } }); s.end(); });
      s.on('error', () => {});
    }).listen(tcpPort, '0.0.0.0');
    const u = dgram.createSocket('udp4');
    u.on('message', (m, r) => say({ udp: { port: udpPort, from: r.address, bytes: m.length } }));
    u.bind(udpPort, '0.0.0.0');
  }
  say({ listening: true });
  process.on('SIGTERM', () => process.exit(0));
} else if (mode === 'client') {
  const [proto, target, portText, countText, sizeText] = args;
  const port = Number(portText), count = Number(countText), size = Number(sizeText);
  if (proto === 'udp') {
    const s = dgram.createSocket('udp4');
    const payload = Buffer.alloc(size, 0x61);
    let sent = 0;
    const next = (err) => {
      if (err) { console.error(err.message); process.exit(1); }
      if (sent === count) { s.close(); say({ proto, datagrams: sent, bytes: sent * size }); return; }
      sent += 1;
      s.send(payload, port, target, next);
    };
    next();
  } else {
    const s = net.connect({ host: target, port }, () => s.end(Buffer.alloc(count * size, 0x61)));
    s.on('error', (e) => { console.error(e.message); process.exit(1); });
    s.on('close', (hadError) => { if (!hadError) say({ proto, bytes: count * size }); });
    s.resume();
  }
} else {
  // An idle process (a client pod waiting for `kubectl exec`).
  setInterval(() => {}, 1 << 30);
  process.on('SIGTERM', () => process.exit(0));
}
