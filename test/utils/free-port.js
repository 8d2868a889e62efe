// CommonJS with a declaration beside it, so jest's plain-ESM global setup and the TypeScript tests share it.
const { createServer } = require('node:net');

/** A TCP port on loopback that nothing listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

module.exports = { freePort };
