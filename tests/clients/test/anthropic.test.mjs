// The official Anthropic SDK against `pensieve serve` (tiny random-weight qwen2, 65536 ctx).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { READY, startServer } from './helpers.mjs';

let server;
let client;

before(async () => {
  if (!READY) return;
  server = await startServer();
  client = new Anthropic({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
});
after(async () => { if (server) assert.equal(await server.stop(), 0); });

const opts = { skip: READY ? false : 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)' };

test('non-streaming message: echoed model, text block, real usage', opts, async () => {
  const msg = await client.messages.create({
    model: 'claude-sonnet-4-6',
    max_tokens: 8,
    temperature: 0,
    messages: [{ role: 'user', content: 'Say hello.' }],
  });
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.model, 'claude-sonnet-4-6');
  assert.match(msg.id, /^msg_/);
  assert.equal(msg.content.length, 1);
  assert.equal(msg.content[0].type, 'text');
  // Random weights, greedy: no EOS within 8 tokens (deterministic; checked when written).
  assert.equal(msg.stop_reason, 'max_tokens');
  assert.equal(msg.stop_sequence, null);
  assert.equal(msg.usage.output_tokens, 8);
  // The same request streamed gives the same text (greedy decoding is deterministic).
  const streamed = await client.messages.stream({
    model: 'claude-sonnet-4-6', max_tokens: 8, temperature: 0, messages: [{ role: 'user', content: 'Say hello.' }],
  }).finalMessage();
  assert.equal(streamed.content[0].text, msg.content[0].text);
  const count = await client.messages.countTokens({
    model: 'claude-sonnet-4-6',
    messages: [{ role: 'user', content: 'Say hello.' }],
  });
  // input + cache_read is the whole prompt, the same count count_tokens gives.
  assert.equal(msg.usage.input_tokens + msg.usage.cache_read_input_tokens, count.input_tokens);
});

test('streaming message: SDK events in order, final message matches the deltas', opts, async () => {
  const stream = client.messages.stream({
    model: 'claude-haiku-4-5-20251001',
    max_tokens: 12,
    messages: [{ role: 'user', content: 'Tell me a story.' }],
  });
  const order = [];
  let text = '';
  for await (const ev of stream) {
    order.push(ev.type);
    if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
  }
  const final = await stream.finalMessage();
  assert.equal(order[0], 'message_start');
  assert.equal(order.at(-1), 'message_stop');
  assert.equal(order.at(-2), 'message_delta');
  assert.equal(final.content[0].text, text);
  assert.equal(final.model, 'claude-haiku-4-5-20251001');
  assert.equal(final.usage.output_tokens, 12);
  assert.equal(final.stop_reason, 'max_tokens');
});

// The tiny model's GPT-2 vocabulary has no <|im_start|> token: the Qwen template's markers are
// plain text, so a rendered prompt can be sent as an OpenAI legacy completion and compared.
const qwen = (turns) => turns.map(([role, text]) => `<|im_start|>${role}\n${text}<|im_end|>\n`).join('') + '<|im_start|>assistant\n';

test('prefill continues the assistant turn: the same tokens as completing the rendered prompt + prefill', opts, async () => {
  const msg = await client.messages.create({
    model: 'local',
    max_tokens: 5,
    temperature: 0,
    metadata: { user_id: 'u1' },
    system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Count.' }] },
      { role: 'assistant', content: '1, 2,' },
    ],
  });
  assert.equal(msg.content[0].type, 'text');
  assert.equal(msg.stop_reason, 'max_tokens');
  const r = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'x', prompt: `${qwen([['system', 'You are terse.'], ['user', 'Count.']])}1, 2,`, max_tokens: 5, temperature: 0 }),
  });
  const raw = await r.json();
  assert.equal(msg.content[0].text, raw.choices[0].text);
  assert.equal(msg.usage.input_tokens + msg.usage.cache_read_input_tokens, raw.usage.prompt_tokens);
  // Without the prefill the answer differs: the prefill really reached the model.
  const plain = await client.messages.create({
    model: 'local', max_tokens: 5, temperature: 0, system: 'You are terse.', messages: [{ role: 'user', content: 'Count.' }],
  });
  assert.notEqual(plain.content[0].text, msg.content[0].text);
});

test('stop_sequences end the text before the earliest match and name it', opts, async () => {
  const body = { model: 'local', max_tokens: 16, temperature: 0, messages: [{ role: 'user', content: 'Go on.' }] };
  const full = (await client.messages.create(body)).content[0].text;
  assert.ok(full.length >= 12, full);
  const early = full.slice(5, 8);
  const late = full.slice(9, 12);
  const msg = await client.messages.create({ ...body, stop_sequences: [late, early], top_k: 20, top_p: 0.9 });
  const first = full.indexOf(early) <= full.indexOf(late) ? early : late;
  assert.equal(msg.stop_reason, 'stop_sequence');
  assert.equal(msg.stop_sequence, first);
  assert.equal(msg.content[0].text, full.slice(0, full.indexOf(first)));
  // A stop sequence that never occurs changes nothing.
  const none = await client.messages.create({ ...body, stop_sequences: ['\u0000never'] });
  assert.equal(none.content[0].text, full);
  assert.equal(none.stop_reason, 'max_tokens');
});

test('tool round trip: tools, tool_choice, tool_use and tool_result history', opts, async () => {
  const tools = [{
    name: 'get_weather',
    description: 'Current weather for a city',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  }];
  const messages = [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: 'sunny' }], is_error: false }] },
  ];
  // A forced tool_choice is also an instruction in the system turn (src/server/prompt.cpp):
  // checked here is that it reaches the prompt, and that an answer cut at max_tokens (4 tokens:
  // too few for even a constrained call to finish) is reported as text.
  // structured_output.test.mjs checks the constrained calls themselves.
  const inputTokens = {};
  for (const tool_choice of [{ type: 'auto' }, { type: 'any' }, { type: 'tool', name: 'get_weather' }, { type: 'none' }]) {
    const msg = await client.messages.create({ model: 'claude-x', max_tokens: 4, temperature: 0, tools, tool_choice, messages });
    assert.equal(msg.type, 'message');
    assert.equal(msg.stop_reason, 'max_tokens');
    assert.deepEqual(msg.content.map((b) => b.type), ['text']);
    inputTokens[tool_choice.type] = msg.usage.input_tokens + msg.usage.cache_read_input_tokens;
  }
  const instruction = async (text) => (await (await fetch(`${server.url}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'x', prompt: text, max_tokens: 1 }),
  })).json()).usage.prompt_tokens;
  // This conversation has no system turn: the instruction becomes one, and replaces the Qwen
  // template's default system text (its tools branch writes that only when there is none).
  const qwenDefault = await instruction('You are Qwen, created by Alibaba Cloud. You are a helpful assistant.');
  const anyExtra = await instruction('You must answer by calling one of the provided tools.') - qwenDefault;
  const toolExtra = await instruction('You must answer by calling the tool "get_weather".') - qwenDefault;
  assert.ok(Math.abs(inputTokens.any - inputTokens.auto - anyExtra) <= 1, JSON.stringify({ inputTokens, anyExtra }));
  assert.ok(Math.abs(inputTokens.tool - inputTokens.auto - toolExtra) <= 1, JSON.stringify({ inputTokens, toolExtra }));
  assert.ok(inputTokens.none < inputTokens.auto - 20, JSON.stringify(inputTokens));  // no tool schemas
  const withTools = await client.messages.countTokens({ model: 'claude-x', tools, messages });
  const without = await client.messages.countTokens({ model: 'claude-x', messages: [{ role: 'user', content: 'Weather in Paris?' }] });
  assert.ok(withTools.input_tokens > without.input_tokens + 20);
});

test('models list and retrieve expose the context size', opts, async () => {
  const page = await client.models.list();
  assert.ok(page.data.length >= 1);
  // no -c: a server gets the model's whole training context (65536; the paged KV pool makes a long
  // limit cost nothing until a request uses it), unlike `run` and `chat` (at most 8192)
  assert.equal(page.data[0].max_input_tokens, 65536);
  const m = await client.models.retrieve('claude-opus-4-8');
  assert.equal(m.id, 'claude-opus-4-8');
  await assert.rejects(client.models.retrieve('no-such-model'), (e) => e.status === 404 && e.error?.error?.type === 'not_found_error');
});

test('invalid requests are 400 invalid_request_error naming the problem', opts, async () => {
  const bad = async (body, pattern) => {
    await assert.rejects(client.messages.create({ model: 'claude-x', ...body }), (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.error.type, 'error');
      assert.equal(e.error.error.type, 'invalid_request_error');
      assert.match(e.error.error.message, pattern);
      return true;
    });
  };
  await bad({ max_tokens: 0, messages: [{ role: 'user', content: 'x' }] }, /max_tokens/);
  await bad({ max_tokens: 5, temperature: 1.5, messages: [{ role: 'user', content: 'x' }] }, /temperature/);
  await bad({
    max_tokens: 5,
    messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] }],
  }, /image/);
});

test('prefix reuse is reported as cache_read_input_tokens, despite a changing billing header', opts, async () => {
  const long = 'The quick brown fox jumps over the lazy dog. '.repeat(40);
  const body = (cch) => ({
    model: 'claude-sonnet-4-6',
    max_tokens: 2,
    system: [
      { type: 'text', text: `x-anthropic-billing-header: cc_version=2.1.112.4c3; cc_entrypoint=sdk-cli; cch=${cch};` },
      { type: 'text', text: long, cache_control: { type: 'ephemeral' } },
    ],
    messages: [{ role: 'user', content: 'Summarize.' }],
  });
  const first = await client.messages.create(body('00000'));
  const second = await client.messages.create(body('1a2b3'));
  const total = second.usage.input_tokens + second.usage.cache_read_input_tokens;
  assert.equal(total, first.usage.input_tokens + first.usage.cache_read_input_tokens);
  // The prefix cache shares whole 16-token KV blocks and leaves at least 8 tokens to compute:
  // at most 8 + 15 tokens are recomputed.
  assert.ok(second.usage.cache_read_input_tokens >= total - 23, JSON.stringify(second.usage));
});
