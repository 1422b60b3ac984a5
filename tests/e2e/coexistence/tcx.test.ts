// Coexistence with a CNI's tcx program (Cilium-like: a verdict for every
// packet), in attach mode tcx. Ours attaches at the head (BPF_F_BEFORE) and
// returns TCX_NEXT. A CNI link appended later stays behind ours; one put at
// the head later runs first until the agent's once-a-second check moves ours
// back ahead, and a rolling update puts it back ahead at attach. The stand-in
// behaves exactly as without us, our counts equal the pods' own counters, and
// our agent leaves the CNI's link untouched.
import test from 'ava';
import { coexist } from './coexist.js';

// EBPF_ATTACH_MODE=auto: this kernel has tcx, so auto must attach with tcx links.
test.serial('tcx (auto): a CNI link before the agent starts: ours goes to the head, the CNI keeps its verdicts', (t) =>
  coexist(t, { mode: 'tcx', setting: 'auto', standIn: 'before-agent', position: 'tail', nodeIndex: 42 }));

test.serial('tcx: a CNI link appended while the agent runs stays behind ours, also across a rolling update', (t) =>
  coexist(t, { mode: 'tcx', standIn: 'after-agent', position: 'tail', nodeIndex: 43 }));

test.serial('tcx: a CNI link put at the head while the agent runs: ours is moved back ahead, also across a rolling update', (t) =>
  coexist(t, { mode: 'tcx', standIn: 'after-agent', position: 'head', nodeIndex: 44 }));
