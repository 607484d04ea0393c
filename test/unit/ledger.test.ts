// The in-memory ledger of `npm start` against the ledgers' behaviour table (Redis: test/integration/ledger-redis).
import { memoryLedger } from '../../src/ledger/memory.js';
import { ledgerBehaviour } from '../helpers/ledger-suite.js';

ledgerBehaviour('memory', async (walletMax) => memoryLedger(walletMax));
