import type { FileMessage, MountResponseMessage, ObjectVersionMessage } from './proto.js';

/*
 * The size of a MountResponse as protobufjs (through proto-loader) encodes it, computed from the lengths alone so the
 * answer is not encoded twice (the server encodes it once, see server.ts). protobufjs writes every field that is set,
 * defaults included ('' and 0 too), and skips null ones; every field number here is below 16, so each tag is a byte.
 */

function varintSize(value: number): number {
  // int32 values below zero take ten bytes; no field here is negative, but the rule keeps the sum exact.
  if (value < 0) return 10;
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size += 1;
  }
  return size;
}

/** Tag, length and bytes of a length-delimited field. */
function delimited(length: number): number {
  return 1 + varintSize(length) + length;
}

function stringField(value: string | null | undefined): number {
  return value == null ? 0 : delimited(Buffer.byteLength(value, 'utf8'));
}

function fileSize(file: FileMessage): number {
  const mode = file.mode == null ? 0 : 1 + varintSize(file.mode);
  const contents = file.contents == null ? 0 : delimited(file.contents.length);
  return stringField(file.path) + mode + contents;
}

function versionSize(version: ObjectVersionMessage): number {
  return stringField(version.id) + stringField(version.version);
}

/** Bytes of the encoded message (the gRPC frame adds 5), as the driver's --max-call-recv-msg-size counts them. */
export function encodedMountResponseSize(response: MountResponseMessage): number {
  let size = 0;
  for (const version of response.objectVersion) size += delimited(versionSize(version));
  if (response.error != null) size += delimited(stringField(response.error.code));
  for (const file of response.files) size += delimited(fileSize(file));
  return size;
}

