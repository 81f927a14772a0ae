import { busContract } from './bus.contract';
import { createMemoryBroker } from './bus.memory';

busContract('in-process', async () => {
  const broker = createMemoryBroker();
  return { node: async (options) => broker.node(options) };
});
