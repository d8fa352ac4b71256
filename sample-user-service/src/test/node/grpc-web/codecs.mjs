// Checks the hand-written message classes of src/main/js/user-service-client.mjs against
// protobufjs reading the real user/v1/user.proto: the bytes our classes write must equal the bytes
// protobufjs writes for the same values, and what protobufjs writes must read back the same
// (unknown fields skipped). Runs in Node, on a Node build of the client module.
//
// checkCodecs(protoDir, workDir) returns {ok, cases: [{name, ok, ours, reference, ...}]} with
// bytes as hex; protoDir holds user/v1/user.proto and google/rpc/status.proto by import path.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';
import { buildNodeModule, sampleDir } from './build.mjs';

const hex = (bytes) => Buffer.from(bytes).toString('hex');

export async function checkCodecs(protoDir, workDir) {
  const bundle = path.join(workDir, 'user-service-client.node.mjs');
  await buildNodeModule(path.join(sampleDir, 'src/main/js/user-service-client.mjs'), bundle);
  const client = await import(pathToFileURL(bundle).href);

  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(protoDir, target);
  root.loadSync('user/v1/user.proto', { keepCase: true });
  const type = (name) => root.lookupType(`user.v1.${name}`);

  const cases = [];
  const check = (name, ours, reference, extra = {}) => {
    const result = { name, ok: hex(ours) === hex(reference), ours: hex(ours), reference: hex(reference), ...extra };
    cases.push(result);
  };

  // Encoding: our classes against protobufjs, for typical, empty and edge values.
  const createTime = new client.Timestamp();
  createTime.setSeconds(253402300799); // 9999-12-31T23:59:59Z: needs more than 32 bits
  createTime.setNanos(999999999);
  const user = new client.User()
    .setId('0b3c2d4e-5f60-4718-9a2b-3c4d5e6f7081')
    .setName('Ada Lovelace ✓ 日本')
    .setEmail('ada@example.com')
    .setCreateTime(createTime);
  check('User', user.serializeBinary(), type('User').encode({
    id: user.getId(),
    name: user.getName(),
    email: user.getEmail(),
    create_time: { seconds: 253402300799, nanos: 999999999 },
  }).finish());
  check('User (empty)', new client.User().serializeBinary(), type('User').encode({}).finish());
  check(
    'CreateUserRequest',
    new client.CreateUserRequest().setName('Grace').setEmail('grace@example.com').serializeBinary(),
    type('CreateUserRequest').encode({ name: 'Grace', email: 'grace@example.com' }).finish(),
  );
  check(
    'GetUserRequest',
    new client.GetUserRequest().setId('00000000-0000-0000-0000-000000000000').serializeBinary(),
    type('GetUserRequest').encode({ id: '00000000-0000-0000-0000-000000000000' }).finish(),
  );
  check(
    'DeleteUserRequest',
    new client.DeleteUserRequest().setId('x').serializeBinary(),
    type('DeleteUserRequest').encode({ id: 'x' }).finish(),
  );
  check(
    'ListUsersRequest',
    new client.ListUsersRequest().setPageSize(3).setPageToken('abc').serializeBinary(),
    type('ListUsersRequest').encode({ page_size: 3, page_token: 'abc' }).finish(),
  );
  check(
    'ListUsersRequest (negative int32)',
    new client.ListUsersRequest().setPageSize(-1).serializeBinary(),
    type('ListUsersRequest').encode({ page_size: -1 }).finish(),
  );
  check('ListUsersRequest (empty)', new client.ListUsersRequest().serializeBinary(), new Uint8Array());

  // Decoding: what protobufjs writes, plus an unknown field 15 (varint) and 16 (bytes), which
  // a reader must skip, as a newer server may add fields.
  const reference = type('User').encode({
    id: 'id-1',
    name: 'Grace Hopper',
    email: 'grace@example.com',
    create_time: { seconds: 1700000000, nanos: 123000000 },
  }).finish();
  const withUnknown = Buffer.concat([
    Buffer.from(reference),
    Buffer.from([0x78, 0x2a]), // field 15, varint 42
    Buffer.from([0x82, 0x01, 0x02, 0x68, 0x69]), // field 16, length-delimited "hi"
  ]);
  const decoded = client.User.deserializeBinary(new Uint8Array(withUnknown));
  const object = decoded.toObject();
  const expected = {
    id: 'id-1',
    name: 'Grace Hopper',
    email: 'grace@example.com',
    createTime: { seconds: 1700000000, nanos: 123000000 },
  };
  cases.push({
    name: 'User decode (unknown fields skipped)',
    ok: JSON.stringify(object) === JSON.stringify(expected)
      && decoded.getCreateTime().toDate().toISOString() === '2023-11-14T22:13:20.123Z'
      && decoded.hasCreateTime()
      && !new client.User().hasCreateTime(),
    decoded: object,
  });
  const request = client.CreateUserRequest.deserializeBinary(
    type('CreateUserRequest').encode({ name: 'Linus', email: 'linus@example.com' }).finish(),
  );
  cases.push({
    name: 'CreateUserRequest decode',
    ok: request.getName() === 'Linus' && request.getEmail() === 'linus@example.com',
    decoded: request.toObject(),
  });
  cases.push({
    name: 'statusName',
    ok: client.statusName(5) === 'NOT_FOUND' && client.statusName(0) === 'OK'
      && client.statusName(16) === 'UNAUTHENTICATED' && client.statusName(99) === 'CODE_99',
  });

  return { ok: cases.every((c) => c.ok), cases };
}
