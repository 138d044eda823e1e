import * as grpc from '@grpc/grpc-js';
import type { ProviderError } from '../errors.js';

/** Metadata key carrying our error code beside the status, for clients that want it without parsing. */
export const ERROR_CODE_METADATA = 'x-provider-error-code';

/** The gRPC status of a failed call. */
export function toStatus(error: ProviderError): { code: grpc.status; details: string; metadata: grpc.Metadata } {
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA, error.code);
  // The driver shows only the status message in pod events and metrics label it GRPCProviderError:
  // leading with our code makes the cause greppable there too.
  return { code: error.grpcStatus, details: `${error.code}: ${error.message}`, metadata };
}
