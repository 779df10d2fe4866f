// A host Koa app with routes of its own, and aipaygent served under /ai.
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { createAipaygent } from '../src/index.js';
import { aipaygentKoa } from '../adapters/koa.js';

const ai = createAipaygent({ adminToken: process.env.AIPAYGENT_ADMIN_TOKEN ?? 'change-me-to-a-long-secret' });
const app = new Koa();
app.use(bodyParser());
app.use(aipaygentKoa(ai, { prefix: '/ai' }));
app.use(async (ctx) => {
  if (ctx.path === '/') ctx.body = { app: 'my-host-app', aipaygent: '/ai' };
});
app.listen(Number(process.env.PORT ?? 3000), () => console.log('host app with aipaygent under /ai'));
