import { Redis } from 'ioredis';
import { redisBusSuite } from './bus.redis.suite';

/** The Redis on this machine (ENVIRONMENT.md); each test uses its own key prefix and deletes its keys. */
const connect = () => new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });

redisBusSuite('Redis Streams', () => ({ connect }));
