// Loaded by ava before every test file (package.json "ava.require"). However ava
// was started (`npm test`, `npm run chart:test`, `npx ava`), a bare `nft`, `ip`
// or `tc` spawned by a test must be the system's: npm puts node_modules/.bin
// first on PATH, and ava's own dependency @vercel/nft installs a CLI named `nft`
// there. scripts/lib/system-path.sh does the same for the README's commands.
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function systemPath(path: string): string {
  const rest = path.split(':').filter((d) => d !== '' && !d.endsWith('/node_modules/.bin'));
  // Directories before the system's (Node 24, .tools/bin) keep their place.
  const firstSystem = rest.findIndex((d) => SYSTEM_DIRS.includes(d));
  const lead = firstSystem < 0 ? rest : rest.slice(0, firstSystem);
  return [...new Set([...lead, ...SYSTEM_DIRS, ...rest])].join(':');
}

process.env.PATH = systemPath(process.env.PATH ?? '');
