// Reads GGUF files with Hugging Face's independent GGUF parser and compares what it sees
// with `temoto info --json` of the same file: version, every tensor's name, type, shape and
// offset, the data offset, and every scalar metadata value. Usage:
//   node gguf_check.mjs TEMOTO FILE.gguf...
import { gguf, GGMLQuantizationType } from "@huggingface/gguf";
import { execFileSync } from "node:child_process";

const [temoto, ...files] = process.argv.slice(2);
let failures = 0;
for (const file of files) {
  const ours = JSON.parse(execFileSync(temoto, ["info", "--json", "--max-array", "0", file]));
  const theirs = await gguf(file, { allowLocalFile: true });
  const problems = [];
  if (Number(theirs.metadata.version) !== ours.version) problems.push("version");
  if (theirs.tensorInfos.length !== ours.tensors.length) problems.push("tensor count");
  theirs.tensorInfos.forEach((t, i) => {
    const o = ours.tensors[i];
    const type = GGMLQuantizationType[t.dtype].toLowerCase();
    const shape = t.shape.map(Number);
    if (!o || o.name !== t.name || o.type.toLowerCase() !== type ||
        JSON.stringify(o.shape) !== JSON.stringify(shape) || o.offset !== Number(t.offset))
      problems.push(`tensor ${t.name}: ${type} ${shape} @${t.offset} vs ${JSON.stringify(o)}`);
  });
  for (const [key, value] of Object.entries(theirs.metadata)) {
    if (key === "version" || key === "tensor_count" || key === "kv_count") continue;
    if (!(key in ours.metadata)) { problems.push(`key ${key} missing`); continue; }
    if (Array.isArray(value)) continue; // arrays: lengths are checked by temoto's own tests
    const a = typeof value === "bigint" ? Number(value) : value;
    const b = ours.metadata[key];
    const same = typeof a === "number" ? Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a)) : a === b;
    if (!same) problems.push(`key ${key}: ${a} vs ${b}`);
  }
  if (Object.keys(ours.metadata).length !== Object.keys(theirs.metadata).length - 3)
    problems.push("metadata key count");
  if (problems.length) {
    failures++;
    console.log(`FAIL ${file}:\n  ` + problems.slice(0, 10).join("\n  "));
  } else {
    console.log(`ok   ${file}: ${theirs.tensorInfos.length} tensors, ${Object.keys(ours.metadata).length} keys read alike`);
  }
}
process.exit(failures ? 1 : 0);
