// The standalone server behind `npm start`: aipaygent on plain node:http, configured by environment variables.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createAipaygent } from '../src/create.js';
import { optionsFromEnv } from '../src/env.js';
import { json } from '../src/http/respond.js';
import { nodeRequest, writeNodeResponse } from '../src/http/node.js';

const port = Number(process.env.PORT ?? 3000);
const options = optionsFromEnv();
// A newcomer gets a working admin token and API key without configuring anything.
const generatedToken = options.adminToken ? undefined : `adm_${randomBytes(24).toString('base64url')}`;
const ai = createAipaygent({ ...options, adminToken: options.adminToken ?? generatedToken });
await ai.ready;

const notFound = json(404, { status: 'error', error: { code: 'not_found', message: 'No such endpoint' } });
const server = createServer((req, res) => {
  ai.handle(nodeRequest(req, res, { ip: req.socket.remoteAddress }))
    .then((out) => writeNodeResponse(res, out ?? notFound))
    .catch(() => res.destroy());
});
server.listen(port, () => {
  const base = `http://localhost:${port}`;
  console.log(`aipaygent listening on ${base} (store: ${process.env.AIPAYGENT_STORE || 'memory'})`);
});

if (generatedToken) {
  const first = await ai.api.keys.create({ label: 'first key, printed at start' });
  console.log(`admin token (generated; set AIPAYGENT_ADMIN_TOKEN to choose one): ${generatedToken}`);
  console.log(`first API key: ${first.api_key}`);
  console.log(`try: curl -s http://localhost:${port}/memory/store -H "Authorization: Bearer ${first.api_key}" ` +
    `-H "Content-Type: application/json" -d '{"user_id":"dev_user_123","key":"hello","data":{"hi":true}}'`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // Stop accepting. The calls in flight still answer, streams included (ai.close waits up to 10 s),
    // then the store closes; exit once the connections have flushed (2 s at most).
    const flushed = new Promise((resolve) => server.close(resolve));
    void ai.close().then(async () => {
      server.closeIdleConnections();
      await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      process.exit(0);
    });
  });
}
