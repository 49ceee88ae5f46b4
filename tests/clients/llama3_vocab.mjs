// Writes the real Llama 3 vocabulary (128 256 tokens, 280 147 merges) as a llama.cpp-style
// vocab-only GGUF: the stand-in for llama.cpp's models/ggml-vocab-llama-bpe.gguf, which is too
// large for ../shared/fixtures/tokenizer (only its .inp/.out test vectors are there).
//
// usage: node tests/clients/llama3_vocab.mjs OUT.gguf
//
// Why here: the data comes from the npm package llama3-tokenizer-js@1.2.0 (MIT, belladoreai),
// pinned in this folder's package.json with the other npm test dependencies, and node resolves
// it from this folder's node_modules (scripts/setup.sh installs it). Users: the ctest
// tokenizer_llama3_vectors (tests/text/llama3_vocab_test.sh) and bench/grammar/grammar_bench.
//
// What the package holds: vocabById, the 128 000 byte-level BPE strings of Meta-Llama-3 (GPT-2
// byte-to-unicode form, 'Ġ' = space) followed by the 256 special tokens 128000..128255, and
// merges, a Map "left right" -> priority (smaller merges first). Its specials carry the
// Llama 3.1 names (128008 <|eom_id|>, 128010 <|python_tag|>, 128004 <|finetune_right_pad_id|>);
// Llama 3.0 calls those ids <|reserved_special_token_N|>. Both are control tokens either way.
//
// Layout (as llama.cpp's vocab GGUFs and ../shared/tools/gen_model.py): GGUF v3, 0 tensors,
// little-endian; key = u64 length + bytes, then u32 type, then the value; arrays are u32 element
// type + u64 count + elements; nothing after the last key. The hyper-parameter keys are
// Meta-Llama-3-8B's (llama.cpp's vocab-only loader reads them; pensieve's tokenizer does not).
import { writeFileSync } from 'node:fs';
import llama3 from 'llama3-tokenizer-js';

const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 };
const N_VOCAB = 128256, N_MERGES = 280147, FIRST_SPECIAL = 128000;
const BOS = 128000, EOS = 128001, EOT = 128009;

function u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; }
function u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; }
function str(s) { const b = Buffer.from(s, 'utf8'); return Buffer.concat([u64(b.length), b]); }

function scalar(type, v) {
  switch (type) {
    case T.u32: return u32(v);
    case T.i32: { const b = Buffer.alloc(4); b.writeInt32LE(v); return b; }
    case T.f32: { const b = Buffer.alloc(4); b.writeFloatLE(v); return b; }
    case T.bool: return Buffer.from([v ? 1 : 0]);
    case T.string: return str(v);
    default: throw new Error(`no writer for GGUF type ${type}`);
  }
}

function kv(key, type, value, elemType) {
  const parts = [str(key), u32(type)];
  if (type === T.array) {
    parts.push(u32(elemType), u64(value.length));
    for (const v of value) parts.push(scalar(elemType, v));
  } else {
    parts.push(scalar(type, value));
  }
  return Buffer.concat(parts);
}

function vocabData() {
  const tokens = llama3.vocabById;
  if (tokens.length !== N_VOCAB) throw new Error(`expected ${N_VOCAB} tokens, the package has ${tokens.length}`);
  const merges = [...llama3.merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
  if (merges.length !== N_MERGES) throw new Error(`expected ${N_MERGES} merges, the package has ${merges.length}`);
  for (const [id, text] of [[BOS, '<|begin_of_text|>'], [EOS, '<|end_of_text|>'], [EOT, '<|eot_id|>']]) {
    if (tokens[id] !== text) throw new Error(`token ${id} is '${tokens[id]}', not '${text}'`);
  }
  const types = tokens.map((_, id) => (id >= FIRST_SPECIAL ? 3 : 1));  // 3 CONTROL, 1 NORMAL
  return { tokens, types, merges };
}

function gguf() {
  const { tokens, types, merges } = vocabData();
  const kvs = [
    kv('general.architecture', T.string, 'llama'),
    kv('general.name', T.string, 'llama-bpe'),
    kv('llama.block_count', T.u32, 32),
    kv('llama.context_length', T.u32, 8192),
    kv('llama.embedding_length', T.u32, 4096),
    kv('llama.feed_forward_length', T.u32, 14336),
    kv('llama.attention.head_count', T.u32, 32),
    kv('llama.attention.head_count_kv', T.u32, 8),
    kv('llama.rope.freq_base', T.f32, 500000.0),
    kv('llama.attention.layer_norm_rms_epsilon', T.f32, 1e-5),
    kv('general.file_type', T.u32, 1),
    kv('llama.vocab_size', T.u32, N_VOCAB),
    kv('llama.rope.dimension_count', T.u32, 128),
    kv('tokenizer.ggml.model', T.string, 'gpt2'),
    kv('tokenizer.ggml.pre', T.string, 'llama-bpe'),
    kv('tokenizer.ggml.tokens', T.array, tokens, T.string),
    kv('tokenizer.ggml.token_type', T.array, types, T.i32),
    kv('tokenizer.ggml.merges', T.array, merges, T.string),
    kv('tokenizer.ggml.bos_token_id', T.u32, BOS),
    kv('tokenizer.ggml.eos_token_id', T.u32, EOS),
    kv('tokenizer.ggml.eot_token_id', T.u32, EOT),
  ];
  const header = Buffer.concat([Buffer.from('GGUF', 'latin1'), u32(3), u64(0), u64(kvs.length)]);
  return Buffer.concat([header, ...kvs]);
}

const out = process.argv[2];
if (!out || process.argv.length !== 3) {
  console.error('usage: node llama3_vocab.mjs OUT.gguf');
  process.exit(2);
}
const data = gguf();
writeFileSync(out, data);
console.log(`${out}: ${data.length} bytes, ${N_VOCAB} tokens, ${N_MERGES} merges`);
