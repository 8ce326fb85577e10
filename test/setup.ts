// Every property test runs from the same fast-check seed, so `npm test` is deterministic.
// To explore new random cases locally: FC_SEED=<n> npx vitest run
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261129) });
