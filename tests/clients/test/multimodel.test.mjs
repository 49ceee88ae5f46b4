// Several models per server (serve without -m): load on first use, keep-alive unload with the
// memory coming back, alternating models without reloads while they fit, LRU unload at
// --max-loaded, concurrent first requests sharing one load, a broken model isolated.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { BIN, MODEL, READY, startServer, sleep } from './helpers.mjs';

const ENDING = process.env.PENSIEVE_ENDING_MODEL;
const SHARED = process.env.PENSIEVE_SHARED_DIR;
const WORK = process.env.PENSIEVE_TEST_WORK || '/tmp';
const opts = { skip: READY ? false : 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)' };
const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

// A fresh store holding `models` ({name: file}); returns its folder.
function makeStore(models) {
  const dir = mkdtempSync(join(WORK, 'multi-store-'));
  dirs.push(dir);
  for (const [name, file] of Object.entries(models)) {
    const r = spawnSync(BIN, ['import', file, name], { env: { ...process.env, PENSIEVE_MODELS: join(dir, 'models') }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  return join(dir, 'models');
}

function genModel(shape, extra = []) {
  const out = join(WORK, `${shape}-${extra.join('')}.gguf`);
  const r = spawnSync('/usr/bin/python3', [join(SHARED, 'tools/gen_model.py'), '--shape', shape, '--out', out, '--quiet', ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

const rssBytes = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1]) * 1024;
async function metric(server, name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}
const loadedNames = async (ollama) => (await ollama.ps()).models.map((m) => m.name).sort();
const ask = (ollama, model) => ollama.generate({ model, prompt: 'Tell me a story', options: { temperature: 0, num_predict: 4 } });

test('keep_alive: an idle model is unloaded and its memory comes back', opts, async () => {
  // ~300 MB of f16 weights, all touched by every token (tied embeddings are the output matrix).
  const big = genModel('qwen2-0.5b', ['--layers', '2']);
  const models = makeStore({ big: big });
  const server = await startServer(['--keep-alive', '2s', '--parallel', '1', '--ctx', '512'], { PENSIEVE_MODELS: models }, { model: null });
  try {
    const ollama = new Ollama({ host: server.url });
    const before = rssBytes(server.proc.pid);
    const r = await ask(ollama, 'big');
    assert.equal(r.eval_count, 4);
    const loaded = rssBytes(server.proc.pid);
    assert.deepEqual(await loadedNames(ollama), ['big:latest']);
    const grew = loaded - before;
    assert.ok(grew > 200e6, `RSS grew by only ${(grew / 1e6).toFixed(0)} MB while the model was loaded`);
    for (let i = 0; i < 200 && (await loadedNames(ollama)).length > 0; i++) await sleep(100);
    assert.deepEqual(await loadedNames(ollama), []);
    const after = rssBytes(server.proc.pid);
    console.log(`RSS: ${(before / 1e6).toFixed(0)} MB idle, ${(loaded / 1e6).toFixed(0)} MB loaded, ${(after / 1e6).toFixed(0)} MB after keep_alive`);
    assert.ok(after - before < grew * 0.2, `RSS stayed ${((after - before) / 1e6).toFixed(0)} MB above the start after unload`);
    assert.equal(await metric(server, 'pensieve_model_unloads_total'), 1);
    assert.match(server.log(), /unloaded model big:latest \(keep_alive expired\)/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('two models served alternately load once each while both fit', opts, async () => {
  const models = makeStore({ tiny: MODEL, ending: ENDING });
  const server = await startServer(['--keep-alive', '10m'], { PENSIEVE_MODELS: models }, { model: null });
  try {
    const ollama = new Ollama({ host: server.url });
    const first = { tiny: await ask(ollama, 'tiny'), ending: await ask(ollama, 'ending') };
    for (let i = 0; i < 3; i++)
      for (const name of ['tiny', 'ending']) assert.equal((await ask(ollama, name)).response, first[name].response);
    assert.equal(await metric(server, 'pensieve_model_loads_total'), 2);
    assert.equal(await metric(server, 'pensieve_model_unloads_total'), 0);
    assert.deepEqual(await loadedNames(ollama), ['ending:latest', 'tiny:latest']);
    const listed = await (await fetch(`${server.url}/v1/models`)).json();
    assert.deepEqual(listed.data.map((m) => [m.id, m.state]).sort(), [['ending:latest', 'loaded'], ['tiny:latest', 'loaded']]);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('--max-loaded 1 unloads the least recently used model; first requests share one load', opts, async () => {
  const models = makeStore({ tiny: MODEL, ending: ENDING });
  const server = await startServer(['--max-loaded', '1'], { PENSIEVE_MODELS: models }, { model: null });
  try {
    const ollama = new Ollama({ host: server.url });
    const burst = await Promise.all([0, 1, 2, 3].map(() => ask(ollama, 'tiny')));
    for (const r of burst) assert.equal(r.response, burst[0].response);
    assert.equal(await metric(server, 'pensieve_model_loads_total'), 1);
    await ask(ollama, 'ending');
    assert.deepEqual(await loadedNames(ollama), ['ending:latest']);
    await ask(ollama, 'tiny');
    assert.deepEqual(await loadedNames(ollama), ['tiny:latest']);
    assert.equal(await metric(server, 'pensieve_model_loads_total'), 3);
    assert.equal(await metric(server, 'pensieve_model_unloads_total'), 2);
    assert.match(server.log(), /unloaded model tiny:latest \(least recently used; --max-loaded reached\)/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('a model that cannot load gets a clear error; the others keep serving', opts, async () => {
  const broken = genModel('tiny-llama');
  const models = makeStore({ tiny: MODEL, broken });
  // Cut the stored file short: its manifest still lists it, but its tensors end past the file.
  const tags = JSON.parse(spawnSync(BIN, ['list', '--json'], { env: { ...process.env, PENSIEVE_MODELS: models }, encoding: 'utf8' }).stdout);
  const blob = join(models, 'blobs', tags.find((m) => m.name === 'broken:latest').file);
  truncateSync(blob, Math.floor(statSync(blob).size / 2));
  const server = await startServer([], { PENSIEVE_MODELS: models }, { model: null });
  try {
    const ollama = new Ollama({ host: server.url });
    await assert.rejects(ask(ollama, 'broken'), (e) => e.status_code === 500 && /broken:latest' failed to load/.test(e.error));
    assert.equal((await ask(ollama, 'tiny')).eval_count, 4);
    await assert.rejects(ask(ollama, 'broken'), (e) => e.status_code === 500);
    assert.equal((await ask(ollama, 'tiny')).eval_count, 4);
    const listed = await (await fetch(`${server.url}/v1/models`)).json();
    assert.equal(listed.data.find((m) => m.id === 'broken:latest').state, 'failed');
    assert.equal(await metric(server, 'pensieve_model_load_failures_total'), 2);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
