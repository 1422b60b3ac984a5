// A churned pod's only process: started in the pod's netns before CNI ADD (as
// a container would be), it prints "ready", waits for SIGUSR2 (sent the
// moment CNI ADD returns), sends a known amount to the sink and exits.
// The counts the test compares come from the kernel (nftables), not from here.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

const opts = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const port = Number(opts.port ?? 5201);
const udpCount = Number(opts['udp-count']);
const udpSize = Number(opts['udp-size']);
const tcpBytes = Number(opts['tcp-bytes']);

async function udp(to) {
  const sock = createSocket(to.includes(':') ? 'udp6' : 'udp4');
  const payload = Buffer.alloc(udpSize, 0x63);
  for (let i = 0; i < udpCount; i++) await new Promise((res, rej) => sock.send(payload, port, to, (e) => (e ? rej(e) : res())));
  sock.close();
}

function tcp(to) {
  return new Promise((resolve, reject) => {
    const s = connect({ host: to, port }, () => s.end(Buffer.alloc(tcpBytes, 0x64)));
    s.on('data', () => {});
    s.on('close', resolve);
    s.on('error', reject);
  });
}

process.once('SIGUSR2', async () => {
  await udp(opts.to4);
  await udp(opts.to6);
  if (tcpBytes > 0) await tcp(opts.to4);
  process.stdout.write('done\n');
  process.exit(0);
});
// Keeps the process alive until the signal, but never orphaned for long if
// the test that started it is gone.
setTimeout(() => process.exit(3), 60_000);
process.stdout.write('ready\n');
