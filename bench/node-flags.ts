// The V8 flags the image starts the agent with (Dockerfile ENTRYPOINT; a test
// holds the two together). A young generation capped at 4 MiB semi-spaces:
// parsing API list pages and drains fills the default one (up to 16 MiB
// semi-spaces) and its pages stay resident: +69-86 MiB of RSS after syncing
// 10k pods with Node's defaults, +27 MiB with this (bench/ cost); ~6 % more
// collector CPU at 100k pairs (bench/ footprint).
//
// Not shipped: --no-opt (no TurboFan; Maglev only). It saves 5.5 MiB of
// node's code pages in RSS but cost +5-15 % collector CPU at 100k pairs and a
// 100k-pair scrape 0.06 -> 0.12-0.18 s (bench/ footprint), and no RSS target's
// verdict changed with it.
// On the command line, as the ENTRYPOINT has them: NODE_OPTIONS refuses some V8 flags.
export const SHIPPED_NODE_FLAGS = ['--max-semi-space-size=4'] as const;
