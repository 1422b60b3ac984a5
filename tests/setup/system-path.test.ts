import { spawnSync } from 'node:child_process';
import test from 'ava';
import { systemPath } from './system-path.js';

// Run under `npm test`, PATH started with node_modules/.bin; the suite's oracle
// reads (nft -j list …) silently ran @vercel/nft's CLI instead of nftables.
test('the tools the tests spawn are the system\'s, whatever started ava', (t) => {
  t.false(process.env.PATH!.split(':').some((d) => d.endsWith('/node_modules/.bin')), process.env.PATH);
  const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  t.is(nft.status, 0, nft.stderr);
  t.regex(nft.stdout, /^nftables v\d/);
});

test('systemPath drops node_modules/.bin and keeps tools placed before the system directories', (t) => {
  t.is(
    systemPath('/repo/node_modules/.bin:/repo/.tools/node24/bin:/usr/bin:/bin:/opt/go/bin::/x/node_modules/.bin'),
    '/repo/.tools/node24/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/go/bin',
  );
});
