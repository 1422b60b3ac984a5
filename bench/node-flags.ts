// The V8 flags the image starts the agent with (Dockerfile ENTRYPOINT; a test
// holds the two together). A young generation capped at 4 MiB semi-spaces:
// parsing API list pages and drains fills the default one (up to 16 MiB
// semi-spaces) and its pages stay resident: +69-86 MiB of RSS after syncing
// 10k pods with Node's defaults, +27 MiB with this (bench/ cost); ~6 % more
// collector CPU at 100k pairs (bench/ footprint).
export const SHIPPED_NODE_FLAGS = ['--max-semi-space-size=4'] as const;
