// A host Express app with routes of its own, and aipaygent mounted under /ai.
import express from 'express';
import { createAipaygent } from '../src/index.js';
import { aipaygentExpress } from '../adapters/express.js';

const ai = createAipaygent({ adminToken: process.env.AIPAYGENT_ADMIN_TOKEN ?? 'change-me-to-a-long-secret' });
const app = express();
app.get('/', (_req, res) => {
  res.json({ app: 'my-host-app', aipaygent: '/ai' });
});
app.use(express.json({ limit: '1mb' }));
app.use('/ai', aipaygentExpress(ai));
app.listen(Number(process.env.PORT ?? 3000), () => console.log('host app with aipaygent under /ai'));
