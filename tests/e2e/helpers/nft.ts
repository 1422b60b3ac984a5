// The tests' oracle: nftables rule counters, read back by rule comment.
import { inNetnsJson } from './exec.js';

export interface Counts {
  bytes: number;
  packets: number;
}

type Listing = { nftables: { rule?: { comment?: string; expr: { counter?: Counts }[] } }[] };

/** Counter of every commented rule in one chain, zero counters included; rules sharing a comment are summed. */
export async function ruleCounters(netns: string, family: string, table: string, chain: string): Promise<Map<string, Counts>> {
  const listing = await inNetnsJson<Listing>(netns, 'nft', ['-j', 'list', 'chain', family, table, chain]);
  const out = new Map<string, Counts>();
  for (const item of listing.nftables) {
    const counter = item.rule?.expr.find((e) => e.counter)?.counter;
    if (!item.rule?.comment || !counter) continue;
    const prev = out.get(item.rule.comment) ?? { bytes: 0, packets: 0 };
    out.set(item.rule.comment, { bytes: prev.bytes + counter.bytes, packets: prev.packets + counter.packets });
  }
  return out;
}

/** Adds the non-zero counters of `from` into `into`, by comment. */
export function addCounts(into: Map<string, Counts>, from: Map<string, Counts>): Map<string, Counts> {
  for (const [key, c] of from) {
    if (c.packets === 0) continue;
    const prev = into.get(key) ?? { bytes: 0, packets: 0 };
    into.set(key, { bytes: prev.bytes + c.bytes, packets: prev.packets + c.packets });
  }
  return into;
}
