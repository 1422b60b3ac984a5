// Coexistence with a CNI's legacy TC filter (Cilium-like: direct action,
// priority 1, its own handle, a verdict for every packet), in attach mode tc.
// The kernel runs the newest filter of a priority first: ours goes first when
// the CNI's is there before ours; a CNI filter added later runs first until
// the agent's once-a-second check moves ours back ahead, and a rolling update
// puts it back ahead at attach. In every case the stand-in's drops, redirects
// and rewrites are exactly what they are without us, our counts equal the
// pods' own counters, and stopping and uninstalling our agent leaves the
// CNI's filter and the qdisc it sits on.
import test from 'ava';
import { coexist } from './coexist.js';

test.serial('tc: a CNI filter at priority 1 before the agent starts: ours runs first, the CNI keeps its verdicts', (t) =>
  coexist(t, { mode: 'tc', standIn: 'before-agent', nodeIndex: 40 }));

test.serial('tc: a CNI filter added at priority 1 while the agent runs: ours is moved back ahead, also across a rolling update', (t) =>
  coexist(t, { mode: 'tc', standIn: 'after-agent', nodeIndex: 41 }));
