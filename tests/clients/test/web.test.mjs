// The web chat page (GET /) in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core with the system browser) against the real `pensieve serve`: streaming through
// the server's own /v1/chat/completions, the stop button, conversations surviving a reload, safe
// Markdown rendering, the model picker and the API-key prompt. Screenshots go to
// <build>/test-artifacts/ (look at them: they are what a user sees).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import OpenAI from 'openai';
import { BIN, READY, sleep, startServer } from './helpers.mjs';

// stories260K writes readable text (the greedy check compares it on screen); the tiny random
// qwen2 of run.sh has a 65536-token context, so a reply can run until it is stopped.
const STORIES = process.env.PENSIEVE_SHARED_DIR ? join(process.env.PENSIEVE_SHARED_DIR, 'fixtures/models/stories260K.gguf') : '';

const CHROMIUM = process.env.PENSIEVE_CHROMIUM || '/usr/bin/chromium';
let chromium = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch { /* reported as a skip below */ }
const skip = !READY ? 'SKIP: PENSIEVE_BIN / PENSIEVE_TEST_MODEL not set (run through run.sh)'
  : !chromium ? 'SKIP: playwright-core is not installed (scripts/setup.sh runs npm ci in tests/clients)'
    : !existsSync(CHROMIUM) ? `SKIP: no Chromium at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium)` : false;
const opts = { skip, timeout: 180000 };
const ARTIFACTS = BIN ? join(dirname(BIN), 'test-artifacts') : '';

async function openBrowser() {
  // As root (CI) Chromium's sandbox cannot start: --no-sandbox is then required.
  const args = ['--disable-dev-shm-usage', ...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [])];
  return chromium.launch({ executablePath: CHROMIUM, args });
}

// A page that may reach only the server: anything else is recorded and refused (the page must
// work offline: no CDN, no fonts, nothing from elsewhere).
async function openPage(browser, server, external) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(server.url + '/') || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  return { context, page, errors };
}

const lastReply = (page) => page.locator('.thread > .msg.assistant').last();
const replyText = (page) => lastReply(page).locator('.body').textContent();

async function setSetting(page, id, value) {
  if (await page.locator('#settings').isHidden()) await page.click('#toggle-settings');
  await page.fill('#' + id, String(value));
}

async function sendMessage(page, text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

test('web page: streams a greedy reply identical to the API\'s, renders Markdown safely, loads nothing from elsewhere', opts, async () => {
  const server = await startServer(['--alias', 'tiny'], {}, { model: STORIES });
  const browser = await openBrowser();
  const external = [];
  try {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.match(res.headers.get('content-security-policy'), /default-src 'none'/);
    assert.match(res.headers.get('request-id'), /^req_[0-9a-f]{24}$/);
    const html = await res.text();
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, 'the page loads nothing from elsewhere');

    const { page, errors } = await openPage(browser, server, external);
    await page.goto(server.url + '/');
    await page.waitForSelector('#model option', { state: 'attached' });
    assert.deepEqual(await page.locator('#model option').allTextContents(), ['tiny']);
    assert.match(await page.textContent('#status-text'), /cpu/);

    // A greedy reply: what the page stored must be exactly what the API answers for the same request.
    await setSetting(page, 'system', 'You are terse.');
    await setSetting(page, 'temperature', 0);
    await setSetting(page, 'max_tokens', 40);
    await sendMessage(page, 'Hello there');
    await page.waitForSelector('.msg.assistant[data-state="done"]', { timeout: 60000 });
    const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('pensieve.conversations')));
    const convs = await stored();
    assert.equal(convs.length, 1);
    assert.equal(convs[0].title, 'Hello there');
    assert.equal(convs[0].messages.length, 2);
    const greedy = convs[0].messages[1].content;
    const oa = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const direct = await oa.chat.completions.create({
      model: 'tiny', temperature: 0, max_tokens: 40,
      messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hello there' }],
    });
    assert.equal(greedy, direct.choices[0].message.content);
    assert.match(greedy, /[a-z]{3}/, 'readable text');
    // On screen: the same words (Markdown turns line breaks into <br>).
    assert.equal((await replyText(page)).replace(/\s+/g, ''), greedy.replace(/\s+/g, ''));
    assert.match(await lastReply(page).locator('.meta').textContent(), /^40 tokens · \d+\.\d s$/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-chat.png') });

    // Markdown: formatting rendered, every piece of HTML in the text shown as text, never run.
    const markdown = [
      '# Title', 'Some **bold**, *italic* and `inline <code>`.', '',
      '```js', 'const x = "<b>not bold</b>";', '```', '',
      '- one', '- two', '', '1. first', '2. second', '',
      '| a | b |', '|---|---|', '| <i>1</i> | 2 |', '',
      '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>',
      '[safe](https://example.com/x) [unsafe](javascript:window.__pwned=3)', '> quoted',
    ].join('\n');
    await page.evaluate((content) => {
      const convs = JSON.parse(localStorage.getItem('pensieve.conversations'));
      convs.unshift({ id: 'md', title: 'Markdown', updated: Date.now(), messages: [
        { role: 'user', content: 'Show me <b>markdown</b>' }, { role: 'assistant', content, model: 'tiny' }] });
      localStorage.setItem('pensieve.conversations', JSON.stringify(convs));
      localStorage.setItem('pensieve.current', JSON.stringify('md'));
    }, markdown);
    await page.reload();
    await page.waitForSelector('.thread .msg.assistant .body h1');
    const body = lastReply(page).locator('.body');
    assert.equal(await body.locator('h1').textContent(), 'Title');
    assert.equal(await body.locator('strong').textContent(), 'bold');
    assert.equal(await body.locator('em').textContent(), 'italic');
    assert.equal(await body.locator('p code').first().textContent(), 'inline <code>');
    assert.equal(await body.locator('.code pre code').textContent(), 'const x = "<b>not bold</b>";');
    assert.equal(await body.locator('.code-head span').textContent(), 'js');
    assert.deepEqual(await body.locator('ul li').allTextContents(), ['one', 'two']);
    assert.deepEqual(await body.locator('ol li').allTextContents(), ['first', 'second']);
    assert.deepEqual(await body.locator('td').allTextContents(), ['<i>1</i>', '2']);
    assert.equal(await body.locator('blockquote').textContent(), 'quoted');
    assert.equal(await page.locator('.thread img, .thread script, .thread b, .thread i').count(), 0);
    assert.equal(await body.locator('a').count(), 1);
    assert.equal(await body.locator('a').getAttribute('href'), 'https://example.com/x');
    assert.match(await body.textContent(), /<img src=x onerror="window.__pwned=1">/);
    assert.equal(await page.locator('.msg.user .body').textContent(), 'Show me <b>markdown</b>');
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await page.screenshot({ path: join(ARTIFACTS, 'web-chat-markdown.png') });

    assert.deepEqual(errors, []);
    assert.deepEqual(external, []);
  } finally {
    await browser.close();
    assert.equal(await server.stop(), 0);
  }
});

test('web page: a reply streams in while it is generated, the stop button ends it, a reload finds the conversation', opts, async () => {
  const server = await startServer(['--alias', 'tiny']);
  const browser = await openBrowser();
  const external = [];
  try {
    const { page, errors } = await openPage(browser, server, external);
    await page.goto(server.url + '/');
    await page.waitForSelector('#model option', { state: 'attached' });
    await setSetting(page, 'max_tokens', 16);
    await sendMessage(page, 'Hello there');
    await page.waitForSelector('.msg.assistant[data-state="done"]', { timeout: 60000 });
    const firstText = await replyText(page);

    // A reply that runs until stopped: ignore_eos (a llama.cpp-style extension the server takes)
    // is added on the way out, and max_tokens is large.
    await page.route('**/v1/chat/completions', (route) => {
      const body = JSON.parse(route.request().postData());
      body.ignore_eos = true;
      return route.continue({ postData: JSON.stringify(body) });
    });
    await setSetting(page, 'max_tokens', 60000);
    await sendMessage(page, 'Tell me a long story');
    await page.waitForSelector('.thread > .msg.assistant:last-child[data-state="streaming"]', { timeout: 30000 });
    await page.waitForFunction(() => {
      const m = document.querySelector('.thread > .msg.assistant:last-child');
      return m.dataset.state === 'streaming' && m.querySelector('.body').textContent.length > 0;
    }, null, { timeout: 30000 });
    const early = (await replyText(page)).length;
    await page.waitForFunction((n) => {
      const m = document.querySelector('.thread > .msg.assistant:last-child');
      return m.dataset.state === 'streaming' && m.querySelector('.body').textContent.length > n + 20;
    }, early, { timeout: 30000 });
    const later = (await replyText(page)).length;
    console.log(`# streamed text grew from ${early} to ${later} characters before the stop`);
    assert.ok(await page.isVisible('#stop'));
    await page.click('#stop');
    await page.waitForSelector('.thread > .msg.assistant:last-child[data-state="stopped"]', { timeout: 10000 });
    const stoppedText = await replyText(page);
    assert.ok(stoppedText.length >= later);
    assert.ok(await page.isVisible('#send'));
    // The server saw the client go and cancelled the generation.
    const t0 = Date.now();
    const cancelledLine = /POST \/v1\/chat\/completions 200 (?:.* )?\d+ms cancelled: client disconnected/;
    while (!cancelledLine.test(server.log()) && Date.now() - t0 < 20000) await sleep(50);
    assert.match(server.log(), cancelledLine);
    await sleep(300);
    assert.equal(await replyText(page), stoppedText, 'nothing arrives after the stop');
    assert.match(await lastReply(page).locator('.meta').textContent(), /stopped/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-chat-stopped.png') });

    // Reload: the conversation is still there, both replies as they were.
    await page.reload();
    await page.waitForSelector('.thread > .msg.assistant:last-child[data-state="stopped"]');
    const bodies = await page.locator('.thread > .msg .body').allTextContents();
    assert.equal(bodies.length, 4);
    assert.equal(bodies[0], 'Hello there');
    assert.equal(bodies[1], firstText);
    assert.equal(bodies[2], 'Tell me a long story');
    assert.equal(bodies[3], stoppedText);
    assert.deepEqual(await page.locator('.conv .title').allTextContents(), ['Hello there']);
    const convs = await page.evaluate(() => JSON.parse(localStorage.getItem('pensieve.conversations')));
    assert.equal(convs.length, 1);
    assert.equal(convs[0].messages[3].content.length > 0, true);
    // A new chat, then back to the old one from the sidebar.
    await page.click('#new-chat');
    await page.waitForSelector('.empty');
    await page.click('.conv');
    await page.waitForSelector('.thread');
    assert.equal((await page.locator('.thread > .msg').count()), 4);

    assert.deepEqual(errors, []);
    assert.deepEqual(external, []);
  } finally {
    await browser.close();
    assert.equal(await server.stop(), 0);
  }
});

test('web page: asks for the API key on a 401, once, and keeps it; the model picker lists every alias', opts, async () => {
  const server = await startServer(['--api-key', 'sekret', '--alias', 'first', '--alias', 'second']);
  const browser = await openBrowser();
  const external = [];
  try {
    assert.equal((await fetch(`${server.url}/`)).status, 200, 'the page itself needs no key');
    assert.equal((await fetch(`${server.url}/v1/models`)).status, 401);
    const { page, errors } = await openPage(browser, server, external);
    const sent = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/chat/completions')) sent.push({ body: JSON.parse(r.postData()), auth: r.headers().authorization });
    });
    await page.goto(server.url + '/');
    await page.waitForSelector('#key-dialog[open]');
    assert.equal(await page.isVisible('#key-error'), false);
    await page.fill('#key-input', 'wrong');
    await page.click('#key-save');
    // The wrong key is refused: the dialog comes back, saying so.
    await page.waitForSelector('#key-dialog[open] #key-error:not([hidden])');
    await page.fill('#key-input', 'sekret');
    await page.click('#key-save');
    await page.waitForSelector('#model option', { state: 'attached' });
    assert.deepEqual(await page.locator('#model option').allTextContents(), ['first', 'second']);
    assert.equal(await page.evaluate(() => JSON.parse(localStorage.getItem('pensieve.apiKey'))), 'sekret');

    await page.selectOption('#model', 'second');
    await setSetting(page, 'max_tokens', 8);
    await setSetting(page, 'temperature', 0.5);
    await setSetting(page, 'top_p', 0.9);
    await sendMessage(page, 'hi');
    await page.waitForSelector('.msg.assistant[data-state="done"]', { timeout: 60000 });
    assert.equal(sent.length, 1);
    assert.equal(sent[0].auth, 'Bearer sekret');
    assert.equal(sent[0].body.model, 'second');
    assert.equal(sent[0].body.stream, true);
    assert.equal(sent[0].body.max_tokens, 8);
    assert.equal(sent[0].body.temperature, 0.5);
    assert.equal(sent[0].body.top_p, 0.9);
    assert.equal(await lastReply(page).locator('.role').textContent(), 'second');
    assert.match(await lastReply(page).locator('.meta').textContent(), /8 tokens/);

    // After a reload the stored key is used: no dialog, the picker keeps the chosen model.
    await page.reload();
    await page.waitForSelector('#model option', { state: 'attached' });
    await page.waitForFunction(() => document.getElementById('status-dot').className === 'ok');
    assert.equal(await page.isVisible('#key-dialog'), false);
    assert.equal(await page.inputValue('#model'), 'second');
    assert.deepEqual(errors, []);
    assert.deepEqual(external, []);
  } finally {
    await browser.close();
    assert.equal(await server.stop(), 0);
  }
});
