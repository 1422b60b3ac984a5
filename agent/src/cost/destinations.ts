// The destinations file: how addresses outside the cluster are classed, in
// Kubecost network-costs' shape (destinations.in-zone / in-region /
// cross-region / internet CIDR lists) plus named CIDR groups (cloud services,
// a peered VPC) that become a workload name of their own. JSON, or YAML
// (the chart writes JSON). Addresses in no list: public ones are `internet`,
// private ones `unknown` (Kubecost counts RFC 1918 as in-zone by default,
// which shows cross-zone traffic to a peered network as free).
import { readFileSync } from 'node:fs';
import { CidrTable, isPrivate, parseCidr } from './cidr.js';
import type { CostClass } from './classes.js';

/** Kubecost's list names and the cost class each stands for. */
export const DESTINATION_LISTS = {
  'in-zone': 'same_zone',
  'in-region': 'cross_zone',
  'cross-region': 'cross_region',
  internet: 'internet',
} as const satisfies Record<string, CostClass>;
export type DestinationList = keyof typeof DESTINATION_LISTS;

export interface DestinationGroup {
  readonly name: string;
  readonly class: DestinationList;
  readonly cidrs: readonly string[];
}

export interface DestinationsFile {
  readonly destinations?: Partial<Record<DestinationList, readonly string[]>> & { readonly groups?: readonly DestinationGroup[] };
}

/** What an address outside the cluster is. */
export interface External {
  readonly class: CostClass;
  /** The named group it belongs to, if any. */
  readonly group?: string;
}

const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export class Destinations {
  private readonly table = new CidrTable<External>();
  readonly groups: readonly string[];

  constructor(file: DestinationsFile = {}, where = 'destinations') {
    const d = file.destinations ?? {};
    if (typeof d !== 'object' || Array.isArray(d)) throw new Error(`${where}: "destinations" must be an object`);
    const known = new Set([...Object.keys(DESTINATION_LISTS), 'groups']);
    for (const key of Object.keys(d)) {
      if (!known.has(key)) throw new Error(`${where}: unknown key destinations.${key}: expected ${[...known].join(', ')}`);
    }
    // Groups first: for the same block, a group's name is the more specific fact.
    const names: string[] = [];
    for (const [i, g] of (d.groups ?? []).entries()) {
      const at = `${where}: destinations.groups[${i}]`;
      if (!g || typeof g.name !== 'string' || !GROUP_NAME.test(g.name)) throw new Error(`${at}.name ${JSON.stringify(g?.name)}: expected letters, digits, '_', '.', '-' (up to 63)`);
      if (!(g.class in DESTINATION_LISTS)) throw new Error(`${at}.class ${JSON.stringify(g.class)}: expected one of ${Object.keys(DESTINATION_LISTS).join(', ')}`);
      if (!Array.isArray(g.cidrs) || !g.cidrs.length) throw new Error(`${at}.cidrs: expected a non-empty list of CIDR blocks`);
      if (names.includes(g.name)) throw new Error(`${at}.name ${JSON.stringify(g.name)} appears twice`);
      names.push(g.name);
      for (const c of g.cidrs) this.table.add(this.cidr(c, `${at}.cidrs`), { class: DESTINATION_LISTS[g.class], group: g.name });
    }
    this.groups = names;
    for (const list of Object.keys(DESTINATION_LISTS) as DestinationList[]) {
      const cidrs = d[list] ?? [];
      if (!Array.isArray(cidrs)) throw new Error(`${where}: destinations.${list} must be a list of CIDR blocks`);
      for (const c of cidrs) this.table.add(this.cidr(c, `${where}: destinations.${list}`), { class: DESTINATION_LISTS[list] });
    }
  }

  private cidr(text: unknown, at: string) {
    if (typeof text !== 'string') throw new Error(`${at}: ${JSON.stringify(text)} is not a CIDR block`);
    try {
      return parseCidr(text);
    } catch (err) {
      throw new Error(`${at}: ${(err as Error).message}`);
    }
  }

  /** The class (and group) of an address outside the cluster. */
  classify(addr: ArrayLike<number>): External {
    return this.table.lookup(addr) ?? (isPrivate(addr) ? UNLISTED_PRIVATE : UNLISTED_PUBLIC);
  }

  /** The group an address is in, for collapsing the raw family's destinations. */
  groupOf(addr: ArrayLike<number>): string | undefined {
    return this.table.lookup(addr)?.group;
  }

  static parse(text: string, where: string): Destinations {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (jsonErr) {
      throw new Error(`${where}: not JSON (${(jsonErr as Error).message}); write the file as JSON (the chart does)`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${where}: expected an object with a "destinations" key`);
    return new Destinations(parsed as DestinationsFile, where);
  }

  static load(path: string): Destinations {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`EBPF_DESTINATIONS_FILE=${path}: ${(err as Error).message}`);
    }
    return Destinations.parse(text, `EBPF_DESTINATIONS_FILE=${path}`);
  }
}

const UNLISTED_PRIVATE: External = { class: 'unknown' };
const UNLISTED_PUBLIC: External = { class: 'internet' };
