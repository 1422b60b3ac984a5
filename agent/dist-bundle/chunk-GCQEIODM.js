// agent/dist/metrics/listen.js
async function listen(server, port, address) {
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  const bound = server.address();
  return typeof bound === "object" && bound ? bound.port : port;
}
function close(server) {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export {
  listen,
  close
};
