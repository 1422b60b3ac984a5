// The V8 flags the image starts the agent with (Dockerfile ENTRYPOINT; a test
// holds the two together). A young generation capped at 4 MiB semi-spaces:
// parsing API list pages and drains fills the default one (up to 16 MiB
// semi-spaces) and its pages stay resident: +69-86 MiB of RSS after syncing
// 10k pods with Node's defaults, +27 MiB with this (bench/ cost); ~6 % more
// collector CPU at 100k pairs (bench/ footprint).
//
// --no-opt: no TurboFan; Maglev still compiles the hot loops (drain, render).
// TurboFan's first compile, seconds after start even when idle, faults in
// 5.5 MiB of node's own code pages, which count in the agent's RSS (peak idle
// 73 -> 67 MiB, bench/ footprint); collector CPU at 100k pairs +5-15 % in
// paired runs (bench/ footprint, probe runs on a busy 2-vCPU machine).
// On the command line: NODE_OPTIONS refuses V8 flags like this one.
export const SHIPPED_NODE_FLAGS = ['--max-semi-space-size=4', '--no-opt'] as const;
