// The layout of the structs in bpf/flows.h the agent reads. Offsets mirror
// the C layout, which _Static_assert pins down on the C side.

export const FLOW_KEY_SIZE = 40;
export const OVERFLOW_RECORD_SIZE = 64;

export type Protocol = 'tcp' | 'udp';

/** The pair_key (bpf/flows.h) of the flow_key at flow[at..] into out[to..]: the flow key without its ports. */
export function copyPairKey(flow: Buffer, at: number, out: Buffer, to: number): void {
  flow.copy(out, to, at, at + 4);
  flow.copy(out, to + 4, at + 8, at + FLOW_KEY_SIZE);
}

/** IP protocol numbers of the two protocols the programs count, both ways. */
export const PROTOCOL_NAMES: Record<number, Protocol> = { 6: 'tcp', 17: 'udp' };
export const PROTOCOL_NUMBERS: Record<Protocol, number> = { tcp: 6, udp: 17 };
