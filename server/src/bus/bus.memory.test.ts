import { busContract } from './bus.contract';
import { createMemoryBus } from './bus.memory';

busContract('in-process', async (options) => createMemoryBus(options));
