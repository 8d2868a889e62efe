export default async function globalTeardown() {
  const server = globalThis.__CIM_EMBEDDED_PG__;
  if (server) await server.stop();
}
