#!/usr/bin/env bash
# Safety net after a test run: removes simulated nodes and pods a crashed test
# worker could not tear down. Only namespaces named like the harness names them
# (ka<6 hex>-...) are touched; processes inside them are ours by construction.
set -u
for ns in $(ip netns list | awk '{print $1}' | grep -E '^ka[0-9a-f]{6}-'); do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null && echo "sweep: removed leftover namespace $ns" >&2
done
for pin in /sys/fs/bpf/ka[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]; do
  [[ -d $pin ]] || continue
  rm -rf "$pin" && echo "sweep: removed leftover pins $pin" >&2
done
rm -rf /tmp/ka[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-* 2>/dev/null
exit 0
