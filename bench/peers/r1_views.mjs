// Our training views, for r1_train_torch.py --views-from: the two Poisson views of every training
// step of `spikessl train --loss L --epochs E --seed S` (R1 defaults: batch 256, T = 8), drawn as
// the CLI draws them (the training stream of runStreams(S): each epoch's shuffle and each step's
// two views), written to stdout as packed bits (numpy's unpackbits order), one step
// after the other: view 1 [8, 256, 784] then view 2.
//   npm run build && node bench/peers/r1_views.mjs 6 0 | /usr/bin/python3 bench/peers/r1_train_torch.py --views-from /dev/stdin --seed 0
// Lets PyTorch train on our random streams, to tell whether a difference between the two follows
// the streams or the training.
import { writeSync } from 'node:fs';
const DIST = process.env.SPIKESSL_DIST ?? new URL('../../dist', import.meta.url).pathname;
const { batches, poisson, loadMnist, runStreams } = await import(`${DIST}/node.js`);

const EPOCHS = Number(process.argv[2] ?? 6);
const SEED = Number(process.argv[3] ?? 0);
const BATCH = 256;
const T = 8;

const rng = runStreams(SEED).train; // the weights' initialisation has a stream of its own
const train = loadMnist({ split: 'train' });

function pack(bits, into, offset) {
  for (let i = 0; i < bits.length; i += 8) {
    let byte = 0;
    for (let j = 0; j < 8; j++) byte |= (bits[i + j] ? 1 : 0) << (7 - j);
    into[offset + i / 8] = byte;
  }
}

const viewBytes = (T * BATCH * 784) / 8;
const buf = new Uint8Array(2 * viewBytes);
for (let e = 0; e < EPOCHS; e++) {
  for (const batch of batches(train, { batchSize: BATCH, dropLast: true, shuffle: true, rng })) {
    pack(poisson(batch.x, { steps: T, rng }).data, buf, 0);
    pack(poisson(batch.x, { steps: T, rng }).data, buf, viewBytes);
    for (let off = 0; off < buf.length; ) off += writeSync(1, buf, off);
  }
}
