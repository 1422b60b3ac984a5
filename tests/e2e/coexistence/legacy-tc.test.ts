// Coexistence with a CNI's legacy TC filter (Cilium-like: direct action,
// priority 1, its own handle, a verdict for every packet), in attach mode tc.
// Our filter goes first when the CNI's is there before ours; a CNI filter
// added later at priority 1 runs first (the kernel's rule) until our agent
// restarts. In every order the stand-in's drops, redirects and rewrites are
// exactly what they are without us, our counts equal the pods' own counters,
// and stopping and uninstalling our agent leaves the CNI's filter and qdisc.
import test from 'ava';
import { coexist } from './coexist.js';

test.serial('tc: a CNI filter at priority 1 before the agent starts: ours runs first, the CNI keeps its verdicts', (t) =>
  coexist(t, { mode: 'tc', standIn: 'before-agent', nodeIndex: 40 }));

test.serial('tc: a CNI filter added at priority 1 while the agent runs: it runs first, a restart puts ours back ahead', (t) =>
  coexist(t, { mode: 'tc', standIn: 'after-agent', nodeIndex: 41 }));
