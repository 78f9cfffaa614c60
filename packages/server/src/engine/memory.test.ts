import { engineConformance } from './conformance.js';
import { MemoryEngine } from './memory.js';

engineConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));
