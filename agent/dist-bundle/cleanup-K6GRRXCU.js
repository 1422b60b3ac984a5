import {
  BPF_FS_MAGIC,
  DEFAULT_OBJECT_PATH,
  TC_HANDLE,
  TC_PRIORITY,
  loadAddon
} from "./chunk-7CANT5TN.js";

// agent/dist/cleanup.js
import { existsSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
async function cleanup(config, log) {
  const addon = loadAddon();
  let failures = 0;
  const probe = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: 16, ringbufBytes: 4096 });
  const pin = config.pinPath;
  const keys = existsSync(pin) ? addon.pinnedMapKeys(join(pin, "tc_qdiscs")) : null;
  const createdQdiscs = /* @__PURE__ */ new Set();
  for (let i = 0; keys && i + 4 <= keys.length; i += 4)
    createdQdiscs.add(keys.readUInt32LE(i));
  try {
    for (const link of addon.listLinks()) {
      for (const direction of ["ingress", "egress"]) {
        const target = { ifindex: link.ifindex, direction, handle: TC_HANDLE, priority: TC_PRIORITY };
        const id = probe.queryTc(target);
        if (id === null)
          continue;
        const name = addon.programName(id);
        if (name !== "tc_pod_egress" && name !== "tc_host_egress") {
          log.warn("leaving a TC filter at our handle that is not ours", { interface: link.name, direction, program: name, programId: id });
          continue;
        }
        try {
          probe.detachTc({ ...target, destroyQdisc: false });
          log.info("removed our TC filter", { interface: link.name, direction });
        } catch (err) {
          failures++;
          log.error("removing our TC filter failed", { interface: link.name, direction, err });
        }
      }
      const empty = addon.listTcFilters(link.ifindex, "ingress").length + addon.listTcFilters(link.ifindex, "egress").length === 0;
      if (createdQdiscs.has(link.ifindex) && empty) {
        probe.detachTc({ ifindex: link.ifindex, direction: "ingress", handle: TC_HANDLE, priority: TC_PRIORITY, destroyQdisc: true });
        log.info("removed the clsact qdisc we created", { interface: link.name });
      }
    }
  } finally {
    probe.close();
  }
  if (existsSync(pin)) {
    if (statfsSync(pin).type !== BPF_FS_MAGIC) {
      log.error("refusing to remove a pin path that is not on bpffs", { pinPath: pin });
      return 1;
    }
    for (const entry of readdirSync(pin))
      rmSync(join(pin, entry), { recursive: true });
    rmSync(pin, { recursive: true });
    log.info("removed pinned state", { pinPath: pin });
  }
  return failures ? 1 : 0;
}
export {
  cleanup
};
