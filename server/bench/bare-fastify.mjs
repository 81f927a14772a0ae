// The cold-start baseline (cold-start.ts): a bare Fastify HTTPS server with one /readyz route, plain
// JavaScript, on the same certificate files as the Huiliu server it is compared with.
// Environment: PORT, TLS_DIR (holding server.pem, ca.pem and server-key.pem).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';

const dir = process.env.TLS_DIR ?? '.';
const cert = readFileSync(join(dir, 'server.pem'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8');
const app = Fastify({ https: { cert, key: readFileSync(join(dir, 'server-key.pem'), 'utf8') } });
app.get('/readyz', async () => ({ ready: true }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
