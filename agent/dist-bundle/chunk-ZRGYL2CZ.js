import {
  Attacher,
  BPF_FS_MAGIC,
  DEFAULT_OBJECT_PATH,
  TC_HANDLE,
  TC_PRIORITY,
  atLeast,
  kernelHasTcx,
  kernelVersion,
  loadAddon,
  resolveAttachMode
} from "./chunk-7CANT5TN.js";

// agent/dist/preflight/checks.js
import { existsSync, readFileSync, statfsSync } from "node:fs";
import { release } from "node:os";
import { dirname } from "node:path";

// agent/dist/interfaces/roles.js
var RTN_UNICAST = 1;
var RTPROT_KERNEL = 2;
var RT_TABLE_LOCAL = 255;
var hostLen = (r) => r.family === 4 ? 32 : 128;
var cidr = (r) => r.dstLen === 0 ? "default" : `${r.dst}/${r.dstLen}`;
var isLinkLocal = (addr) => /^fe[89ab]/i.test(addr) || addr.startsWith("169.254.");
var linkLocal = (r) => isLinkLocal(r.dst);
function uplinkEvidence(routes) {
  const best = /* @__PURE__ */ new Map();
  for (const r of routes) {
    if (r.type !== RTN_UNICAST || r.table === RT_TABLE_LOCAL || r.ifindex === 0)
      continue;
    const via = r.gateway ? ` via ${r.gateway}` : "";
    const table = r.table === 254 ? "" : ` (table ${r.table})`;
    let rank;
    let why;
    if (r.dstLen === 0) {
      rank = 0;
      why = `carries a default route${via}${table}`;
    } else if (r.gateway && !(r.dstLen === hostLen(r) && isLinkLocal(r.gateway))) {
      rank = 1;
      why = `carries a route with a gateway: ${cidr(r)}${via}${table}`;
    } else if (r.dstLen < hostLen(r) && r.protocol !== RTPROT_KERNEL && !linkLocal(r)) {
      rank = 2;
      why = `carries a route to a network: ${cidr(r)}${table}`;
    } else {
      continue;
    }
    const prev = best.get(r.ifindex);
    if (!prev || rank < prev.rank)
      best.set(r.ifindex, { rank, why });
  }
  return new Map([...best].map(([ifindex, { why }]) => [ifindex, why]));
}
function namedBy(list, name) {
  return list.find((p) => p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p);
}
function decideRoles(links, routes, uplinks = "auto") {
  const evidence = uplinkEvidence(routes);
  const names = new Map(links.map((l) => [l.ifindex, l.name]));
  return links.map((link) => {
    const d = { ifindex: link.ifindex, name: link.name };
    const enslaved = link.master !== 0;
    const master = `a port of ${names.get(link.master) ?? `ifindex ${link.master}`}, whose own hook sees its packets`;
    if (link.name === "lo")
      return { ...d, role: "ignored", why: "loopback: nothing leaves the node through it", hooks: [] };
    const egress = enslaved ? [] : [{ direction: "egress", program: "tc_host_egress" }];
    const slave = enslaved ? `; no egress hook: ${master}` : "";
    const isVeth = link.kind === "veth" && link.peerNetnsId >= 0;
    let uplinkWhy;
    if (uplinks !== "auto") {
      const p = namedBy(uplinks, link.name);
      if (p)
        uplinkWhy = `EBPF_UPLINK_INTERFACES names it (${p})`;
    } else {
      uplinkWhy = evidence.get(link.ifindex);
    }
    if (isVeth && !uplinkWhy) {
      const why = uplinks === "auto" ? `a veth whose peer is in another network namespace (netns id ${link.peerNetnsId}) and no route through it leads past that peer` : `a veth whose peer is in another network namespace (netns id ${link.peerNetnsId}); EBPF_UPLINK_INTERFACES does not name it`;
      return { ...d, role: "pod veth", why: why + slave, hooks: [{ direction: "ingress", program: "tc_pod_egress" }, ...egress] };
    }
    const kind = isVeth ? "a veth whose peer is in another network namespace" : link.kind === "veth" ? "a veth whose peer is in this network namespace" : link.kind ? `${/^[aeiou]/.test(link.kind) ? "an" : "a"} ${link.kind} device` : "a device without a link kind (physical)";
    if (uplinkWhy)
      return { ...d, role: "uplink", why: `${kind}; ${uplinkWhy}${slave}`, hooks: egress };
    if (enslaved)
      return { ...d, role: "ignored", why: `${kind}, ${master}`, hooks: [] };
    return { ...d, role: "host device", why: kind, hooks: egress };
  });
}
function describeRole(d) {
  const hooks = d.hooks.length ? d.hooks.map((h) => `${h.direction} ${h.program}`).join(", ") : "no hook";
  return `${d.name} (ifindex ${d.ifindex}): ${d.role} [${hooks}]: ${d.why}`;
}

// agent/dist/preflight/checks.js
var CAP = { NET_ADMIN: 12, SYS_ADMIN: 21, SYS_RESOURCE: 24, PERFMON: 38, BPF: 39 };
function effectiveCaps(status = readFileSync("/proc/self/status", "utf8")) {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt("0x" + m[1]) : 0n;
}
var has = (caps, bit) => caps >> BigInt(bit) & 1n ? true : false;
function checkKernel(rel = release()) {
  const v = kernelVersion(rel);
  return atLeast(v, 5, 10) ? { name: "kernel", status: "pass", detail: `${rel} (5.10+ needed)` } : { name: "kernel", status: "fail", detail: `${rel} is older than 5.10`, fix: "run the agent on nodes with kernel 5.10 or newer (nodeSelector / affinity in the chart)" };
}
function checkBtf() {
  return existsSync("/sys/kernel/btf/vmlinux") ? { name: "btf", status: "pass", detail: "/sys/kernel/btf/vmlinux present" } : { name: "btf", status: "warn", detail: "/sys/kernel/btf/vmlinux missing: the current programs do not need it, BTF-based features will be off", fix: "use a kernel built with CONFIG_DEBUG_INFO_BTF=y" };
}
var FS_NAMES = {
  16914836: "tmpfs",
  61267: "ext4",
  2035054128: "overlayfs",
  1650812274: "sysfs",
  40864: "proc",
  2435016766: "btrfs",
  1481003842: "xfs",
  26985: "nfs",
  2613483: "cgroup",
  1667723888: "cgroup2"
};
var fsName = (type) => FS_NAMES[type] ?? `filesystem type 0x${type.toString(16)}`;
function checkBpffs(pinPath) {
  const name = "bpffs";
  const where = existsSync(pinPath) ? pinPath : dirname(pinPath);
  const fix = `mount bpffs on the node (mount -t bpf bpf /sys/fs/bpf) and into the pod (the chart's hostPath volume), or set EBPF_BPF_PIN_PATH to a directory on a bpf filesystem`;
  if (!existsSync(where)) {
    return { name, status: "fail", detail: `${where} does not exist (EBPF_BPF_PIN_PATH=${pinPath}: the agent creates only the last directory)`, fix };
  }
  let type;
  try {
    type = statfsSync(where).type;
  } catch (err) {
    return { name, status: "fail", detail: `statfs ${where} failed: ${err.message}`, fix };
  }
  return type === BPF_FS_MAGIC ? { name, status: "pass", detail: `${where} is a bpf filesystem (pin path ${pinPath})` } : { name, status: "fail", detail: `${where} is ${fsName(type)}, not a bpf filesystem (EBPF_BPF_PIN_PATH=${pinPath})`, fix };
}
function checkCapabilities(caps) {
  const sysAdmin = has(caps, CAP.SYS_ADMIN);
  const covered = (bit, what) => has(caps, bit) ? `present (${what})` : `covered by CAP_SYS_ADMIN (${what})`;
  return [
    has(caps, CAP.BPF) || sysAdmin ? { name: "cap_bpf", status: "pass", detail: `CAP_BPF ${covered(CAP.BPF, "create maps, load programs")}` } : { name: "cap_bpf", status: "fail", detail: "missing CAP_BPF: needed to create maps and load programs (the kernel answers EPERM)", fix: "add BPF to securityContext.capabilities.add (or SYS_ADMIN on kernels older than 5.8)" },
    has(caps, CAP.PERFMON) || sysAdmin ? { name: "cap_perfmon", status: "pass", detail: `CAP_PERFMON ${covered(CAP.PERFMON, "the verifier allows the packet parser's pointer arithmetic")}` } : { name: "cap_perfmon", status: "fail", detail: "missing CAP_PERFMON: the verifier refuses the packet parser's variable-offset pointer arithmetic (EACCES)", fix: "add PERFMON to securityContext.capabilities.add (or SYS_ADMIN on kernels older than 5.8)" },
    has(caps, CAP.NET_ADMIN) ? { name: "cap_net_admin", status: "pass", detail: "CAP_NET_ADMIN present (load TC programs, attach to TC hooks, clsact qdisc, netlink)" } : { name: "cap_net_admin", status: "fail", detail: "missing CAP_NET_ADMIN: needed to load TC programs and attach them to TC hooks (the kernel answers EPERM)", fix: "add NET_ADMIN to securityContext.capabilities.add" }
  ];
}
function checkMemlock(caps, rel = release(), readLimits = () => readFileSync("/proc/self/limits", "utf8")) {
  if (atLeast(kernelVersion(rel), 5, 11)) {
    return { name: "memlock", status: "pass", detail: "kernel 5.11+ charges BPF memory to the cgroup, not RLIMIT_MEMLOCK" };
  }
  const limits = readLimits();
  const unlimited = /^Max locked memory\s+unlimited/m.test(limits);
  if (unlimited || has(caps, CAP.SYS_RESOURCE)) {
    return { name: "memlock", status: "pass", detail: unlimited ? "RLIMIT_MEMLOCK unlimited" : "CAP_SYS_RESOURCE present: the limit can be raised" };
  }
  return { name: "memlock", status: "fail", detail: "kernel older than 5.11 charges BPF maps to RLIMIT_MEMLOCK, which is limited, and CAP_SYS_RESOURCE is missing", fix: "add SYS_RESOURCE to securityContext.capabilities.add" };
}
function checkAttachMode(attachMode, rel = release()) {
  const tcx = kernelHasTcx(rel);
  if (attachMode === "tcx" && !tcx) {
    return { name: "attach_mode", status: "fail", detail: `EBPF_ATTACH_MODE=tcx but kernel ${rel} has no tcx (6.6+)`, fix: "set EBPF_ATTACH_MODE=auto or tc" };
  }
  const mode = attachMode === "auto" ? tcx ? "tcx" : "tc" : attachMode;
  const why = attachMode === "auto" ? `auto: kernel ${rel} ${tcx ? "has" : "lacks"} tcx (6.6+)` : `EBPF_ATTACH_MODE=${attachMode}`;
  const what = mode === "tcx" ? "tcx links" : "legacy TC, clsact qdisc + cls_bpf";
  return { name: "attach_mode", status: "pass", detail: `${mode} (${what}; ${why})` };
}
function loadAttachFix(code, caps, stage = "load") {
  const sysAdmin = has(caps, CAP.SYS_ADMIN);
  const missing = [["BPF", CAP.BPF], ["PERFMON", CAP.PERFMON], ["NET_ADMIN", CAP.NET_ADMIN]].filter(([n, bit]) => !has(caps, bit) && !(sysAdmin && n !== "NET_ADMIN")).map(([n]) => n);
  if (code === "EACCES" && missing.includes("PERFMON")) {
    return `CAP_PERFMON is missing: the verifier refuses the packet parser's pointer arithmetic without it ("pointer arithmetic with it prohibited for !root"); add PERFMON to securityContext.capabilities.add`;
  }
  if (code === "EPERM" && missing.length > 0) {
    return `missing ${missing.map((n) => `CAP_${n}`).join(", ")}: add ${missing.join(", ")} to securityContext.capabilities.add`;
  }
  if (code === "EPERM") {
    return "all capabilities are present: a seccomp or LSM policy (AppArmor, SELinux, lockdown) refuses bpf(); allow the bpf() syscall for the agent";
  }
  if (stage === "open") {
    return "libbpf could not parse the BPF object (its reason is on stderr above): the object and the agent do not match; use the image's own build";
  }
  if (code === "EACCES" || code === "EINVAL") {
    return "the verifier refused the program on this kernel: the verifier log is on stderr above; see the runbook (BPF program failed to load)";
  }
  return "see the error above; the runbook lists known causes (BPF program failed to load)";
}
function checkLoadAndAttach(config, caps) {
  const name = "load_attach";
  const addon = loadAddon();
  let ifindex = 0;
  let bpf;
  try {
    bpf = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: 16, ringbufBytes: 4096 });
    ifindex = addon.createTestLink(`kapf${process.pid % 1e5}`);
    const attacher = new Attacher(addon, bpf, resolveAttachMode(config.attachMode));
    const a = attacher.attach(ifindex, "preflight", "ingress", "tc_pod_egress");
    attacher.detach(a);
    return { name, status: "pass", detail: `programs verified, loaded and attached (${a.mode}) on a veth pair it created and removed` };
  } catch (err) {
    const e = err;
    return { name, status: "fail", detail: e.message ?? String(err), fix: loadAttachFix(e.code, caps, e.message?.startsWith("opening") ? "open" : "load") };
  } finally {
    if (ifindex)
      addon.deleteLink(ifindex);
    bpf?.close();
  }
}
function checkCoexistence(config, roles) {
  const name = "coexistence";
  const addon = loadAddon();
  const mode = resolveAttachMode(config.attachMode);
  const pods = roles.filter((d) => d.role === "pod veth");
  const hooks = roles.flatMap((d) => d.hooks.map((plan) => ({ link: d, plan })));
  const others = /* @__PURE__ */ new Set();
  const blocking = /* @__PURE__ */ new Set();
  const racing = /* @__PURE__ */ new Set();
  const stillThere = (ifindex) => addon.listLinks().some((l) => l.ifindex === ifindex);
  for (const { link: l, plan } of hooks) {
    const where = `on ${l.name} ${plan.direction}`;
    let filters;
    let tcx;
    try {
      filters = addon.listTcFilters(l.ifindex, plan.direction);
      tcx = addon.listTcxPrograms(l.ifindex, plan.direction);
    } catch (err) {
      if (!stillThere(l.ifindex))
        continue;
      throw err;
    }
    for (const f of filters) {
      if (f.handle === TC_HANDLE && f.priority === TC_PRIORITY)
        continue;
      const label = `tc:${f.kind ?? "filter"}${f.name ? `/${f.name}` : ""}${f.directAction ? "(da)" : ""} prio ${f.priority} ${where}`;
      others.add(label);
      if (f.priority === TC_PRIORITY && f.kind !== "bpf")
        blocking.add(label);
      else if (f.priority === TC_PRIORITY)
        racing.add(label);
    }
    for (const id of tcx) {
      const n = addon.programName(id);
      if (n !== plan.program)
        others.add(`tcx:${n ?? id} ${where}`);
    }
  }
  const list = [...others].join(", ") || "none";
  const head = `${hooks.length} hook(s) on ${new Set(hooks.map((h) => h.link.ifindex)).size} interface(s), ${pods.length} of them pod veths; other programs there: ${list}`;
  if (mode === "tcx") {
    return { name, status: "pass", detail: `${head}; tcx: ours runs first in the tcx chain and returns TCX_NEXT, legacy TC filters run after tcx` };
  }
  if (blocking.size > 0) {
    return {
      name,
      status: "fail",
      detail: `${head}; legacy TC: priority ${TC_PRIORITY} is taken by another classifier kind (${[...blocking].join(", ")}), the kernel will refuse our cls_bpf filter there`,
      fix: "use EBPF_ATTACH_MODE=tcx (kernel 6.6+), or move the other filter off priority 1"
    };
  }
  if (racing.size > 0) {
    return {
      name,
      status: "warn",
      detail: `${head}; legacy TC: ${[...racing].join(", ")} share(s) priority ${TC_PRIORITY} with ours, where the newest filter runs first: ours when it attaches, but if that filter is added again later it runs first and a terminal verdict (redirect, drop) there hides packets from us`,
      fix: "use EBPF_ATTACH_MODE=tcx (kernel 6.6+) so ours runs ahead of every legacy TC filter"
    };
  }
  return { name, status: "pass", detail: `${head}; legacy TC: ours is its own cls_bpf filter (handle 0x4b41, priority 1, runs first) returning TC_ACT_UNSPEC so later filters still run` };
}
function checkInterfaces(roles, uplinks) {
  const name = "interfaces";
  const count = (role) => roles.filter((d) => d.role === role).length;
  const head = `${roles.length} interface(s): ${count("pod veth")} pod veth(s), ${count("uplink")} uplink(s), ${count("host device")} other host device(s), ${count("ignored")} ignored (EBPF_UPLINK_INTERFACES=${uplinks === "auto" ? "auto" : uplinks.join(",")})`;
  const lines = roles.map(describeRole);
  if (uplinks !== "auto") {
    const unmatched = uplinks.filter((p) => !roles.some((d) => namedBy([p], d.name)));
    if (unmatched.length) {
      return {
        name,
        status: "warn",
        lines,
        detail: `${head}; EBPF_UPLINK_INTERFACES names ${unmatched.join(", ")}, which match(es) no interface on this node`,
        fix: "list the node's uplinks by the names `ip link` shows (a trailing * matches a prefix), or set auto"
      };
    }
  }
  if (count("uplink") === 0) {
    return {
      name,
      status: "warn",
      lines,
      detail: `${head}; no uplink found: no interface carries a default route, a route with a gateway or a route to a network`,
      fix: "if a veth below is the node's link to other nodes, name it in EBPF_UPLINK_INTERFACES: taken for a pod's, it counts what other nodes send"
    };
  }
  return { name, status: "pass", detail: head, lines };
}
async function runChecks(config, options = {}) {
  const caps = effectiveCaps();
  const results = [checkKernel(), checkBtf(), checkBpffs(config.pinPath), ...checkCapabilities(caps), checkMemlock(caps), checkAttachMode(config.attachMode)];
  const hopeless = results.find((r) => r.status === "fail" && (r.name === "kernel" || r.name === "attach_mode"));
  if (options.loadAttach !== false) {
    results.push(hopeless ? { name: "load_attach", status: "fail", detail: `skipped: the ${hopeless.name} check failed`, fix: "fix the failures above first" } : checkLoadAndAttach(config, caps));
  }
  let roles;
  try {
    const addon = loadAddon();
    roles = decideRoles(addon.listLinks(), addon.listRoutes(), config.uplinkInterfaces);
    results.push(checkInterfaces(roles, config.uplinkInterfaces));
  } catch (err) {
    const e = err;
    results.push({
      name: "interfaces",
      status: "warn",
      detail: `could not list links and routes: ${e.message ?? String(err)}`,
      fix: e.code === "EPERM" ? "add NET_ADMIN to securityContext.capabilities.add" : "see the error; the runbook lists known causes"
    });
  }
  try {
    if (roles)
      results.push(checkCoexistence(config, roles));
  } catch (err) {
    const e = err;
    results.push({
      name: "coexistence",
      status: "warn",
      detail: `could not list programs on pod interfaces: ${e.message ?? String(err)}`,
      fix: e.code === "EPERM" ? "add NET_ADMIN to securityContext.capabilities.add" : "see the error; the runbook lists known causes"
    });
  }
  return results;
}

export {
  decideRoles,
  runChecks
};
