// The production addon holds production code only: test- and bench-only entry
// points (drain, testRun, testRunBatch, consumeOverflow, attachTcxPinned, bench*, raw-fd
// helpers) are in kubeadapt_testing.node, which the image does not ship
// (tests/image/build-app.test.ts).
import test from 'ava';
import { loadAddon } from '../../agent/src/addon.js';
import { loadTestingAddon } from '../helpers/testing-addon.js';

const AGENT_EXPORTS = [
  'BpfObject', 'ConntrackResolver', 'LinkMonitor', 'closeFd', 'createTestLink', 'deleteLink', 'listLinks', 'listRoutes',
  'listTcFilters', 'listTcxPrograms', 'pinnedMapKeys', 'pinnedMapMaxEntries', 'programName', 'releaseFreedMemory', 'tcxPinnedLinkIfindex',
];
const AGENT_METHODS = [
  'attachTc', 'attachTcx', 'busy', 'close', 'control', 'deleteEntry', 'deleteKeys', 'detachTc', 'info', 'queryTc',
  'readMap', 'readPairs', 'releaseSlot', 'resolveRecords', 'ringAdvance', 'ringPeek', 'setControl', 'stats', 'updateEntry', 'updateMap', 'waitForPrograms',
];
const TESTING_EXPORTS = [
  'attachTcxPinned', 'benchCloseObjects', 'benchDrainFloor', 'benchFdById', 'benchFillConntrack', 'benchFillFlows', 'benchLoadObject', 'benchObjGet', 'benchTestRun', 'benchTestRunParallel',
];
const TESTING_METHODS = ['consumeOverflow', 'drain', 'testRun', 'testRunBatch'];

const methods = (ctor: { prototype: object }) => Object.getOwnPropertyNames(ctor.prototype).filter((n) => n !== 'constructor').sort();

test('the production addon exports exactly the agent\'s entry points', (t) => {
  const addon = loadAddon();
  t.deepEqual(Object.keys(addon).sort(), AGENT_EXPORTS);
  t.deepEqual(methods(addon.BpfObject), AGENT_METHODS);
});

test('the testing addon is the production one plus the test- and bench-only entry points', (t) => {
  const testing = loadTestingAddon();
  t.deepEqual(Object.keys(testing).sort(), [...AGENT_EXPORTS, ...TESTING_EXPORTS].sort());
  t.deepEqual(methods(testing.BpfObject), [...AGENT_METHODS, ...TESTING_METHODS].sort());
});
