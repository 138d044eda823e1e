import type { FinalizeRequestMiddleware, InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { callOutcome, type CallOutcome } from './errors.js';

export interface AwsCallRecord {
  service: string;
  action: string;
  region: string;
  outcome: CallOutcome;
  /** Attempts the SDK made, retries included. */
  attempts: number;
}

export type AwsCallObserver = (call: AwsCallRecord) => void;

/**
 * A middleware at the initialize step, outside the SDK's retries: it sees each call once, with its final
 * outcome and how many attempts it took.
 */
export function observeCalls(
  service: string,
  region: string,
  observer: AwsCallObserver,
): InitializeMiddleware<object, MetadataBearer> {
  return (next, context) => async (args) => {
    const action = actionOf(context);
    try {
      const result = await next(args);
      observer({ service, action, region, outcome: 'ok', attempts: result.output.$metadata.attempts ?? 1 });
      return result;
    } catch (err) {
      const attempts = (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      observer({ service, action, region, outcome: callOutcome(err), attempts });
      throw err;
    }
  };
}

export type ThrottleObserver = (call: { service: string; action: string; region: string }) => void;

/**
 * A middleware inside the SDK's retries (finalizeRequest, after the retry step): it sees every attempt AWS
 * throttled, also those a retry then got through, which the call's final outcome hides.
 */
export function observeThrottles(
  service: string,
  region: string,
  observer: ThrottleObserver,
): FinalizeRequestMiddleware<object, MetadataBearer> {
  return (next, context) => async (args) => {
    try {
      return await next(args);
    } catch (err) {
      if (callOutcome(err) === 'throttled') {
        observer({ service, action: actionOf(context), region });
      }
      throw err;
    }
  };
}

/** The API action a command calls: `GetSecretValueCommand` → `GetSecretValue`. */
function actionOf(context: { commandName?: string }): string {
  return String(context.commandName ?? 'unknown').replace(/Command$/, '');
}
