# Sourced by the README's commands (scripts/test.sh, scripts/demo.sh) and bench.
# Builds a PATH on which nothing from node_modules can shadow a system tool:
# `npm run`/`npm test` put node_modules/.bin first, and ava 7 depends on
# @vercel/nft, whose CLI is installed there as `nft` (nftables' name too).
# Order: Node 24 (when setup fetched it), the Go tools setup built, the system's
# directories, then whatever else the caller had (node_modules/.bin removed).
system_path() {
  local root=$1 kept=() dir
  local -a lead=()
  [[ -x $root/.tools/node24/bin/node ]] && lead+=("$root/.tools/node24/bin")
  lead+=("$root/.tools/bin" /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin)
  IFS=: read -r -a rest <<<"${PATH:-}"
  for dir in "${rest[@]}"; do
    [[ -z $dir || $dir == */node_modules/.bin ]] && continue
    [[ " ${lead[*]} ${kept[*]} " == *" $dir "* ]] && continue
    kept+=("$dir")
  done
  local IFS=:
  printf '%s' "${lead[*]}${kept[*]:+:${kept[*]}}"
}

# The tests and the demo attach BPF programs and create network namespaces: they
# need root. A user with sudo gets the same command re-run through it.
run_as_root() { # script-path args...
  [[ $(id -u) -eq 0 ]] && return 0
  if command -v sudo >/dev/null; then
    echo "[$(basename "$1" .sh)] not root: re-running with sudo" >&2
    exec sudo --preserve-env=PATH "$(command -v bash)" "$@"
  fi
  echo "$(basename "$1" .sh) attaches BPF programs and creates network namespaces: run it as root (no sudo here)" >&2
  exit 2
}
