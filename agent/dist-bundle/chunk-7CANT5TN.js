// agent/dist/addon.js
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
var AGENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
var PROJECT_DIR = resolve(AGENT_DIR, "..");
var ADDON_PATH = join(AGENT_DIR, "native", "build", "Release", "ebpf_agent.node");
var DEFAULT_OBJECT_PATH = join(PROJECT_DIR, "bpf", "build", "flows.bpf.o");
var cached;
function loadAddon() {
  if (cached)
    return cached;
  if (!existsSync(ADDON_PATH)) {
    throw new Error(`native addon not built: ${ADDON_PATH} is missing (run: npm run build)`);
  }
  cached = createRequire(import.meta.url)(ADDON_PATH);
  return cached;
}

// agent/dist/interfaces/attacher.js
import { rmSync } from "node:fs";
var TC_HANDLE = 19265;
var TC_PRIORITY = 1;
var hex = (n) => `0x${n.toString(16)}`;
var Attacher = class {
  addon;
  bpf;
  mode;
  linkPinDir;
  qdiscs;
  ids;
  /**
   * linkPinDir: tcx links are pinned there, so they outlive the process
   * (restarts, rolling updates). qdiscs: the clsact qdiscs an agent created.
   */
  constructor(addon, bpf, mode, linkPinDir, qdiscs) {
    this.addon = addon;
    this.bpf = bpf;
    this.mode = mode;
    this.linkPinDir = linkPinDir;
    this.qdiscs = qdiscs;
  }
  linkPin(ifindex, direction) {
    return this.linkPinDir ? `${this.linkPinDir}/${ifindex}-${direction}` : void 0;
  }
  attach(ifindex, name, direction, program) {
    const base = { ifindex, name, direction, program, mode: this.mode };
    if (this.mode === "tcx") {
      const link = () => ({ ...base, linkFd: this.bpf.attachTcx({ ifindex, direction, program, pinPath: this.linkPin(ifindex, direction) }), runsBefore: [] });
      let a = link();
      const { ahead: ahead2 } = this.order(a);
      if (ahead2.length > 0) {
        this.detach(a);
        a = { ...link(), wasBehind: ahead2 };
      }
      return this.checkHead(a, `tcx ${direction} of ${name} (ifindex ${ifindex})`);
    }
    const where = `tc ${direction} of ${name} (ifindex ${ifindex})`;
    const filters = this.addon.listTcFilters(ifindex, direction);
    const atOurs = filters.find((f) => f.priority === TC_PRIORITY && f.handle === TC_HANDLE);
    if (atOurs && !this.isOurs(atOurs, program)) {
      throw new Error(`${where}: handle ${hex(TC_HANDLE)} at priority ${TC_PRIORITY} holds ${this.describe(atOurs)}, which is not ours; refusing to replace a filter we did not create`);
    }
    const other = filters.find((f) => f.priority === TC_PRIORITY && f.kind !== "bpf");
    if (other) {
      throw new Error(`${where}: priority ${TC_PRIORITY} is taken by a "${other.kind}" filter (handle ${hex(other.handle)}); ours must run first and cannot share that priority`);
    }
    const target = { ifindex, direction, handle: TC_HANDLE, priority: TC_PRIORITY };
    const ahead = atOurs ? filters.slice(0, filters.indexOf(atOurs)) : [];
    const behindOthers = ahead.length > 0;
    if (behindOthers)
      this.bpf.detachTc({ ...target, destroyQdisc: false });
    const { createdQdisc } = this.bpf.attachTc({ ...target, program, replace: atOurs !== void 0 && !behindOthers });
    if (createdQdisc)
      this.qdiscs?.add(ifindex);
    return this.checkHead({ ...base, createdQdisc, runsBefore: [], ...behindOthers ? { wasBehind: ahead.map((f) => this.describe(f)) } : {} }, where);
  }
  /** Someone inserted a program between our look and our attach: fail loudly, leave nothing. */
  checkHead(a, where) {
    const order = this.order(a);
    if (order.ahead.length > 0) {
      this.detach(a);
      throw new Error(`${where}: ${order.ahead.join(", ")} runs before ours, which would not see the packets it ends`);
    }
    a.runsBefore = order.behind;
    return a;
  }
  /** The programs before and after ours on the hook, now. */
  order(a) {
    const ourId = this.programId(a.program);
    if (a.mode === "tcx") {
      const ids = this.addon.listTcxPrograms(a.ifindex, a.direction);
      const at2 = ids.indexOf(ourId ?? -1);
      const name = (id) => `${this.addon.programName(id) ?? "?"} (tcx, id ${id})`;
      return { ahead: ids.slice(0, Math.max(at2, 0)).map(name), behind: ids.slice(at2 + 1).map(name) };
    }
    const filters = this.addon.listTcFilters(a.ifindex, a.direction);
    const at = filters.findIndex((f) => f.priority === TC_PRIORITY && f.handle === TC_HANDLE);
    const describe = (f) => this.describe(f);
    if (at < 0)
      return { ahead: filters.map(describe), behind: [], missing: true };
    return { ahead: filters.slice(0, at).map(describe), behind: filters.slice(at + 1).map(describe) };
  }
  /**
   * Puts ours back at the head when another program got ahead of it since we
   * attached (a CNI attaching to a new pod's veth after us: in legacy TC the
   * newest filter of a priority runs first, in tcx a BPF_F_BEFORE link goes
   * first), or back on the hook when our filter was deleted. Returns the new
   * attachment and what was ahead, or null when ours is still first.
   */
  reassertHead(a) {
    const { ahead, missing } = this.order(a);
    if (ahead.length === 0 && !missing)
      return null;
    if (a.mode === "tcx")
      this.detach(a);
    return { attachment: { ...this.attach(a.ifindex, a.name, a.direction, a.program), wasBehind: ahead }, wasBehind: ahead };
  }
  /** gone: the interface vanished with its hooks, only release our handles. */
  detach(a, gone = false) {
    if (a.mode === "tcx") {
      const pin = this.linkPin(a.ifindex, a.direction);
      if (pin)
        rmSync(pin, { force: true });
      if (a.linkFd !== void 0)
        this.addon.closeFd(a.linkFd);
      return;
    }
    if (gone)
      return;
    const target = { ifindex: a.ifindex, direction: a.direction, handle: TC_HANDLE, priority: TC_PRIORITY };
    const filters = this.addon.listTcFilters(a.ifindex, a.direction);
    const atOurs = filters.find((f) => f.priority === TC_PRIORITY && f.handle === TC_HANDLE);
    if (atOurs && !this.isOurs(atOurs, a.program))
      return;
    const othersLeft = filters.length - (atOurs ? 1 : 0) + this.addon.listTcFilters(a.ifindex, a.direction === "ingress" ? "egress" : "ingress").length;
    const destroyQdisc = (this.qdiscs?.has(a.ifindex) ?? false) && othersLeft === 0;
    this.bpf.detachTc({ ...target, destroyQdisc });
    if (destroyQdisc)
      this.qdiscs?.delete(a.ifindex);
  }
  /** Lets go of an attachment but leaves it working (shutdown before an update). */
  release(a) {
    if (a.mode === "tcx" && a.linkFd !== void 0)
      this.addon.closeFd(a.linkFd);
  }
  isOurs(f, program) {
    return f.kind === "bpf" && f.programId !== void 0 && this.addon.programName(f.programId) === program;
  }
  describe(f) {
    const what = f.programId !== void 0 ? `${this.addon.programName(f.programId) ?? "?"} (id ${f.programId})` : `a ${f.kind ?? "?"} filter`;
    return `${what} at priority ${f.priority} handle ${hex(f.handle)}`;
  }
  programId(program) {
    this.ids ??= new Map(this.bpf.info().programs.map((p) => [p.name, p.id]));
    return this.ids.get(program);
  }
};

// agent/dist/kernel.js
import { release } from "node:os";
var BPF_FS_MAGIC = 3405662737;
function kernelVersion(r = release()) {
  const [a = 0, b = 0] = r.split(/[.-]/).map(Number);
  return [a, b];
}
var atLeast = (v, major, minor) => v[0] > major || v[0] === major && v[1] >= minor;
function kernelHasTcx(kernelRelease = release()) {
  return atLeast(kernelVersion(kernelRelease), 6, 6);
}
function resolveAttachMode(mode, kernelRelease = release()) {
  if (mode === "auto")
    return kernelHasTcx(kernelRelease) ? "tcx" : "tc";
  return mode;
}

export {
  DEFAULT_OBJECT_PATH,
  loadAddon,
  TC_HANDLE,
  TC_PRIORITY,
  Attacher,
  BPF_FS_MAGIC,
  kernelVersion,
  atLeast,
  kernelHasTcx,
  resolveAttachMode
};
