// The official `ollama` npm client against `pensieve serve` in store mode (no -m): the models
// are named in a model store, load on demand, and answer Ollama's API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { Ollama } from 'ollama';
import { BIN, MODEL, READY, startServer } from './helpers.mjs';

const ENDING = process.env.PENSIEVE_ENDING_MODEL;
const WORK = process.env.PENSIEVE_TEST_WORK;
const HERE = dirname(fileURLToPath(import.meta.url));
let server;
let ollama;
let hub;
let store;
let ollamaPort;

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// The hub stand-in of the store tests (tests/store/hub_mock.py), for /api/pull.
async function startHub(config) {
  const cfg = join(store, 'hub.json');
  writeFileSync(cfg, JSON.stringify(config));
  const proc = spawn('/usr/bin/python3', [join(HERE, '../../store/hub_mock.py'), cfg], { stdio: ['ignore', 'pipe', 'ignore'] });
  const [line] = await new Promise((resolve) => createInterface({ input: proc.stdout }).once('line', (l) => resolve([l])));
  return { proc, url: `http://127.0.0.1:${line.trim()}` };
}

before(async () => {
  if (!READY) return;
  store = mkdtempSync(join(WORK || '/tmp', 'ollama-store-'));
  const env = { ...process.env, PENSIEVE_MODELS: join(store, 'models') };
  for (const [file, name] of [[MODEL, 'tiny'], [ENDING, 'ending:v1']]) {
    const r = spawnSync(BIN, ['import', file, name], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  hub = await startHub({ repos: { 'owner/Tiny-GGUF': [{ path: 'tiny-Q8_0.gguf', local: MODEL }] } });
  ollamaPort = await freePort();
  server = await startServer(['--keep-alive', '10m', '--ollama-port', String(ollamaPort)], { PENSIEVE_MODELS: env.PENSIEVE_MODELS, HF_ENDPOINT: hub.url, no_proxy: '127.0.0.1,localhost' }, { model: null });
  ollama = new Ollama({ host: server.url });
});
after(async () => {
  if (server) assert.equal(await server.stop(), 0);
  if (hub) hub.proc.kill();
  if (store) rmSync(store, { recursive: true, force: true });
});

const opts = { skip: READY ? false : 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)' };
const greedy = { temperature: 0, num_predict: 6 };

test('list, show, version: the store as Ollama describes models', opts, async () => {
  const { models } = await ollama.list();
  const names = models.map((m) => m.name).sort();
  assert.deepEqual(names, ['ending:v1', 'tiny:latest']);
  const tiny = models.find((m) => m.name === 'tiny:latest');
  assert.equal(tiny.details.format, 'gguf');
  assert.equal(tiny.details.family, 'qwen2');
  assert.match(tiny.digest, /^[0-9a-f]{64}$/);
  assert.ok(tiny.size > 0);
  const show = await ollama.show({ model: 'tiny' });
  assert.equal(show.details.family, 'qwen2');
  assert.equal(show.model_info['general.architecture'], 'qwen2');
  const { version } = await ollama.version();
  assert.match(version, /^\d+\.\d+\.\d+/);
});

test('--ollama-port: the same server answers where Ollama clients look', opts, async () => {
  const other = new Ollama({ host: `http://127.0.0.1:${ollamaPort}` });
  assert.deepEqual((await other.list()).models.map((m) => m.name).sort(), ['ending:v1', 'tiny:latest']);
  const a = await other.generate({ model: 'tiny', prompt: 'Hi', options: greedy });
  const b = await ollama.generate({ model: 'tiny', prompt: 'Hi', options: greedy });
  assert.equal(a.response, b.response);
});

test('chat: streamed pieces join to the non-streamed reply, which matches the OpenAI route', opts, async () => {
  const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }];
  const whole = await ollama.chat({ model: 'tiny', messages, options: greedy });
  assert.equal(whole.done, true);
  assert.equal(whole.done_reason, 'length');
  assert.equal(whole.eval_count, 6);
  assert.equal(whole.message.role, 'assistant');
  assert.ok(whole.prompt_eval_count > 0);
  let streamed = '';
  let last;
  for await (const part of await ollama.chat({ model: 'tiny', messages, options: greedy, stream: true })) {
    if (!part.done) streamed += part.message.content;
    last = part;
  }
  assert.equal(streamed, whole.message.content);
  assert.equal(last.done, true);
  assert.equal(last.eval_count, 6);
  const oa = await (await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', messages, temperature: 0, max_tokens: 6 }),
  })).json();
  assert.equal(oa.choices[0].message.content, whole.message.content);
  assert.equal(oa.usage.prompt_tokens, whole.prompt_eval_count);
});

test('generate: streaming and not agree; a seed repeats a sampled reply; num_ctx is checked', opts, async () => {
  const whole = await ollama.generate({ model: 'tiny', prompt: 'Tell me a story', options: greedy });
  let streamed = '';
  for await (const part of await ollama.generate({ model: 'tiny', prompt: 'Tell me a story', options: greedy, stream: true }))
    streamed += part.response;
  assert.equal(streamed, whole.response);
  assert.equal(whole.eval_count, 6);
  const sampled = { temperature: 1, seed: 42, num_predict: 8 };
  const a = await ollama.generate({ model: 'tiny', prompt: 'Once', options: sampled });
  const b = await ollama.generate({ model: 'tiny', prompt: 'Once', options: sampled });
  assert.equal(a.response, b.response);
  // num_ctx below the prompt's length is refused with Ollama's error shape.
  await assert.rejects(ollama.generate({ model: 'tiny', prompt: 'Once upon a time there was', options: { num_ctx: 3 } }),
    (e) => e.status_code === 400 && /num_ctx/.test(e.error));
});

test('format json and a JSON schema constrain the reply; images and unknown models get clear errors', opts, async () => {
  const r = await ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'a JSON object' }], format: 'json', options: greedy });
  assert.equal(r.done, true);
  assert.equal(typeof JSON.parse(r.message.content), 'object', r.message.content);
  // A random-weight model at temperature 1 still answers with the schema's shape.
  const schema = { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, n: { type: 'integer', minimum: 1, maximum: 9 } },
    required: ['city', 'n'], additionalProperties: false };
  for (const seed of [1, 2, 3]) {
    const s = await ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], format: schema,
      options: { temperature: 1, seed, num_predict: 200 } });
    const doc = JSON.parse(s.message.content);
    assert.deepEqual(Object.keys(doc).sort(), ['city', 'n'], s.message.content);
    assert.ok(typeof doc.city === 'string' && doc.city.length <= 12 && Number.isInteger(doc.n) && doc.n >= 1 && doc.n <= 9,
      s.message.content);
  }
  await assert.rejects(ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], format: { type: 'object', not: {} } }),
    (e) => e.status_code === 400 && /not/.test(e.error));
  await assert.rejects(ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'x', images: ['aGVsbG8='] }] }),
    (e) => e.status_code === 400 && /images/.test(e.error));
  await assert.rejects(ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status_code === 404 && /no-such-model/.test(e.error));
});

test('tools: declared tools and a tool-call history in Ollama\'s shape are accepted', opts, async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const r = await ollama.chat({
    model: 'tiny',
    tools,
    options: greedy,
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', content: '{"temp": 21}', tool_name: 'get_weather' },
    ],
  });
  assert.equal(r.done, true);
  assert.equal(r.eval_count, 6);
});

test('embed: batching does not change a vector; vectors are unit length; the legacy and OpenAI routes agree', opts, async () => {
  const texts = ['the cat sat on the mat', 'pensieve', 'a longer sentence about local inference servers'];
  const batch = await ollama.embed({ model: 'tiny', input: texts });
  assert.equal(batch.embeddings.length, 3);
  assert.ok(batch.prompt_eval_count > 0);
  for (let i = 0; i < texts.length; i++) {
    const one = await ollama.embed({ model: 'tiny', input: texts[i] });
    const v = batch.embeddings[i];
    assert.equal(one.embeddings[0].length, v.length);
    const diff = Math.max(...v.map((x, k) => Math.abs(x - one.embeddings[0][k])));
    assert.ok(diff < 1e-5, `input ${i}: batched and alone differ by ${diff}`);
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  }
  assert.notDeepEqual(batch.embeddings[0], batch.embeddings[1]);
  const legacy = await ollama.embeddings({ model: 'tiny', prompt: texts[1] });
  assert.ok(Math.max(...legacy.embedding.map((x, k) => Math.abs(x - batch.embeddings[1][k]))) < 1e-5);
  const oa = await (await fetch(`${server.url}/v1/embeddings`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', input: texts }),
  })).json();
  assert.equal(oa.data.length, 3);
  assert.equal(oa.usage.prompt_tokens, batch.prompt_eval_count);
  assert.ok(Math.max(...oa.data[2].embedding.map((x, k) => Math.abs(x - batch.embeddings[2][k]))) < 1e-5);
});

test('copy, delete, pull (through the same pull code as the CLI), ps and keep_alive 0', opts, async () => {
  await ollama.copy({ source: 'tiny', destination: 'tiny-copy' });
  assert.ok((await ollama.list()).models.some((m) => m.name === 'tiny-copy:latest'));
  await ollama.delete({ model: 'tiny-copy' });
  assert.ok(!(await ollama.list()).models.some((m) => m.name === 'tiny-copy:latest'));
  await assert.rejects(ollama.delete({ model: 'tiny-copy' }), (e) => e.status_code === 404);

  const statuses = [];
  for await (const p of await ollama.pull({ model: 'hf.co/owner/Tiny-GGUF:Q8_0', stream: true })) statuses.push(p.status);
  assert.equal(statuses.at(-1), 'success');
  assert.ok(statuses.some((s) => s.startsWith('pulling')));
  const pulled = await ollama.generate({ model: 'hf.co/owner/Tiny-GGUF:Q8_0', prompt: 'Tell me a story', options: greedy });
  const same = await ollama.generate({ model: 'tiny', prompt: 'Tell me a story', options: greedy });
  assert.equal(pulled.response, same.response);  // the same file under its pulled name
  await assert.rejects(ollama.pull({ model: 'llama3.2' }), (e) => e.status_code === 400 && /Hugging Face/.test(e.error));

  assert.ok((await ollama.ps()).models.some((m) => m.name === 'tiny:latest'));
  const unload = await ollama.generate({ model: 'tiny', prompt: '', keep_alive: 0 });
  assert.equal(unload.done_reason, 'unload');
  for (let i = 0; i < 50 && (await ollama.ps()).models.some((m) => m.name === 'tiny:latest'); i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.ok(!(await ollama.ps()).models.some((m) => m.name === 'tiny:latest'));
  const load = await ollama.generate({ model: 'tiny', prompt: '' });
  assert.equal(load.done_reason, 'load');
  assert.ok((await ollama.ps()).models.some((m) => m.name === 'tiny:latest'));
});
