// Start and stop of the agent's HTTP servers (metrics, profiling), once.
import type { Server } from 'node:http';

/** Listens and resolves with the port bound (the one asked for, or the kernel's pick for 0). */
export async function listen(server: Server, port: number, address: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  const bound = server.address();
  return typeof bound === 'object' && bound ? bound.port : port;
}

/** Drops kept-alive connections first, so close() does not wait on a scraper's socket. */
export function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
