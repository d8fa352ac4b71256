#!/usr/bin/env node
// End-to-end check that a non-Java gRPC client can use the sample user service.
//
// Usage: node e2e.mjs --target 127.0.0.1:PORT --protos DIR
//          [--ca FILE [--cert FILE --key FILE] [--server-name NAME]]
//
// Without --ca the calls go over plaintext. With --ca (a PEM trust bundle) they
// go over TLS, verifying the server against it; --cert and --key (PEM chain and
// private key) add a client certificate for mTLS; --server-name overrides the
// name checked against the server certificate (default: the target's host).
//
// DIR holds .proto files laid out by import path (user/v1/user.proto,
// grpc/health/v1/health.proto, grpc/reflection/v1/reflection.proto,
// google/rpc/{status,error_details,code}.proto). The google/protobuf/*.proto
// well-known types are not needed in DIR: protobufjs (used by proto-loader)
// serves imports of them from its bundled copies before consulting DIR.
//
// Runs a fixed sequence of calls and prints ONE JSON object on stdout;
// diagnostics go to stderr. Keys: tls (true when --ca was given), health,
// reflectionServices, reflectionFileFound, created, fetched, notFound, invalid,
// duplicate, listed, listedContainsCreated, imported. A step that unexpectedly fails records
// {error: {code, codeName, message}} in place of its value; a failed stream
// also adds reflectionError / listError / importError. Exit code 0 when every
// step ran (the Java test asserts on the values); 2 on bad usage, 3 when the
// 55 s watchdog fires (partial JSON with watchdogFired: true is printed), 1 on
// any other crash (e.g. protos missing from DIR).

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const RPC_DEADLINE_MS = 10_000;
const WATCHDOG_MS = 55_000; // stays under the 60 s budget the Java test allows

// Results so far; on a watchdog timeout the partial object is still printed.
const out = {};
const watchdog = setTimeout(() => {
  console.error(`e2e: watchdog fired after ${WATCHDOG_MS} ms, giving up`);
  out.watchdogFired = true;
  process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(3));
}, WATCHDOG_MS);
watchdog.unref();

const { values: args } = parseArgs({
  options: {
    target: { type: 'string' },
    protos: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'server-name': { type: 'string' },
  },
});
const tlsFlagsValid = args.ca
  ? Boolean(args.cert) === Boolean(args.key)
  : !args.cert && !args.key && !args['server-name'];
if (!args.target || !args.protos || !tlsFlagsValid) {
  console.error('usage: node e2e.mjs --target HOST:PORT --protos DIR'
    + ' [--ca FILE [--cert FILE --key FILE] [--server-name NAME]]');
  process.exit(2);
}
const protoDir = path.resolve(args.protos);

// --- Proto loading ---------------------------------------------------------

// keepCase keeps the proto field names (page_size, create_time, ...);
// enums as names so health statuses read "SERVING"; oneofs adds a virtual
// field naming the member that is set.
const packageDefinition = protoLoader.loadSync(
  ['user/v1/user.proto', 'grpc/health/v1/health.proto', 'grpc/reflection/v1/reflection.proto'],
  { includeDirs: [protoDir], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
);
const proto = grpc.loadPackageDefinition(packageDefinition);

// A plain protobufjs root for the rich error model: google.rpc.Status from the
// grpc-status-details-bin trailer, and the google.rpc.BadRequest inside it.
const richRoot = new protobuf.Root();
richRoot.resolvePath = (_origin, target) => path.join(protoDir, target);
richRoot.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const RpcStatus = richRoot.lookupType('google.rpc.Status');
const BadRequest = richRoot.lookupType('google.rpc.BadRequest');

// --- Call helpers ----------------------------------------------------------

const callOptions = () => ({ deadline: Date.now() + RPC_DEADLINE_MS });
const codeName = (code) => grpc.status[code] ?? `CODE_${code}`;

/** {code, codeName, message} for a gRPC error (or any thrown value). */
function describeError(err) {
  const code = typeof err?.code === 'number' ? err.code : grpc.status.UNKNOWN;
  return { code, codeName: codeName(code), message: err?.details ?? String(err?.message ?? err) };
}

/** Field violations from every BadRequest packed in grpc-status-details-bin. */
function fieldViolations(err) {
  const raw = err?.metadata?.get?.('grpc-status-details-bin') ?? [];
  if (raw.length === 0) return [];
  const status = RpcStatus.decode(raw[0]);
  return status.details
    .filter((any) => any.type_url.endsWith('/google.rpc.BadRequest'))
    .flatMap((any) => BadRequest.decode(any.value).field_violations)
    .map((v) => ({ field: v.field, description: v.description }));
}

/** Promise for a unary call, with the per-RPC deadline. */
function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, callOptions(), (err, response) => (err ? reject(err) : resolve(response)));
  });
}

/** Unary call whose failure is the expected outcome; success is reported too. */
async function expectError(client, method, request, withViolations = false) {
  try {
    const response = await unary(client, method, request);
    return { code: grpc.status.OK, codeName: 'OK', message: '', unexpectedResponse: response };
  } catch (err) {
    const result = describeError(err);
    if (withViolations) {
      try {
        result.violations = fieldViolations(err);
      } catch (decodeErr) {
        console.error('e2e: cannot decode grpc-status-details-bin:', decodeErr);
        result.violations = [];
      }
    }
    return result;
  }
}

/** Collects every message of a stream; resolves with {items, error?}. */
function collect(call) {
  return new Promise((resolve) => {
    const items = [];
    call.on('data', (msg) => items.push(msg));
    call.on('end', () => resolve({ items }));
    call.on('error', (err) => resolve({ items, error: err }));
  });
}

/** Runs a step; a failure is logged and recorded as {error: ...} in its place. */
async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    const error = describeError(err);
    // gRPC failures are expected data here; only other errors get a stack trace.
    console.error(`e2e: step ${name} failed:`, typeof err?.code === 'number' ? error : err);
    return { error };
  }
}

// --- Steps -----------------------------------------------------------------

// Plaintext unless --ca is given; then TLS, and mTLS with --cert and --key.
out.tls = Boolean(args.ca);
const credentials = args.ca
  ? grpc.credentials.createSsl(
    fs.readFileSync(args.ca),
    args.key ? fs.readFileSync(args.key) : null,
    args.cert ? fs.readFileSync(args.cert) : null,
  )
  : grpc.credentials.createInsecure();
const channelOptions = args['server-name']
  ? { 'grpc.ssl_target_name_override': args['server-name'], 'grpc.default_authority': args['server-name'] }
  : {};
const health = new proto.grpc.health.v1.Health(args.target, credentials, channelOptions);
const reflection = new proto.grpc.reflection.v1.ServerReflection(args.target, credentials, channelOptions);
const users = new proto.user.v1.UserService(args.target, credentials, channelOptions);

// 1. health: overall server status and the user service's own status.
const healthStatus = async (service) => (await unary(health, 'Check', { service })).status;
out.health = {
  overall: await step('health overall', () => healthStatus('')),
  userService: await step('health userService', () => healthStatus('user.v1.UserService')),
};

// 2. reflection: list services, then ask for the file defining UserService.
await step('reflection', async () => {
  const call = reflection.ServerReflectionInfo(callOptions());
  const done = collect(call);
  call.write({ host: '', list_services: '' });
  call.write({ host: '', file_containing_symbol: 'user.v1.UserService' });
  call.end();
  const { items, error } = await done;
  if (error) out.reflectionError = describeError(error);
  const listed = items.find((r) => r.message_response === 'list_services_response');
  const files = items.find((r) => r.message_response === 'file_descriptor_response');
  out.reflectionServices = listed ? listed.list_services_response.service.map((s) => s.name) : [];
  out.reflectionFileFound = (files?.file_descriptor_response.file_descriptor_proto.length ?? 0) > 0;
});
out.reflectionServices ??= [];
out.reflectionFileFound ??= false;

// 3. create
const created = await step('create', () =>
  unary(users, 'CreateUser', { name: 'Ada Lovelace', email: 'Ada@Example.com' }));
out.created = created.error ? created : {
  id: created.id,
  name: created.name,
  email: created.email,
  hasCreateTime: created.create_time != null && Number(created.create_time.seconds) > 0,
};

// 4. get the user back by id
const fetched = await step('get', () => unary(users, 'GetUser', { id: created.id ?? '' }));
out.fetched = fetched.error ? fetched : { id: fetched.id, name: fetched.name, email: fetched.email };

// 5. unknown id -> NOT_FOUND
out.notFound = await expectError(users, 'GetUser', { id: '00000000-0000-0000-0000-000000000000' });

// 6. empty name + malformed email -> INVALID_ARGUMENT with BadRequest details
out.invalid = await expectError(users, 'CreateUser', { name: '', email: 'not-an-email' }, true);

// 7. same email, different case -> ALREADY_EXISTS
out.duplicate = await expectError(users, 'CreateUser', { name: 'Ada Again', email: 'ada@example.COM' });

// 8. server streaming list
await step('list', async () => {
  const { items, error } = await collect(users.ListUsers({ page_size: 0 }, callOptions()));
  if (error) out.listError = describeError(error);
  out.listed = items.length;
  out.listedContainsCreated = items.some((u) => u.id === created.id);
});
out.listed ??= 0;
out.listedContainsCreated ??= false;

// 9. bidi import: one response per request, in order; the bad one is an error.
out.imported = await step('import', async () => {
  const call = users.ImportUsers(callOptions());
  const done = collect(call);
  call.write({ name: 'Grace', email: 'grace@example.com' });
  call.write({ name: '', email: 'bad' });
  call.write({ name: 'Linus', email: 'linus@example.com' });
  call.end();
  const { items, error } = await done;
  if (error) out.importError = describeError(error);
  return items.map((r) => (r.result === 'error'
    ? { kind: 'error', code: r.error.code, message: r.error.message }
    : { kind: r.result ?? 'none' }));
});

// 10. delete the created user; then it is gone, and deleting again is NOT_FOUND.
await step('delete', async () => {
  const deleted = await unary(users, 'DeleteUser', { id: created.id ?? '' });
  out.deleted = deleted.error ? deleted : { ok: true };
});
out.deletedThenGet = await expectError(users, 'GetUser', { id: created.id ?? '' });
out.deletedTwice = await expectError(users, 'DeleteUser', { id: created.id ?? '' });

for (const client of [health, reflection, users]) client.close();
process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
