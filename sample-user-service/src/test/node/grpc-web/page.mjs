// The browser end-to-end test's page (bundled by grpc-web-e2e.mjs into page.js, served with
// page.html from another origin than the service). It exposes window.grpcWebE2e, whose functions
// make one call each with the sample's browser client and resolve with plain JSON the driver can
// read through page.evaluate; each call is also logged in the page for the screenshot.
//
// The service's origin comes from the page's query string: page.html?endpoint=http://127.0.0.1:W.

import * as grpcWeb from 'grpc-web';
import {
  CreateUserRequest,
  DeleteUserRequest,
  GetUserRequest,
  ListUsersRequest,
  User,
  UserServiceClient,
  statusName,
} from '../../../main/js/user-service-client.mjs';

const DEADLINE_MS = 10_000;
// A call that neither answers nor fails within this long resolves as {timedOut: true}.
const GUARD_MS = 15_000;

const endpoint = new URLSearchParams(window.location.search).get('endpoint') ?? window.location.origin;
const clients = {
  text: new UserServiceClient(endpoint, { format: 'text' }),
  binary: new UserServiceClient(endpoint, { format: 'binary' }),
};
const deadline = () => ({ deadline: String(Date.now() + DEADLINE_MS) });

function clientFor(format) {
  const client = clients[format];
  if (!client) throw new Error(`format: ${format} (expected: text or binary)`);
  return client;
}

function userJson(user) {
  const createTime = user.getCreateTime();
  return {
    id: user.getId(),
    name: user.getName(),
    email: user.getEmail(),
    createTime: createTime ? createTime.toDate().toISOString() : null,
  };
}

function errorJson(error) {
  if (typeof error?.code !== 'number') return { ok: false, code: null, codeName: 'NOT_RPC_ERROR', message: String(error) };
  return {
    ok: false,
    code: error.code,
    codeName: statusName(error.code),
    message: error.message,
    // What reached the browser besides status and message: grpc-status-details-bin only when the
    // server sends it and CORS lets the page read it.
    metadataKeys: Object.keys(error.metadata ?? {}).sort(),
  };
}

function log(text, ok) {
  const line = document.createElement('li');
  line.textContent = text;
  line.className = ok ? 'ok' : 'rpc-error';
  document.getElementById('log').append(line);
}

function guarded(promise) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, timedOut: true }), GUARD_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function unary(label, call) {
  const result = await guarded(call().then((value) => ({ ok: true, ...value }), errorJson));
  log(`${label}: ${result.ok ? 'OK' : `${result.codeName ?? 'TIMEOUT'}: ${result.message ?? ''}`}`, result.ok);
  return result;
}

/** Every event of a ListUsers stream in arrival order, with the users it delivered. */
function listUsers(format) {
  const events = [];
  const users = [];
  let status = null;
  const stream = clientFor(format).listUsers(new ListUsersRequest(), deadline());
  const done = new Promise((resolve) => {
    stream.on('data', (user) => {
      events.push('data');
      users.push(userJson(user));
    });
    stream.on('status', (received) => {
      events.push('status');
      status = { code: received.code, codeName: statusName(received.code), details: received.details };
    });
    stream.on('metadata', () => events.push('metadata'));
    stream.on('error', (error) => {
      events.push('error');
      resolve({ ok: false, error: errorJson(error) });
    });
    stream.on('end', () => {
      events.push('end');
      resolve({ ok: true });
    });
  });
  return guarded(done).then((result) => {
    stream.cancel();
    const summary = {
      ...result,
      format,
      count: users.length,
      users,
      events,
      status,
    };
    log(`ListUsers (${format}): ${users.length} users, events ${compress(events)}`, result.ok);
    return summary;
  });
}

/** "data×4 status end" for the event list. */
function compress(events) {
  const runs = [];
  for (const event of events) {
    const last = runs[runs.length - 1];
    if (last && last.event === event) last.count += 1;
    else runs.push({ event, count: 1 });
  }
  return runs.map((r) => (r.count > 1 ? `${r.event}×${r.count}` : r.event)).join(' ');
}

// ImportUsers is bidirectional, which gRPC-Web cannot express; call it as if it were unary with a
// descriptor of our own to see what the server answers (UNIMPLEMENTED, by contract).
const importUsersAsUnary = new grpcWeb.MethodDescriptor(
  '/user.v1.UserService/ImportUsers',
  grpcWeb.MethodType.UNARY,
  CreateUserRequest,
  User,
  (request) => request.serializeBinary(),
  User.deserializeBinary,
);

window.grpcWebE2e = {
  endpoint,
  createUser: (format, name, email) => unary(`CreateUser (${format}) ${email}`, async () => ({
    user: userJson(await clientFor(format).createUser(
      new CreateUserRequest().setName(name).setEmail(email), deadline())),
  })),
  getUser: (format, id) => unary(`GetUser (${format}) ${id}`, async () => ({
    user: userJson(await clientFor(format).getUser(new GetUserRequest().setId(id), deadline())),
  })),
  deleteUser: (format, id) => unary(`DeleteUser (${format}) ${id}`, async () => {
    await clientFor(format).deleteUser(new DeleteUserRequest().setId(id), deadline());
    return {};
  }),
  listUsers: (format) => listUsers(format),
  importUsersAsUnary: (format) => unary(`ImportUsers (${format})`, async () => {
    const client = new grpcWeb.GrpcWebClientBase({ format });
    const user = await client.unaryCall(
      `${endpoint.replace(/\/+$/, '')}/user.v1.UserService/ImportUsers`,
      new CreateUserRequest().setName('Bidi').setEmail('bidi@example.com'),
      deadline(),
      importUsersAsUnary,
    );
    return { user: userJson(user) };
  }),
};

document.getElementById('endpoint').textContent = endpoint;
document.getElementById('origin').textContent = window.location.origin;
document.body.dataset.ready = 'true';
