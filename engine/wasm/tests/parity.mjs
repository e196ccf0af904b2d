// Runs the cases of the parity test (tests/parity.rs) through the WebAssembly build in Node:
// node parity.mjs MODULE CASES. CASES is JSON: {"loads": [request...], "previews": [request...]},
// each request a JSON string; the answers (JSON strings, as the module gives them) are written
// to stdout as {"loads": [...], "previews": [...]}, and the median time of one preview (ms) to
// stderr.
import { readFileSync } from 'node:fs';

const [moduleFile, casesFile] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(moduleFile), {});
const ex = instance.exports;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function call(name, request) {
  const bytes = encoder.encode(request);
  const ptr = ex.lotse_alloc(bytes.length) >>> 0;
  new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  const out = ex[name](ptr, bytes.length) >>> 0;
  ex.lotse_free(ptr, bytes.length);
  const len = new DataView(ex.memory.buffer).getUint32(out, true);
  const text = decoder.decode(new Uint8Array(ex.memory.buffer, out + 4, len));
  ex.lotse_free(out, len + 4);
  return text;
}

const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const loads = cases.loads.map((r) => call('lotse_load', r));
const times = [];
const previews = cases.previews.map((r) => {
  const t0 = performance.now();
  const answer = call('lotse_preview', r);
  times.push(performance.now() - t0);
  return answer;
});
times.sort((a, b) => a - b);
process.stderr.write(`median preview ${times.length ? times[times.length >> 1].toFixed(3) : 'n/a'} ms over ${times.length}\n`);
process.stdout.write(JSON.stringify({ loads, previews }));
