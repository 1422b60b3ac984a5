// A flow slot's map is replaced when a collection releases it
// (agent/native/src/slots.cc), so the bench opens it at each use instead of
// keeping an fd across collections.
import type { BpfObject } from '../agent/src/native.js';
import type { TestingAddon } from '../tests/helpers/testing-addon.js';
import { SLOT_MAPS } from '../agent/src/collector/ledger.js';

function using<T>(addon: TestingAddon, fd: number, use: (fd: number) => T): T {
  try {
    return use(fd);
  } finally {
    addon.closeFd(fd);
  }
}

/** use(fd) with an fd of the slot's current map in a loaded object. */
export function withSlotFd<T>(addon: TestingAddon, bpf: BpfObject, slot: number, use: (fd: number) => T): T {
  const id = bpf.info().maps.find((m) => m.name === SLOT_MAPS[slot])!.id!;
  return using(addon, addon.benchFdById('map', id), use);
}

/** use(fd) with an fd of the slot's current map in another process's pins. */
export function withPinnedSlotFd<T>(addon: TestingAddon, pinPath: string, slot: number, use: (fd: number) => T): T {
  return using(addon, addon.benchObjGet(`${pinPath}/${SLOT_MAPS[slot]}`), use);
}
