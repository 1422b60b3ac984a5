// Cost classes: what one byte between two endpoints costs, in the terms cloud
// bills use. Decided from where both ends are (node, zone, region) or, for an
// address outside the cluster, from the destinations file.

export const COST_CLASSES = ['same_node', 'same_zone', 'cross_zone', 'cross_region', 'internet', 'unknown'] as const;
export type CostClass = (typeof COST_CLASSES)[number];

/** Where an endpoint inside the cluster runs. */
export interface Placement {
  readonly node: string;
  /** topology.kubernetes.io/zone and /region of the node; '' when the node has no such label. */
  readonly zone: string;
  readonly region: string;
}

/**
 * The class of traffic from `src` to a destination inside the cluster.
 * Either end unplaced, or a zone or region missing where it decides: unknown
 * (never a guess: a missing label is not the same zone).
 */
export function classifyPlaced(src: Placement | undefined, dst: Placement | undefined): CostClass {
  if (!src || !dst) return 'unknown';
  if (src.node === dst.node) return 'same_node';
  if (src.region && dst.region && src.region !== dst.region) return 'cross_region';
  if (!src.zone || !dst.zone) return 'unknown';
  if (src.zone === dst.zone) return 'same_zone';
  // Zones differ; a region missing on one side still leaves them different zones.
  return 'cross_zone';
}
