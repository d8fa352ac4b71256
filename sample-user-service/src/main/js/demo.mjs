// The sample's gRPC-Web demo page (src/main/resources/grpc-web-demo/index.html).
//
// The page is served by the user service itself, on its gRPC-Web port, so the calls go to the
// page's own origin and need no CORS set-up. It lists the users with the server-streaming
// ListUsers call (rows appear as the messages arrive), creates users with CreateUser, deletes them
// with DeleteUser, and shows failures the way gRPC reports them: "CODE: message", for example
// "ALREADY_EXISTS: a user with email ada@example.com already exists".
//
// Bundled into grpc-web-demo/demo.js by `npm run build-demo` in src/test/node (see build.mjs
// there); after changing this file or the client, rebuild and commit demo.js.

import {
  CreateUserRequest,
  DeleteUserRequest,
  ListUsersRequest,
  UserServiceClient,
  statusName,
} from './user-service-client.mjs';

/** Every call gives up after this long: a grpc-timeout for the server, a timeout for the XHR. */
const DEADLINE_MS = 10_000;

const $ = (id) => document.getElementById(id);
const form = $('create-form');
const nameInput = $('name');
const emailInput = $('email');
const createButton = $('create');
const formatSelect = $('format');
const message = $('message');
const rows = $('user-rows');
const listStatus = $('list-status');
const refreshButton = $('refresh');

// "text" is application/grpc-web-text (base64, streams arrive as they are sent); "binary" is
// application/grpc-web+proto. The server speaks both; the select switches between them.
const clients = {
  text: new UserServiceClient(window.location.origin, { format: 'text' }),
  binary: new UserServiceClient(window.location.origin, { format: 'binary' }),
};
const client = () => clients[formatSelect.value] ?? clients.text;
const deadline = () => ({ deadline: String(Date.now() + DEADLINE_MS) });

/** "NOT_FOUND: user 42 not found" from a grpc-web RpcError (or anything else thrown). */
function describe(error) {
  if (typeof error?.code === 'number') return `${statusName(error.code)}: ${error.message}`;
  return `ERROR: ${error?.message ?? error}`;
}

/** Shows text in an element; state ("ok", "error", "busy", "done") drives its colour. */
function show(element, text, state) {
  element.textContent = text;
  element.dataset.state = state;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function userRow(user) {
  const tr = document.createElement('tr');
  tr.dataset.id = user.getId();
  const created = user.getCreateTime()?.toDate();
  tr.append(
    cell(user.getName()),
    cell(user.getEmail(), 'email'),
    cell(created ? created.toLocaleString() : '', 'when'),
    cell(user.getId(), 'id'),
  );
  const actions = cell('');
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'link';
  remove.textContent = 'Delete';
  remove.addEventListener('click', () => deleteUser(user));
  actions.append(remove);
  tr.append(actions);
  return tr;
}

let listing = null;

/** Streams every user into the table; a new refresh cancels one still running. */
function refresh() {
  listing?.cancel();
  rows.replaceChildren();
  show(listStatus, 'Loading…', 'busy');
  let count = 0;
  let failed = false;
  const stream = client().listUsers(new ListUsersRequest(), deadline());
  listing = stream;
  stream.on('data', (user) => {
    rows.append(userRow(user));
    count += 1;
    show(listStatus, `Loading… ${count} so far`, 'busy');
  });
  stream.on('error', (error) => {
    failed = true;
    if (listing === stream) show(listStatus, describe(error), 'error');
  });
  stream.on('end', () => {
    if (listing !== stream || failed) return;
    listing = null;
    show(listStatus, count === 1 ? '1 user' : `${count} users`, 'done');
  });
}

async function createUser(event) {
  event.preventDefault();
  createButton.disabled = true;
  show(message, 'Creating…', 'busy');
  try {
    const request = new CreateUserRequest().setName(nameInput.value).setEmail(emailInput.value);
    const user = await client().createUser(request, deadline());
    show(message, `Created ${user.getName()} <${user.getEmail()}> with id ${user.getId()}`, 'ok');
    form.reset();
    nameInput.focus();
    refresh();
  } catch (error) {
    show(message, describe(error), 'error');
  } finally {
    createButton.disabled = false;
  }
}

async function deleteUser(user) {
  show(message, `Deleting ${user.getName()}…`, 'busy');
  try {
    await client().deleteUser(new DeleteUserRequest().setId(user.getId()), deadline());
    show(message, `Deleted ${user.getName()} <${user.getEmail()}>`, 'ok');
    refresh();
  } catch (error) {
    show(message, describe(error), 'error');
  }
}

form.addEventListener('submit', createUser);
refreshButton.addEventListener('click', refresh);
formatSelect.addEventListener('change', refresh);
refresh();
