#!/usr/bin/env bash
# Builds the real Dockerfile without a Docker engine or registry access
# (buildah, --pull=never, base images made by local-base-images.sh), then starts
# the agent from the image the way the chart runs it: read-only root
# filesystem, /tmp as tmpfs, root with privileges, a bpffs at /sys/fs/bpf.
# Checks: --help lists EBPF_METRICS_PORT; `check --output json` prints JSON; the
# agent serves /health/ready and /metrics with its programs loaded, and exits 0
# on SIGTERM. Needs root, buildah, podman, debootstrap and runc (Debian packages).
# Run: npm run image:local
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-localhost/ebpf-agent:local}
NAME="ebpf-agent-local-$$"
log() { printf '[image:local] %s\n' "$*" >&2; }

for tool in buildah podman debootstrap; do
  command -v "$tool" >/dev/null || { log "$tool is missing: apt-get install buildah podman debootstrap runc"; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { log "run as root (rootful buildah/podman, bpffs mount)"; exit 2; }

started=$(date +%s)
bash scripts/image/local-base-images.sh
# chroot isolation: RUN steps need no OCI runtime or cgroup set-up, which some
# CI sandboxes (hybrid cgroups) do not allow.
buildah bud --pull=never --layers --isolation=chroot --quiet -t "$IMAGE" -f Dockerfile . >/dev/null
built=$(date +%s)
log "built $IMAGE in $((built - started)) s ($(podman image inspect -f '{{.Size}}' "$IMAGE") bytes)"

# runc where present (crun refuses hybrid cgroup hosts); ulimits no higher than
# this shell's, since raising them needs privileges some hosts do not grant.
run_flags=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
command -v runc >/dev/null && run_flags+=(--runtime runc)

bpffs=$(mktemp -d)
cleanup() {
  for c in "$NAME" "$NAME-check"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  # Untagged images: earlier builds of $IMAGE and this build's stage layers.
  buildah rmi --prune >/dev/null 2>&1 || true
  mountpoint -q "$bpffs" && umount "$bpffs"
  rmdir "$bpffs" 2>/dev/null || true
}
trap cleanup EXIT
# A private bpffs instance: pins made by this run cannot meet the host's.
mount -t bpf bpf "$bpffs"

help=$(podman run "${run_flags[@]}" --rm --network=none --read-only --tmpfs /tmp "$IMAGE" --help)
grep -q 'EBPF_METRICS_PORT' <<<"$help" || { log "--help does not list EBPF_METRICS_PORT:"; echo "$help" >&2; exit 1; }
log "--help: exit 0, lists EBPF_METRICS_PORT"

set +e
check=$(timeout 60 podman run "${run_flags[@]}" --rm --name "$NAME-check" --network=none --read-only --tmpfs /tmp --privileged \
  -v "$bpffs:/sys/fs/bpf" "$IMAGE" check --output json)
check_status=$?
set -e
# shellcheck disable=SC2016 # JavaScript template literals, not shell
node -e 'const r = JSON.parse(process.argv[1]); console.error(`[image:local] check --output json: exit ${process.argv[2]}, ok=${r.ok}, ` + r.checks.map((c) => `${c.name}=${c.status}`).join(" "))' \
  "$check" "$check_status" || { log "check did not print JSON (exit $check_status):"; echo "$check" >&2; exit 1; }

podman run "${run_flags[@]}" -d --name "$NAME" --network=none --read-only --tmpfs /tmp --privileged \
  -v "$bpffs:/sys/fs/bpf" -e EBPF_COLLECTION_INTERVAL=1s "$IMAGE" >/dev/null
# The image has no curl; its own node fetches from inside the container's netns.
probe='const [path] = process.argv.slice(1);
const deadline = Date.now() + 30000;
const go = () => fetch("http://127.0.0.1:9090" + path).then(async (r) => {
  if (r.status !== 200) throw new Error("HTTP " + r.status);
  process.stdout.write(await r.text());
}).catch((e) => Date.now() < deadline ? setTimeout(go, 500) : (console.error(path + ": " + e.message), process.exit(1)));
go();'
podman exec "$NAME" node -e "$probe" /health/ready >/dev/null || { podman logs "$NAME" >&2; exit 1; }
metrics=$(podman exec "$NAME" node -e "$probe" /metrics)
for prog in tc_pod_egress tc_host_egress; do
  grep -q "^kubeadapt_bpf_load_status{program=\"$prog\"} 1$" <<<"$metrics" \
    || { log "/metrics has no kubeadapt_bpf_load_status{program=\"$prog\"} 1"; podman logs "$NAME" >&2; exit 1; }
done
log "agent ready on a read-only root filesystem; /metrics reports both programs loaded"
podman stop -t 20 "$NAME" >/dev/null
status=$(podman inspect -f '{{.State.ExitCode}}' "$NAME")
[[ $status -eq 0 ]] || { log "agent exited $status after SIGTERM"; podman logs "$NAME" >&2; exit 1; }
log "SIGTERM: agent exited 0; total $(($(date +%s) - started)) s"
