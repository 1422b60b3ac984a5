// The running agent: loads the BPF object, keeps the programs attached to
// every pod interface, runs the collection loop and serves the metrics.
import { mkdirSync, rmSync, existsSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_OBJECT_PATH, loadAddon } from './addon.js';
import { SETTINGS, type Config } from './config/settings.js';
import type { Logger } from './log.js';
import type { BpfObject, ConntrackResolver, NativeAddon } from './native.js';
import { createMetrics, type AgentMetrics } from './metrics/registry.js';
import { MetricsServer } from './metrics/server.js';
import type { ProfilingServer } from './metrics/profiling.js';
import { Collector } from './collector/collector.js';
import { Ledger } from './collector/ledger.js';
import { Attacher } from './interfaces/attacher.js';
import { BPF_FS_MAGIC, resolveAttachMode } from './kernel.js';
import { InterfaceDiscovery } from './interfaces/discovery.js';
import { resolvePodCgroup } from './interfaces/cgroup.js';
import { QdiscRegistry } from './interfaces/qdiscs.js';
import { daemonSetFromEnv, DaemonSetWatch } from './kubernetes/daemonset.js';
import { logPreflight } from './preflight/startup.js';
import { Attribution } from './cost/attribution.js';
import { Destinations } from './cost/destinations.js';
import { GroupedPairs } from './cost/grouped-pairs.js';
import type { KubernetesEnrichment } from './kubernetes/informers.js';

const PROGRAMS = ['tc_pod_egress', 'tc_host_egress'];
const LOAD_RETRY_MS = [5_000, 10_000, 30_000, 60_000];

export class Agent {
  /** The one owner of the exported per-pair totals; /metrics renders its view. */
  private readonly ledger: Ledger;
  readonly metrics: AgentMetrics;
  private enrichment: KubernetesEnrichment | undefined;
  private attribution: Attribution | undefined;
  private readonly grouped: GroupedPairs | undefined;
  private readonly destinations: Destinations;
  private server: MetricsServer | undefined;
  /** Loaded only when enabled: node:inspector and node:v8 cost RSS an idle agent does not need. */
  private profiling: ProfilingServer | undefined;
  private addon: NativeAddon | undefined;
  private bpf: BpfObject | undefined;
  private collector: Collector | undefined;
  private resolver: ConntrackResolver | undefined;
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
    this.ledger = new Ledger({ pairTtlMs: config.pairTtl, trackConnections: config.connectionTracking });
    this.metrics = createMetrics(this.ledger.view, { pairMetrics: config.pairMetrics, workloadMetrics: config.kubernetes, groupedPairs: config.pairDestinationGroups });
    // A bad destinations file stops the agent here, naming the file and the entry.
    const optional = config.destinationsFile === SETTINGS.destinationsFile.default && !existsSync(config.destinationsFile);
    this.destinations = optional ? new Destinations() : Destinations.load(config.destinationsFile);
    if (config.pairDestinationGroups) this.grouped = new GroupedPairs(this.destinations, this.metrics.groupedPairs, config.pairTtl);
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
    const c = this.config;
    const kubernetesAuth = c.metricsAuth === 'kubernetes';
    let authorizer;
    if (kubernetesAuth) {
      const { KubernetesAuthorizer, kubernetesReviewApi } = await import('./metrics/auth.js');
      authorizer = new KubernetesAuthorizer(await kubernetesReviewApi());
    }
    this.server = new MetricsServer(
      this.metrics,
      { live: () => !this.stopped, ready: () => this.ready() },
      (err) => this.log.error('serving /metrics failed', { err }),
      kubernetesAuth ? { tls: { certFile: c.metricsTlsCertFile, keyFile: c.metricsTlsKeyFile }, authorizer } : {},
    );
    this.port = await this.server.start(c.metricsPort, c.metricsAddress);
    this.log.info('serving metrics', {
      address: c.metricsAddress, port: this.port,
      ...(kubernetesAuth
        ? { scheme: 'https', auth: 'TokenReview + SubjectAccessReview (get /metrics)', certFile: c.metricsTlsCertFile }
        : { scheme: 'http', auth: 'none' }),
    });
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
    if (this.config.kubernetes) await this.startEnrichment();
    this.addon = loadAddon();
    this.tryLoad(0);
  }

  /** Informers for the workload family; without API credentials it stays off and says why. */
  private async startEnrichment(): Promise<void> {
    const { KubernetesEnrichment } = await import('./kubernetes/informers.js');
    const { sharedApiClient } = await import('./kubernetes/api.js');
    const found = await sharedApiClient(process.env);
    if ('reason' in found) {
      this.log.warn('EBPF_KUBERNETES=on but no Kubernetes API to watch: workload attribution is off', { reason: found.reason });
      return;
    }
    let flush: NodeJS.Timeout | undefined;
    const enrichment = new KubernetesEnrichment(found.client, this.log, {
      // Former owners are kept for a few intervals: the drain that follows a release still finds them.
      historyMs: Math.max(60_000, this.config.collectionInterval * 4),
      // An address a pod gave up may go to a new pod soon: drain now (once per burst of releases).
      onRelease: () => {
        if (flush) return;
        flush = setTimeout(() => {
          flush = undefined;
          void this.collector?.collect();
        }, 0);
      },
      onCount: (n) => {
        for (const [resource, count] of Object.entries(n)) this.metrics.kubernetesObjects.set({ resource }, count);
      },
      onWatchError: (resource) => this.metrics.kubernetesWatchErrors.inc({ resource }),
      onListed: () => loadAddon().releaseFreedMemory(),
    });
    for (const resource of ['pods', 'nodes', 'services']) {
      this.metrics.kubernetesObjects.set({ resource }, 0);
      this.metrics.kubernetesWatchErrors.inc({ resource }, 0);
    }
    const localNode = process.env.EBPF_NODE_NAME || undefined;
    this.attribution = new Attribution(enrichment.cluster, this.destinations, this.metrics.workloads, { localNode, ttlMs: this.config.workloadTtl });
    enrichment.start();
    this.enrichment = enrichment;
    this.log.info('Kubernetes enrichment started', { credentials: found.source, node: localNode ?? '(EBPF_NODE_NAME unset)', destinationGroups: this.destinations.groups });
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
    let maxPairs: number;
    let maxFlows: number;
    try {
      this.preparePinDir();
      const cgroup = this.config.netnsFilterMode === 'default' ? resolvePodCgroup(this.config.podCgroup) : undefined;
      if (this.config.netnsFilterMode === 'default') {
        if (cgroup) this.log.info('hostNetwork pods are told apart by their cgroup', { podCgroup: cgroup.path });
        else this.log.warn('no pods cgroup found (EBPF_POD_CGROUP): traffic of hostNetwork pods is not counted', { podCgroup: this.config.podCgroup });
      }
      // A pinned map keeps the size it was created with (libbpf reuses it only
      // as created): the ledger's counters continue, the slot being written
      // keeps counts no agent has read yet (and its resolution log is sized by
      // it), and a new size waits for the pins to go.
      const pinnedSize = (map: string, setting: 'maxPairs' | 'maxFlows', message: string): number => {
        const wanted = this.config[setting];
        const pinned = addon.pinnedMapMaxEntries(join(this.config.pinPath, map)) ?? wanted;
        if (pinned !== wanted) this.log.warn(`${message}; remove the pins (cleanup) to resize`, { [setting]: wanted, pinned });
        return pinned;
      };
      maxPairs = pinnedSize('pair_totals', 'maxPairs', 'EBPF_MAX_PAIRS differs from the pinned pair ledger: keeping its size so the counters continue');
      maxFlows = pinnedSize('connection_flows', 'maxFlows', 'EBPF_MAX_FLOWS differs from the pinned flow maps: keeping their size so no count is lost');
      bpf = new addon.BpfObject({
        objectPath: this.objectPath,
        maxFlows,
        maxPairs,
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

    this.resolver = this.openResolver(addon);
    this.collector = new Collector(bpf, this.ledger, this.metrics, this.log, {
      resolver: this.resolver,
      intervalMs: this.config.collectionInterval,
      maxFlows,
      dumpMaps: this.config.dumpBpfMaps,
      onApplied: (r) => {
        this.grouped?.apply(r.records, r.rows, r.kind);
        this.attribution?.apply(r.records, r.rows, r.kind);
      },
      // The grouped pair family continues from the pinned totals, as the raw one does.
      onLoaded: () => this.grouped?.seed(this.metrics.pairs),
    });
    const restored = await this.collector.restore(maxPairs);
    if (restored.pairs || restored.foreign) this.log.info('counters continue from the pinned ledger', { ...restored, maxPairs });
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
    }, linkPins, this.config.uplinkInterfaces);
    discovery.start();
    this.discovery = discovery;
    this.collector.start();
    // A first collection right away makes the agent ready without waiting an interval.
    void this.collector.collect();
  }

  /**
   * Conntrack's view of Service translations (EBPF_SERVICE_RESOLUTION). Ended
   * connections are kept two intervals (at least a minute), so the drain after
   * their end still finds their backend. Without it (no NETLINK_NETFILTER, no
   * CAP_NET_ADMIN) the agent counts on and Service traffic keeps its Service address.
   */
  private openResolver(addon: NativeAddon): ConntrackResolver | undefined {
    if (this.config.serviceResolution !== 'conntrack') {
      this.log.info('service resolution off: traffic to a Service is exported under the Service address');
      return undefined;
    }
    const retainMs = Math.max(60_000, 2 * this.config.collectionInterval);
    try {
      const resolver = new addon.ConntrackResolver({ retainMs });
      this.log.info('service resolution: conntrack (traffic to a Service is exported under its backend)', { retainMs });
      return resolver;
    } catch (err) {
      this.log.error('service resolution unavailable: traffic to a Service is exported under the Service address', { err });
      return undefined;
    }
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
    this.resolver?.close();
    this.bpf?.close({ unpin: !keep });
    if (!keep && this.bpf) {
      try {
        rmSync(join(this.config.pinPath, 'links'), { recursive: true, force: true });
        if (this.createdPinDir || existsSync(this.config.pinPath)) rmSync(this.config.pinPath, { recursive: true, force: true });
      } catch (err) {
        this.log.warn('removing the pin directory failed', { pinPath: this.config.pinPath, err });
      }
    }
    this.enrichment?.stop();
    await this.profiling?.stop();
    await this.server?.stop();
    this.log.info('stopped', { kept: keep });
  }
}
