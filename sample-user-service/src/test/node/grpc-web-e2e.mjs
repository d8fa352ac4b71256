#!/usr/bin/env node
// Browser end-to-end check of the sample's gRPC-Web endpoint, driven by GrpcWebBrowserIT.
//
// Usage: node grpc-web-e2e.mjs --endpoint http://127.0.0.1:W --page-port P --out DIR
//          [--protos DIR] [--chromium /usr/bin/chromium]
//          [--ca FILE] [--skip demoBundle] [--tag NAME]
//
// W is the service's gRPC-Web port; the service must allow the origin http://127.0.0.1:P
// (CHASSIS_GRPC_WEB_ALLOWED_ORIGINS) and no other. The endpoint may be https://127.0.0.1:W when
// the service serves TLS: Node then trusts the CA in --ca FILE, and the browser context ignores
// certificate errors (see below), so the browser reaches the port as it would a real https://
// origin, with ALPN, where Chromium uses HTTP/2. The test page stays on plain http://127.0.0.1:P.
// --skip demoBundle leaves out step 1 (a property of the committed files, not of the transport);
// step 2 runs only with --protos. --tag NAME adds "-NAME" to the screenshots' names and the page
// directory, so that two runs can share DIR. The script
//  1. rebuilds the committed demo bundle in a temporary directory and compares (demoBundle);
//  2. with --protos (user/v1/user.proto and google/rpc/status.proto by import path), checks the
//     browser client's message classes against protobufjs (codecs);
//  3. speaks the protocol itself from Node, byte by byte, to show the framing and the CORS answers
//     a browser gets (raw);
//  4. bundles grpc-web/page.mjs (which imports src/main/js/user-service-client.mjs) with esbuild,
//     serves it on http://127.0.0.1:P, and in headless Chromium (playwright-core) runs, for both
//     formats (text = application/grpc-web-text, binary = application/grpc-web+proto),
//     CreateUser, GetUser, ListUsers, the error model and DeleteUser (formats), watching the
//     browser's own network events (network);
//  5. opens the same page from http://localhost:P, an origin the service does not allow, and
//     records that its calls fail and why (disallowedOrigin);
//  6. opens the sample's demo page at W/, creates a user through the form and finds it in the
//     list, then shows an ALREADY_EXISTS and an INVALID_ARGUMENT error (demoPage).
// Screenshots go to DIR (test-page.png, disallowed-origin.png, demo-page.png, or with --tag tls
// test-page-tls.png and so on). Every request the browser makes to the service is listed with the
// protocol the browser reports for it (protocol: "http/1.1" or "h2").
//
// Prints ONE JSON object on stdout with every observation; diagnostics go to stderr. Exit code 0
// when every step ran (the Java test asserts on the values; a step that threw records
// {error: "..."} in its place), 2 on bad usage, 3 when the watchdog fires (partial JSON with
// watchdogFired: true), 1 on any other crash.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildBrowserEntry, checkDemo } from './grpc-web/build.mjs';
import { checkCodecs } from './grpc-web/codecs.mjs';

const WATCHDOG_MS = 150_000; // under the 180 s the Java test allows
const WAIT_MS = 20_000; // any single browser wait
const HTTP_MS = 10_000; // any single raw HTTP exchange
const UNKNOWN_ID = '00000000-0000-0000-0000-000000000000';
const FORMATS = ['text', 'binary'];
// Flags known to work for Debian's Chromium on these machines: no GPU, no QUIC, and no background
// connections to Google's hosts, which the closed network refuses.
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const out = {};
const here = path.dirname(fileURLToPath(import.meta.url));

function emit(code) {
  process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(code));
}

const watchdog = setTimeout(() => {
  console.error(`grpc-web-e2e: watchdog fired after ${WATCHDOG_MS} ms, giving up`);
  out.watchdogFired = true;
  emit(3);
}, WATCHDOG_MS);
watchdog.unref();

const { values: args } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    'page-port': { type: 'string' },
    out: { type: 'string' },
    protos: { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
    ca: { type: 'string' },
    skip: { type: 'string', default: '' },
    tag: { type: 'string', default: '' },
  },
});
const STEPS_TO_SKIP = ['demoBundle'];
const skip = new Set(args.skip.split(',').filter(Boolean));
if (!/^https?:\/\//.test(args.endpoint ?? '') || !/^\d+$/.test(args['page-port'] ?? '') || !args.out
  || ![...skip].every((name) => STEPS_TO_SKIP.includes(name)) || !/^[a-z0-9]*$/.test(args.tag)) {
  console.error('usage: node grpc-web-e2e.mjs --endpoint http[s]://127.0.0.1:W --page-port P --out DIR'
    + ' [--protos DIR] [--chromium PATH] [--ca FILE] [--skip demoBundle] [--tag NAME]');
  process.exit(2);
}
const endpoint = args.endpoint.replace(/\/+$/, '');
const secure = endpoint.startsWith('https:');
// Node trusts only the test CA; without --ca an https endpoint fails verification, as it should.
const ca = args.ca ? fs.readFileSync(args.ca) : undefined;
const suffix = args.tag ? `-${args.tag}` : '';
const screenshot = (name) => `${name}${suffix}.png`;
const pagePort = Number(args['page-port']);
const allowedOrigin = `http://127.0.0.1:${pagePort}`;
const disallowedOrigin = `http://localhost:${pagePort}`;
const outDir = path.resolve(args.out);
fs.mkdirSync(outDir, { recursive: true });
const runId = Date.now().toString(36);

/** Runs a step; what it throws is logged and recorded as {error} in its place. */
async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    console.error(`grpc-web-e2e: step ${name} failed:`, err);
    return { error: String(err?.stack ?? err) };
  }
}

// --- 1, 2: the committed bundle and the codecs ------------------------------------------------

if (!skip.has('demoBundle')) out.demoBundle = await step('demoBundle', checkDemo);
if (args.protos) {
  out.codecs = await step('codecs', () => checkCodecs(path.resolve(args.protos), outDir));
}

// --- 3: the protocol from Node ----------------------------------------------------------------

/**
 * One HTTP/1.1 exchange with the service; the body is collected whole. Over https Node offers only
 * http/1.1 in ALPN, and the protocol the server chose is kept (alpn).
 */
function exchange(method, urlPath, headers, body) {
  return new Promise((resolve, reject) => {
    const options = secure
      ? { method, headers, timeout: HTTP_MS, ca, ALPNProtocols: ['http/1.1'] }
      : { method, headers, timeout: HTTP_MS };
    const request = (secure ? https : http).request(`${endpoint}${urlPath}`, options, (response) => {
      // Read now: by 'end' the socket may have gone back to the agent.
      const alpn = secure ? response.socket.alpnProtocol : undefined;
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({
        status: response.statusCode,
        headers: response.headers,
        body: Buffer.concat(chunks),
        ...(secure ? { alpn } : {}),
      }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${HTTP_MS} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
  'access-control-allow-credentials',
  'vary',
];
const pick = (headers, names) => Object.fromEntries(names.filter((n) => n in headers).map((n) => [n, headers[n]]));

/** A string field as protobuf bytes: enough to write GetUserRequest {id = 1} by hand. */
function stringField(number, text) {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
}

/** A gRPC-Web frame: flag byte, 4-byte big-endian length, payload. */
function frame(payload, flag = 0) {
  const header = Buffer.alloc(5);
  header[0] = flag;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/**
 * The frames of a response body, for the eye and for the Java test: data frames by length,
 * the trailer frame as its header lines. Text bodies are base64, possibly several padded chunks.
 */
function parseFrames(body, text) {
  let bytes = body;
  if (text) {
    const chars = body.toString('latin1').replace(/\s+/g, '');
    const parts = [];
    for (let i = 0; i < chars.length; i += 4) parts.push(Buffer.from(chars.slice(i, i + 4), 'base64'));
    bytes = Buffer.concat(parts);
  }
  const frames = [];
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    const flag = bytes[offset];
    const length = bytes.readUInt32BE(offset + 1);
    const payload = bytes.subarray(offset + 5, offset + 5 + length);
    if (payload.length < length) {
      frames.push({ kind: 'truncated', flag, length, available: payload.length });
      break;
    }
    if (flag & 0x80) {
      const trailers = {};
      for (const line of payload.toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      frames.push({ kind: 'trailer', flag, length, raw: payload.toString('latin1'), trailers });
    } else {
      frames.push({ kind: 'data', flag, length });
    }
    offset += 5 + length;
  }
  return { frames, leftoverBytes: bytes.length - offset };
}

async function grpcWebPost(method, message, { text, origin }) {
  const contentType = text ? 'application/grpc-web-text' : 'application/grpc-web+proto';
  const framed = frame(message);
  const headers = {
    'content-type': contentType,
    accept: contentType,
    'x-grpc-web': '1',
    'x-user-agent': 'grpc-web-e2e',
    'grpc-timeout': '10S',
  };
  if (origin) headers.origin = origin;
  const response = await exchange('POST', `/user.v1.UserService/${method}`, headers,
    text ? Buffer.from(framed.toString('base64'), 'latin1') : framed);
  const result = {
    status: response.status,
    contentType: response.headers['content-type'] ?? null,
    grpcStatusHeader: response.headers['grpc-status'] ?? null,
    grpcMessageHeader: response.headers['grpc-message'] ?? null,
    cors: pick(response.headers, CORS_HEADERS),
    bodyBytes: response.body.length,
  };
  if (secure) result.alpn = response.alpn;
  if (response.status === 200) Object.assign(result, parseFrames(response.body, text));
  return result;
}

function preflight(origin, requestHeaders) {
  return exchange('OPTIONS', '/user.v1.UserService/GetUser', {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': requestHeaders,
  }).then((response) => ({
    status: response.status,
    cors: pick(response.headers, CORS_HEADERS),
    ...(secure ? { alpn: response.alpn } : {}),
  }));
}

out.raw = await step('raw', async () => ({
  // What Chrome sends before a grpc-web call from another origin (grpc-web's own headers).
  preflightAllowed: await preflight(allowedOrigin, 'content-type,x-grpc-web,x-user-agent,grpc-timeout'),
  preflightAllowedCustomHeader: await preflight(allowedOrigin, 'content-type,x-grpc-web,x-request-id'),
  preflightDisallowed: await preflight(disallowedOrigin, 'content-type,x-grpc-web,x-user-agent'),
  postDisallowed: await grpcWebPost('GetUser', stringField(1, UNKNOWN_ID), { text: false, origin: disallowedOrigin }),
  // A user first, so that the lists below have a data frame before the trailer frame.
  createBinary: await grpcWebPost('CreateUser',
    Buffer.concat([stringField(1, 'Raw'), stringField(2, `raw.${runId}@example.com`)]),
    { text: false, origin: allowedOrigin }),
  listText: await grpcWebPost('ListUsers', Buffer.alloc(0), { text: true, origin: allowedOrigin }),
  listBinary: await grpcWebPost('ListUsers', Buffer.alloc(0), { text: false, origin: allowedOrigin }),
  notFoundText: await grpcWebPost('GetUser', stringField(1, UNKNOWN_ID), { text: true, origin: allowedOrigin }),
  notFoundBinaryNoOrigin: await grpcWebPost('GetUser', stringField(1, UNKNOWN_ID), { text: false }),
}));

// --- 4: the test page, served from another origin -----------------------------------------------

const pageDir = path.join(outDir, `page${suffix}`);
await step('buildPage', async () => {
  fs.mkdirSync(pageDir, { recursive: true });
  fs.copyFileSync(path.join(here, 'grpc-web', 'page.html'), path.join(pageDir, 'index.html'));
  await buildBrowserEntry(path.join(here, 'grpc-web', 'page.mjs'), path.join(pageDir, 'page.js'));
});

const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };
const pageServer = http.createServer((request, response) => {
  const name = new URL(request.url, 'http://x').pathname.replace(/^\/+/, '') || 'index.html';
  const file = path.join(pageDir, path.basename(name));
  if (request.method !== 'GET' || !fs.existsSync(file)) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
  response.end(fs.readFileSync(file));
});
await new Promise((resolve, reject) => {
  pageServer.once('error', reject);
  pageServer.listen(pagePort, '127.0.0.1', resolve);
});

/** Requests to the service, alike ones counted once: {method, path, type, status, ..., count}. */
function summarise(requests) {
  const byKey = new Map();
  for (const { url, ...rest } of requests) {
    const request = { path: url.slice(endpoint.length), ...rest };
    const key = JSON.stringify(request);
    if (byKey.has(key)) byKey.get(key).count += 1;
    else byKey.set(key, { ...request, count: 1 });
  }
  return [...byKey.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Console messages, page errors and the browser's own network events (CDP) of one page. */
async function watch(page) {
  const seen = { console: [], pageErrors: [], requests: new Map() };
  page.on('console', (message) => seen.console.push({ type: message.type(), text: message.text() }));
  page.on('pageerror', (error) => seen.pageErrors.push(String(error)));
  const cdp = await page.context().newCDPSession(page);
  const entry = (id) => {
    if (!seen.requests.has(id)) seen.requests.set(id, {});
    return seen.requests.get(id);
  };
  cdp.on('Network.requestWillBeSent', (e) => Object.assign(entry(e.requestId), {
    url: e.request.url, method: e.request.method, type: e.type,
    contentType: e.request.headers['Content-Type'] ?? e.request.headers['content-type'] ?? null,
  }));
  cdp.on('Network.responseReceived', (e) => Object.assign(entry(e.requestId), {
    type: e.type,
    status: e.response.status,
    protocol: e.response.protocol,
    responseContentType: e.response.headers['content-type'] ?? e.response.headers['Content-Type'] ?? null,
  }));
  cdp.on('Network.loadingFailed', (e) => Object.assign(entry(e.requestId), {
    failed: e.errorText, corsError: e.corsErrorStatus?.corsError ?? null, type: e.type,
  }));
  await cdp.send('Network.enable');
  seen.calls = () => summarise([...seen.requests.values()].filter((r) => r.url?.startsWith(`${endpoint}/user.v1.`)));
  return seen;
}

const browser = await step('launch', () => chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: CHROMIUM_ARGS,
  timeout: 30_000,
}));
out.browser = browser.error ? browser : { version: browser.version() };

if (!browser.error) {
  try {
    // Over https the browser must accept the server's certificate, issued at test time by a
    // throwaway CA (TestPki) that no browser trusts. Ignoring certificate errors in this one
    // context is the least machinery that does it; TLS itself, ALPN and HTTP/2 are unchanged.
    const context = await browser.newContext({
      viewport: { width: 1100, height: 800 },
      ...(secure ? { ignoreHTTPSErrors: true } : {}),
    });
    context.setDefaultTimeout(WAIT_MS);

    const page = await context.newPage();
    const seen = await watch(page);
    out.formats = await step('formats', async () => {
      await page.goto(`${allowedOrigin}/?endpoint=${encodeURIComponent(endpoint)}`);
      await page.waitForSelector('body[data-ready="true"]');
      const call = (name, ...callArgs) =>
        page.evaluate(([fn, a]) => window.grpcWebE2e[fn](...a), [name, callArgs]);
      const results = {};
      for (const format of FORMATS) {
        const email = `ada.${format}.${runId}@example.com`;
        const r = {};
        r.created = await call('createUser', format, `Ada ${format}`, email);
        r.fetched = await call('getUser', format, r.created.user?.id ?? '');
        r.extra = [];
        for (let i = 1; i <= 3; i++) {
          r.extra.push(await call('createUser', format, `Streamed ${i}`, `s${i}.${format}.${runId}@example.com`));
        }
        r.listed = await call('listUsers', format);
        r.listedIds = r.listed.users?.map((u) => u.id) ?? [];
        delete r.listed.users;
        r.listedContainsCreated = [r.created, ...r.extra].every((c) => r.listedIds.includes(c.user?.id));
        r.notFound = await call('getUser', format, UNKNOWN_ID);
        r.invalid = await call('createUser', format, '', 'not-an-email');
        r.duplicate = await call('createUser', format, 'Ada Again', email.toUpperCase());
        // grpc-message travels percent-encoded and grpc-web decodes it: a message with '%' and
        // non-ASCII characters (the email is in it) must arrive exactly as the server wrote it.
        const unusual = `zoë.100%.${format}.${runId}@exämple.com`;
        r.unusualCreated = await call('createUser', format, 'Zoë', unusual);
        r.unusualDuplicate = await call('createUser', format, 'Zoë Again', unusual);
        r.unusualDuplicate.expectedMessage = `a user with email ${unusual} already exists`;
        r.deleted = await call('deleteUser', format, r.extra[2].user?.id ?? '');
        r.deletedThenGet = await call('getUser', format, r.extra[2].user?.id ?? '');
        r.importUsers = await call('importUsersAsUnary', format);
        results[format] = r;
      }
      await page.screenshot({ path: path.join(outDir, screenshot('test-page')), fullPage: true });
      return results;
    });
    out.network = {
      // Every request the browser made to the service, including CORS preflights.
      calls: seen.calls(),
      pageErrors: seen.pageErrors,
      consoleErrors: seen.console.filter((m) => m.type === 'error').map((m) => m.text),
    };

    // --- 5: the same page from an origin the service does not allow ---------------------------
    const foreign = await context.newPage();
    const foreignSeen = await watch(foreign);
    out.disallowedOrigin = await step('disallowedOrigin', async () => {
      await foreign.goto(`${disallowedOrigin}/?endpoint=${encodeURIComponent(endpoint)}`);
      await foreign.waitForSelector('body[data-ready="true"]');
      const call = (name, ...callArgs) =>
        foreign.evaluate(([fn, a]) => window.grpcWebE2e[fn](...a), [name, callArgs]);
      const email = `blocked.${runId}@example.com`;
      const result = {
        origin: await foreign.evaluate(() => window.location.origin),
        getUser: await call('getUser', 'text', UNKNOWN_ID),
        createUser: await call('createUser', 'binary', 'Blocked', email),
      };
      // The preflight failed, so the POST never left the browser: the user must not exist.
      const listed = await page.evaluate(() => window.grpcWebE2e.listUsers('text'));
      result.createdAnyway = listed.users?.some((u) => u.email === email) ?? null;
      await foreign.screenshot({ path: path.join(outDir, screenshot('disallowed-origin')), fullPage: true });
      result.network = foreignSeen.calls();
      result.consoleErrors = foreignSeen.console.filter((m) => m.type === 'error').map((m) => m.text);
      result.pageErrors = foreignSeen.pageErrors;
      return result;
    });

    // --- 6: the sample's own demo page, same origin as the service ----------------------------
    const demo = await context.newPage();
    const demoSeen = await watch(demo);
    const demoResponses = [];
    demo.on('response', (response) => {
      const url = response.url();
      if (url.startsWith(endpoint) && !url.includes('/user.v1.')) {
        demoResponses.push({ path: url.slice(endpoint.length), status: response.status(),
          contentType: response.headers()['content-type'] ?? null });
      }
    });
    out.demoPage = await step('demoPage', async () => {
      const result = {};
      await demo.goto(`${endpoint}/`);
      result.title = await demo.title();
      const listDone = () => demo.waitForFunction(() => {
        const status = document.getElementById('list-status');
        return ['done', 'error'].includes(status?.dataset.state) && status;
      });
      await listDone();
      result.initialList = await demo.locator('#list-status').textContent();
      result.initialRows = await demo.locator('#user-rows tr').count();

      /** Fills the form, submits, and returns what #message says once the call has finished. */
      const submit = async (name, email) => {
        await demo.evaluate(() => { document.getElementById('message').dataset.state = ''; });
        await demo.fill('#name', name);
        await demo.fill('#email', email);
        await demo.click('#create');
        await demo.waitForFunction(() => ['ok', 'error'].includes(document.getElementById('message').dataset.state));
        return {
          state: await demo.locator('#message').getAttribute('data-state'),
          text: await demo.locator('#message').textContent(),
        };
      };
      const email = `grace.${runId}@example.com`;
      result.created = await submit('Grace Hopper', email);
      const row = demo.locator('#user-rows tr', { hasText: email });
      await row.first().waitFor();
      await listDone();
      result.rowFound = (await row.count()) === 1;
      result.rowText = (await row.first().innerText()).replace(/\s+/g, ' ').trim();
      result.rowsAfterCreate = await demo.locator('#user-rows tr').count();
      result.listAfterCreate = await demo.locator('#list-status').textContent();
      result.duplicate = await submit('Grace Again', email.toUpperCase());
      result.invalid = await submit('', 'not-an-email');
      // The other encoding lists the same users.
      await demo.evaluate(() => { document.getElementById('list-status').dataset.state = ''; });
      await demo.selectOption('#format', 'binary');
      await listDone();
      result.rowsBinary = await demo.locator('#user-rows tr').count();
      result.listBinary = await demo.locator('#list-status').textContent();
      await demo.selectOption('#format', 'text');
      await listDone();
      await demo.screenshot({ path: path.join(outDir, screenshot('demo-page')), fullPage: true });
      result.assets = demoResponses;
      result.calls = demoSeen.calls();
      result.pageErrors = demoSeen.pageErrors;
      result.consoleErrors = demoSeen.console.filter((m) => m.type === 'error').map((m) => m.text);
      return result;
    });
    await context.close();
  } finally {
    await browser.close();
  }
}
pageServer.closeAllConnections?.();
pageServer.close();

out.screenshots = Object.fromEntries(['test-page', 'disallowed-origin', 'demo-page'].map(screenshot).map((name) => {
  const file = path.join(outDir, name);
  return [name, fs.existsSync(file) ? fs.statSync(file).size : 0];
}));
emit(0);
