import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { findShippedFile } from '../shippedFile.js';


/** The wire messages as proto-loader hands them over (camelCase fields, bytes as Buffer). */
export interface ObjectVersionMessage {
  id: string;
  version: string;
}
export interface FileMessage {
  path: string;
  mode: number;
  contents: Buffer;
}
export interface MountRequestMessage {
  attributes: string;
  secrets: string;
  targetPath: string;
  permission: string;
  currentObjectVersion: ObjectVersionMessage[];
}
export interface MountResponseMessage {
  objectVersion: ObjectVersionMessage[];
  error?: { code: string } | null;
  files: FileMessage[];
}
export interface VersionResponseMessage {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
}

export function loadProviderService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(findShippedFile('proto/v1alpha1/service.proto'), {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    v1alpha1: { CSIDriverProvider: grpc.ServiceClientConstructor };
  };
  return pkg.v1alpha1.CSIDriverProvider.service;
}
