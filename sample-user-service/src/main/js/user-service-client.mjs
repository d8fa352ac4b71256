// Browser client for the sample's user.v1.UserService over gRPC-Web.
//
// This file mirrors what the official code generators write for user/v1/user.proto:
//   protoc --js_out=import_style=commonjs,binary:. \
//          --grpc-web_out=import_style=commonjs,mode=grpcwebtext:. user/v1/user.proto
// that is, protoc-gen-js message classes (jspb.Message subclasses with getX/setX accessors,
// serializeBinary / deserializeBinary, toObject) and a protoc-gen-grpc-web promise client (one
// MethodDescriptor per method, unary methods return Promises, server-streaming methods return a
// ClientReadableStream). It is written by hand only because those two protoc plugins are native
// binaries released on GitHub, which the build machines cannot reach; everything at run time is
// the official runtime from npm: `grpc-web` (the wire protocol, over XMLHttpRequest) and
// `google-protobuf` (jspb.BinaryReader/BinaryWriter and the well-known types). Swapping in
// generated code later changes the imports, not the calls.
//
// Usage:
//   import { UserServiceClient, CreateUserRequest } from './user-service-client.mjs';
//   const client = new UserServiceClient(window.location.origin, { format: 'text' });
//   const user = await client.createUser(new CreateUserRequest().setName('Ada').setEmail('a@b.c'));
//   const stream = client.listUsers(new ListUsersRequest());
//   stream.on('data', (u) => ...).on('status', (s) => ...).on('error', (e) => ...).on('end', ...);
//
// Errors are grpc-web RpcError objects: {code, message, metadata}; statusName(code) names the code.
//
// Only unary and server-streaming methods exist in gRPC-Web (browsers cannot stream a request
// body), so ImportUsers, a bidirectional stream, has no method here; the server answers it with
// UNIMPLEMENTED.

import * as grpcWeb from 'grpc-web';
import jspb from 'google-protobuf';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';

const { GrpcWebClientBase, MethodDescriptor, MethodType, RpcError, StatusCode } = grpcWeb;
const { Timestamp } = timestampPb;
const { Empty } = emptyPb;

export { RpcError, StatusCode, Timestamp, Empty };

// --- Messages (as protoc-gen-js writes them, for proto3 singular fields) ----------------------

/** user.v1.GetUserRequest { string id = 1; } */
export class GetUserRequest extends jspb.Message {
  constructor(data) {
    super();
    jspb.Message.initialize(this, data, 0, -1, null, null);
  }

  getId() {
    return jspb.Message.getFieldWithDefault(this, 1, '');
  }

  setId(value) {
    return jspb.Message.setProto3StringField(this, 1, value);
  }

  toObject() {
    return { id: this.getId() };
  }

  serializeBinary() {
    const writer = new jspb.BinaryWriter();
    GetUserRequest.serializeBinaryToWriter(this, writer);
    return writer.getResultBuffer();
  }

  static serializeBinaryToWriter(message, writer) {
    const id = message.getId();
    if (id.length > 0) writer.writeString(1, id);
  }

  static deserializeBinary(bytes) {
    return GetUserRequest.deserializeBinaryFromReader(
      new GetUserRequest(),
      new jspb.BinaryReader(bytes),
    );
  }

  static deserializeBinaryFromReader(message, reader) {
    while (reader.nextField() && !reader.isEndGroup()) {
      if (reader.getFieldNumber() === 1) message.setId(reader.readString());
      else reader.skipField();
    }
    return message;
  }
}

/** user.v1.DeleteUserRequest { string id = 1; } */
export class DeleteUserRequest extends jspb.Message {
  constructor(data) {
    super();
    jspb.Message.initialize(this, data, 0, -1, null, null);
  }

  getId() {
    return jspb.Message.getFieldWithDefault(this, 1, '');
  }

  setId(value) {
    return jspb.Message.setProto3StringField(this, 1, value);
  }

  toObject() {
    return { id: this.getId() };
  }

  serializeBinary() {
    const writer = new jspb.BinaryWriter();
    DeleteUserRequest.serializeBinaryToWriter(this, writer);
    return writer.getResultBuffer();
  }

  static serializeBinaryToWriter(message, writer) {
    const id = message.getId();
    if (id.length > 0) writer.writeString(1, id);
  }

  static deserializeBinary(bytes) {
    return DeleteUserRequest.deserializeBinaryFromReader(
      new DeleteUserRequest(),
      new jspb.BinaryReader(bytes),
    );
  }

  static deserializeBinaryFromReader(message, reader) {
    while (reader.nextField() && !reader.isEndGroup()) {
      if (reader.getFieldNumber() === 1) message.setId(reader.readString());
      else reader.skipField();
    }
    return message;
  }
}

/** user.v1.CreateUserRequest { string name = 1; string email = 2; } */
export class CreateUserRequest extends jspb.Message {
  constructor(data) {
    super();
    jspb.Message.initialize(this, data, 0, -1, null, null);
  }

  getName() {
    return jspb.Message.getFieldWithDefault(this, 1, '');
  }

  setName(value) {
    return jspb.Message.setProto3StringField(this, 1, value);
  }

  getEmail() {
    return jspb.Message.getFieldWithDefault(this, 2, '');
  }

  setEmail(value) {
    return jspb.Message.setProto3StringField(this, 2, value);
  }

  toObject() {
    return { name: this.getName(), email: this.getEmail() };
  }

  serializeBinary() {
    const writer = new jspb.BinaryWriter();
    CreateUserRequest.serializeBinaryToWriter(this, writer);
    return writer.getResultBuffer();
  }

  static serializeBinaryToWriter(message, writer) {
    const name = message.getName();
    if (name.length > 0) writer.writeString(1, name);
    const email = message.getEmail();
    if (email.length > 0) writer.writeString(2, email);
  }

  static deserializeBinary(bytes) {
    return CreateUserRequest.deserializeBinaryFromReader(
      new CreateUserRequest(),
      new jspb.BinaryReader(bytes),
    );
  }

  static deserializeBinaryFromReader(message, reader) {
    while (reader.nextField() && !reader.isEndGroup()) {
      switch (reader.getFieldNumber()) {
        case 1:
          message.setName(reader.readString());
          break;
        case 2:
          message.setEmail(reader.readString());
          break;
        default:
          reader.skipField();
      }
    }
    return message;
  }
}

/** user.v1.ListUsersRequest { int32 page_size = 1; string page_token = 2; } */
export class ListUsersRequest extends jspb.Message {
  constructor(data) {
    super();
    jspb.Message.initialize(this, data, 0, -1, null, null);
  }

  /** Most users to stream; 0 streams them all. */
  getPageSize() {
    return jspb.Message.getFieldWithDefault(this, 1, 0);
  }

  setPageSize(value) {
    return jspb.Message.setProto3IntField(this, 1, value);
  }

  /** Id of the last user already received; empty starts from the beginning. */
  getPageToken() {
    return jspb.Message.getFieldWithDefault(this, 2, '');
  }

  setPageToken(value) {
    return jspb.Message.setProto3StringField(this, 2, value);
  }

  toObject() {
    return { pageSize: this.getPageSize(), pageToken: this.getPageToken() };
  }

  serializeBinary() {
    const writer = new jspb.BinaryWriter();
    ListUsersRequest.serializeBinaryToWriter(this, writer);
    return writer.getResultBuffer();
  }

  static serializeBinaryToWriter(message, writer) {
    const pageSize = message.getPageSize();
    if (pageSize !== 0) writer.writeInt32(1, pageSize);
    const pageToken = message.getPageToken();
    if (pageToken.length > 0) writer.writeString(2, pageToken);
  }

  static deserializeBinary(bytes) {
    return ListUsersRequest.deserializeBinaryFromReader(
      new ListUsersRequest(),
      new jspb.BinaryReader(bytes),
    );
  }

  static deserializeBinaryFromReader(message, reader) {
    while (reader.nextField() && !reader.isEndGroup()) {
      switch (reader.getFieldNumber()) {
        case 1:
          message.setPageSize(reader.readInt32());
          break;
        case 2:
          message.setPageToken(reader.readString());
          break;
        default:
          reader.skipField();
      }
    }
    return message;
  }
}

/**
 * user.v1.User { string id = 1; string name = 2; string email = 3;
 *                google.protobuf.Timestamp create_time = 4; }
 */
export class User extends jspb.Message {
  constructor(data) {
    super();
    jspb.Message.initialize(this, data, 0, -1, null, null);
  }

  /** Server-generated UUID. */
  getId() {
    return jspb.Message.getFieldWithDefault(this, 1, '');
  }

  setId(value) {
    return jspb.Message.setProto3StringField(this, 1, value);
  }

  getName() {
    return jspb.Message.getFieldWithDefault(this, 2, '');
  }

  setName(value) {
    return jspb.Message.setProto3StringField(this, 2, value);
  }

  getEmail() {
    return jspb.Message.getFieldWithDefault(this, 3, '');
  }

  setEmail(value) {
    return jspb.Message.setProto3StringField(this, 3, value);
  }

  /** The google.protobuf.Timestamp, or undefined when unset; toDate() gives a Date. */
  getCreateTime() {
    return jspb.Message.getWrapperField(this, Timestamp, 4);
  }

  setCreateTime(value) {
    return jspb.Message.setWrapperField(this, 4, value);
  }

  clearCreateTime() {
    return this.setCreateTime(undefined);
  }

  hasCreateTime() {
    return jspb.Message.getField(this, 4) != null;
  }

  toObject() {
    const createTime = this.getCreateTime();
    return {
      id: this.getId(),
      name: this.getName(),
      email: this.getEmail(),
      createTime: createTime && Timestamp.toObject(false, createTime),
    };
  }

  serializeBinary() {
    const writer = new jspb.BinaryWriter();
    User.serializeBinaryToWriter(this, writer);
    return writer.getResultBuffer();
  }

  static serializeBinaryToWriter(message, writer) {
    const id = message.getId();
    if (id.length > 0) writer.writeString(1, id);
    const name = message.getName();
    if (name.length > 0) writer.writeString(2, name);
    const email = message.getEmail();
    if (email.length > 0) writer.writeString(3, email);
    const createTime = message.getCreateTime();
    if (createTime != null) writer.writeMessage(4, createTime, Timestamp.serializeBinaryToWriter);
  }

  static deserializeBinary(bytes) {
    return User.deserializeBinaryFromReader(new User(), new jspb.BinaryReader(bytes));
  }

  static deserializeBinaryFromReader(message, reader) {
    while (reader.nextField() && !reader.isEndGroup()) {
      switch (reader.getFieldNumber()) {
        case 1:
          message.setId(reader.readString());
          break;
        case 2:
          message.setName(reader.readString());
          break;
        case 3:
          message.setEmail(reader.readString());
          break;
        case 4: {
          const createTime = new Timestamp();
          reader.readMessage(createTime, Timestamp.deserializeBinaryFromReader);
          message.setCreateTime(createTime);
          break;
        }
        default:
          reader.skipField();
      }
    }
    return message;
  }
}

// --- Service (as protoc-gen-grpc-web writes a promise client) ---------------------------------

const SERVICE = 'user.v1.UserService';

function descriptor(method, type, requestType, responseType) {
  return new MethodDescriptor(
    `/${SERVICE}/${method}`,
    type,
    requestType,
    responseType,
    (request) => request.serializeBinary(),
    responseType.deserializeBinary,
  );
}

const methodGetUser = descriptor('GetUser', MethodType.UNARY, GetUserRequest, User);
const methodCreateUser = descriptor('CreateUser', MethodType.UNARY, CreateUserRequest, User);
const methodListUsers = descriptor('ListUsers', MethodType.SERVER_STREAMING, ListUsersRequest, User);
const methodDeleteUser = descriptor('DeleteUser', MethodType.UNARY, DeleteUserRequest, Empty);

/**
 * user.v1.UserService over gRPC-Web.
 *
 * hostname: the server's origin, such as window.location.origin or "http://127.0.0.1:8080" (a
 * trailing slash is dropped). options.format: "text" (default; application/grpc-web-text, base64
 * bodies, streams arrive incrementally in every browser) or "binary"
 * (application/grpc-web+proto; the response is read once it is complete). Other options go to
 * grpc-web's GrpcWebClientBase (withCredentials, interceptors, maxReceiveMessageSize).
 *
 * metadata (every method): request headers as {name: value}. The special key "deadline" (ms since
 * the epoch, as a string) becomes a grpc-timeout header and bounds the request in the browser too.
 */
export class UserServiceClient {
  constructor(hostname, options = {}) {
    this.client_ = new GrpcWebClientBase({ format: 'text', ...options });
    this.hostname_ = String(hostname).replace(/\/+$/, '');
  }

  /** Promise of a User; rejects with RpcError NOT_FOUND or INVALID_ARGUMENT. */
  getUser(request, metadata = {}) {
    return this.client_.unaryCall(
      `${this.hostname_}/${SERVICE}/GetUser`,
      request,
      metadata,
      methodGetUser,
    );
  }

  /** Promise of the created User; rejects with RpcError INVALID_ARGUMENT or ALREADY_EXISTS. */
  createUser(request, metadata = {}) {
    return this.client_.unaryCall(
      `${this.hostname_}/${SERVICE}/CreateUser`,
      request,
      metadata,
      methodCreateUser,
    );
  }

  /** ClientReadableStream of User: 'data' per user, then 'status' and 'end', or 'error'. */
  listUsers(request, metadata = {}) {
    return this.client_.serverStreaming(
      `${this.hostname_}/${SERVICE}/ListUsers`,
      request,
      metadata,
      methodListUsers,
    );
  }

  /** Promise of google.protobuf.Empty; rejects with RpcError NOT_FOUND. */
  deleteUser(request, metadata = {}) {
    return this.client_.unaryCall(
      `${this.hostname_}/${SERVICE}/DeleteUser`,
      request,
      metadata,
      methodDeleteUser,
    );
  }
}

const STATUS_NAMES = Object.fromEntries(
  Object.entries(StatusCode)
    .filter(([, code]) => typeof code === 'number')
    .map(([name, code]) => [code, name]),
);

/** "NOT_FOUND" for 5, and so on; "CODE_<n>" for a code gRPC does not define. */
export function statusName(code) {
  return STATUS_NAMES[code] ?? `CODE_${code}`;
}
