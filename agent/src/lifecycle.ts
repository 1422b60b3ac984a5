// The running agent: loads the BPF object, keeps the programs attached to
// every pod interface, runs the collection loop and serves the metrics.
import { mkdirSync, rmSync, existsSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_OBJECT_PATH, loadAddon } from './addon.js';
import type { Config } from './config/settings.js';
import type { Logger } from './log.js';
import type { BpfObject, NativeAddon } from './native.js';
import { createMetrics, type AgentMetrics } from './metrics/registry.js';
import { MetricsServer } from './metrics/server.js';
import type { ProfilingServer } from './metrics/profiling.js';
import { Collector } from './collector/collector.js';
import { Attacher, type AttachMode } from './interfaces/attacher.js';
import { InterfaceDiscovery } from './interfaces/discovery.js';
import { resolvePodCgroup } from './interfaces/cgroup.js';
import { QdiscRegistry } from './interfaces/qdiscs.js';
import { daemonSetFromEnv, DaemonSetWatch } from './kubernetes/daemonset.js';
import { logPreflight } from './preflight/startup.js';

export const BPF_FS_MAGIC = 0xcafe4a11;
const PROGRAMS = ['tc_pod_egress', 'tc_host_egress'];
const LOAD_RETRY_MS = [5_000, 10_000, 30_000, 60_000];

export function kernelHasTcx(kernelRelease = release()): boolean {
  const [major = 0, minor = 0] = kernelRelease.split(/[.-]/).map(Number);
  return major > 6 || (major === 6 && minor >= 6);
}

export function resolveAttachMode(mode: Config['attachMode']): AttachMode {
  if (mode === 'auto') return kernelHasTcx() ? 'tcx' : 'tc';
  return mode;
}

export class Agent {
  readonly metrics: AgentMetrics = createMetrics();
  private readonly server: MetricsServer;
  /** Loaded only when enabled: node:inspector and node:v8 cost RSS an idle agent does not need. */
  private profiling: ProfilingServer | undefined;
  private addon: NativeAddon | undefined;
  private bpf: BpfObject | undefined;
  private collector: Collector | undefined;
  private discovery: InterfaceDiscovery | undefined;
  private createdPinDir = false;
  private retry: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private stopped = false;
  /** auto mode in a pod: knows our DaemonSet's fate before SIGTERM (issue 17). */
  private daemonSetWatch: DaemonSetWatch | undefined;
  port = 0;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly objectPath = DEFAULT_OBJECT_PATH,
  ) {
    this.server = new MetricsServer(
      this.metrics.registry,
      { live: () => !this.stopped, ready: () => this.ready() },
      (err) => this.log.error('serving /metrics failed', { err }),
    );
    const c = config;
    this.metrics.connectionTrackingInfo.set(
      { enabled: String(c.connectionTracking), netns_filter_mode: c.netnsFilterMode, max_flows: String(c.maxFlows) },
      1,
    );
  }

  ready(): boolean {
    return !this.stopped && this.discovery !== undefined && (this.collector?.collections ?? 0) > 0;
  }

  async start(): Promise<void> {
    this.port = await this.server.start(this.config.metricsPort, this.config.metricsAddress);
    this.log.info('serving metrics', { address: this.config.metricsAddress, port: this.port });
    if (this.config.enableProfiling) {
      const { ProfilingServer, profilingAddress } = await import('./metrics/profiling.js');
      const address = profilingAddress(this.config.metricsAddress);
      this.profiling = new ProfilingServer();
      const port = await this.profiling.start(this.config.profilingPort, address);
      this.log.info('serving profiles', { address, port, paths: ['/debug/cpu-profile?seconds=10', '/debug/heap-snapshot'] });
    }
    await logPreflight(this.config, this.log);
    const ds = this.config.onShutdown === 'auto' ? daemonSetFromEnv(process.env) : undefined;
    if (ds) {
      this.daemonSetWatch = new DaemonSetWatch(ds, this.log);
      // Not awaited for readiness: a slow API must not hold back counting.
      this.daemonSetWatch.start().catch((err) => this.log.warn('cannot watch our DaemonSet; SIGTERM will ask once', { err }));
    }
    this.addon = loadAddon();
    this.tryLoad(0);
  }

  private tryLoad(attempt: number): void {
    if (this.stopped) return;
    this.loading = this.load().catch((err) => {
      const delay = LOAD_RETRY_MS[Math.min(attempt, LOAD_RETRY_MS.length - 1)]!;
      this.log.error('loading the BPF programs failed; retrying', { err, retryInMs: delay });
      this.retry = setTimeout(() => this.tryLoad(attempt + 1), delay);
    });
  }

  private preparePinDir(): void {
    const pin = this.config.pinPath;
    if (!existsSync(pin)) {
      const parent = dirname(pin);
      if (!existsSync(parent) || statfsSync(parent).type !== BPF_FS_MAGIC) {
        throw new Error(`EBPF_BPF_PIN_PATH=${pin}: its parent ${parent} is not a mounted bpf filesystem (mount -t bpf bpf ${parent})`);
      }
      mkdirSync(pin);
      this.createdPinDir = true;
    } else if (statfsSync(pin).type !== BPF_FS_MAGIC) {
      throw new Error(`EBPF_BPF_PIN_PATH=${pin} is not on a bpf filesystem`);
    }
  }

  private async load(): Promise<void> {
    const addon = this.addon!;
    this.metrics.loadAttempts.inc();
    let bpf: BpfObject;
    try {
      this.preparePinDir();
      const cgroup = this.config.netnsFilterMode === 'default' ? resolvePodCgroup(this.config.podCgroup) : undefined;
      if (this.config.netnsFilterMode === 'default') {
        if (cgroup) this.log.info('hostNetwork pods are told apart by their cgroup', { podCgroup: cgroup.path });
        else this.log.warn('no pods cgroup found (EBPF_POD_CGROUP): traffic of hostNetwork pods is not counted', { podCgroup: this.config.podCgroup });
      }
      bpf = new addon.BpfObject({
        objectPath: this.objectPath,
        maxFlows: this.config.maxFlows,
        maxPairs: Math.max(1024, this.config.maxFlows * 2),
        ringbufBytes: 1 << 20,
        pinPath: this.config.pinPath,
        countHostSystemTraffic: this.config.netnsFilterMode === 'disabled',
        podCgroupPath: cgroup?.path,
      });
    } catch (err) {
      for (const program of PROGRAMS) this.metrics.loadStatus.set({ program }, 0);
      throw err;
    }
    const info = bpf.info();
    this.bpf = bpf;
    this.metrics.loadDuration.set(info.loadSeconds);
    for (const p of info.programs) this.metrics.loadStatus.set({ program: p.name }, 1);
    const mode = resolveAttachMode(this.config.attachMode);
    this.log.info('BPF programs loaded', { loadSeconds: info.loadSeconds, coarseClock: info.coarseClock, attachMode: mode, pinPath: this.config.pinPath });

    this.collector = new Collector(bpf, this.metrics, this.log, {
      intervalMs: this.config.collectionInterval,
      pairTtlMs: this.config.pairTtl,
      maxFlows: this.config.maxFlows,
      connectionTracking: this.config.connectionTracking,
      dumpMaps: this.config.dumpBpfMaps,
    });
    const restored = await this.collector.restore();
    if (restored) this.log.info('counters continue from the pinned ledger', { pairs: restored });
    const linkPins = join(this.config.pinPath, 'links');
    mkdirSync(linkPins, { recursive: true });
    const qdiscs = await new QdiscRegistry(bpf).load();
    const discovery = new InterfaceDiscovery(addon, new Attacher(addon, bpf, mode, linkPins, qdiscs), this.log, {
      onAttachError: (link, err) => {
        this.metrics.collectorErrors.inc({ type: 'attach' });
        this.log.error('attaching failed', { interface: link.name, ifindex: link.ifindex, err });
      },
      onChange: (n) => this.metrics.attachedInterfaces.set(n),
      // Packets the program ahead of ours ended were not counted: say so.
      onReorder: () => this.metrics.collectorErrors.inc({ type: 'attach_order' }),
    }, linkPins);
    discovery.start();
    this.discovery = discovery;
    this.collector.start();
    // A first collection right away makes the agent ready without waiting an interval.
    void this.collector.collect();
  }

  /** Whether this shutdown hands over to a next agent (keep) or uninstalls (cleanup). */
  private async keepOnShutdown(): Promise<boolean> {
    const mode = this.config.onShutdown;
    if (mode !== 'auto') return mode === 'keep';
    if (!this.daemonSetWatch) return false;
    return !(await this.daemonSetWatch.gone());
  }

  /**
   * keep: the programs stay attached and the maps pinned, so the next agent
   * (rolling update, restart) counts on without a gap. cleanup: final drain,
   * every hook we attached removed, pins and the pin directory removed.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.loading;
    const keep = this.bpf ? await this.keepOnShutdown() : false;
    this.daemonSetWatch?.stop();
    await this.collector?.stop();
    this.discovery?.stop(keep);
    if (!keep) {
      // Programs are off every hook now: one more cycle takes the last packets.
      await this.collector?.collect();
    }
    this.bpf?.close({ unpin: !keep });
    if (!keep && this.bpf) {
      try {
        rmSync(join(this.config.pinPath, 'links'), { recursive: true, force: true });
        if (this.createdPinDir || existsSync(this.config.pinPath)) rmSync(this.config.pinPath, { recursive: true, force: true });
      } catch (err) {
        this.log.warn('removing the pin directory failed', { pinPath: this.config.pinPath, err });
      }
    }
    await this.profiling?.stop();
    await this.server.stop();
    this.log.info('stopped', { kept: keep });
  }
}
