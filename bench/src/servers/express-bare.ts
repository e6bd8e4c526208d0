import express from 'express';
import { benchPayload } from './fixture-tenants.js';

const app = express();
app.get('/projects', (_request, response) => {
  response.json(benchPayload);
});
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
