import {
  ConflictError,
  NotAllowedError,
  ServiceUnavailableError,
} from '@backstage/errors';

/** What was being attempted when an AWS call failed, for the message a person reads. @public */
export interface AwsCallContext {
  /** The IAM/STS/EKS action, e.g. `iam:CreateRole`. */
  action: string;
  /** The resource acted on, e.g. a role ARN. */
  resource?: string;
  /** The account whose credentials were used. */
  accountId?: string;
}

const ACCESS_DENIED_CODES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);

const THROTTLING_OR_UNAVAILABLE = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'ServiceFailure',
  'ServerException',
]);

/** Node's codes for a connection that failed or broke (the SDK retries these as transient). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/**
 * A call that never got an answer: the connection was refused, reset or
 * timed out (the SDK names a reset or timed-out socket `TimeoutError`).
 * When such an error crosses a JavaScript realm the SDK only keeps its text
 * ("AWS SDK error wrapper for TimeoutError: socket hang up").
 */
function isNetworkError(error: unknown, name: string, message: string) {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) ||
    /socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE/.test(message) ||
    /^AWS SDK error wrapper for TimeoutError\b/.test(message)
  );
}

function errorName(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const e = error as { name?: string; Code?: string; code?: string };
    return e.name ?? e.Code ?? e.code;
  }
  return undefined;
}

/** True for IAM's "not found" answer (`NoSuchEntity`), which reconcile treats as "create it". @public */
export function isNoSuchEntity(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchEntity' || name === 'NoSuchEntityException';
}

/**
 * The principal AWS names in an AccessDenied message ("User: arn:… is not
 * authorized to perform: iam:CreateRole on resource: … with an explicit deny
 * in a service control policy").
 */
function deniedPrincipal(message: string): string | undefined {
  return /User: (arn:[^\s]+)/.exec(message)?.[1];
}

function denialCause(message: string): string {
  if (/service control policy/i.test(message)) {
    return 'an organisation service control policy (SCP) denies it; ask the AWS organisation admins';
  }
  if (/permissions boundary/i.test(message)) {
    return "the caller's permissions boundary does not allow it";
  }
  if (/explicit deny/i.test(message)) {
    return 'an explicit Deny in a policy applies';
  }
  return 'no policy of the caller allows it';
}

/**
 * Turns an AWS SDK error into a Backstage error a person can act on:
 * AccessDenied (incl. boundary and SCP denials) names the denied action and
 * the principal; throttling, 5xx and broken connections that survived the
 * SDK's retries say so (and that running the step again is the remedy).
 * Other errors keep their AWS code and message, prefixed with the action.
 *
 * @public
 */
export function describeAwsError(
  error: unknown,
  context: AwsCallContext,
): Error {
  const name = errorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const where = context.resource ? ` on ${context.resource}` : '';
  const account = context.accountId ? ` in account ${context.accountId}` : '';
  if (
    ACCESS_DENIED_CODES.has(name) ||
    /not authorized to perform/i.test(message)
  ) {
    const principal = deniedPrincipal(message) ?? 'the configured credentials';
    return new NotAllowedError(
      `AWS denied ${
        context.action
      }${where}${account} to ${principal}: ${denialCause(message)}. Grant ${
        context.action
      } to that principal (aws.accounts[] in app-config decides which credentials are used). AWS said: ${name}: ${message}`,
    );
  }
  if (THROTTLING_OR_UNAVAILABLE.has(name)) {
    return new ServiceUnavailableError(
      `AWS kept failing ${context.action}${where}${account} with ${name} after the SDK's retries; run the step again later. AWS said: ${message}`,
    );
  }
  if (isNetworkError(error, name, message)) {
    return new ServiceUnavailableError(
      `AWS could not be reached for ${context.action}${where}${account}: the connection failed (${message}) after the SDK's retries; run the step again later`,
    );
  }
  if (
    name === 'EntityAlreadyExists' ||
    name === 'EntityAlreadyExistsException'
  ) {
    return new ConflictError(`${context.action}${where}${account}: ${message}`);
  }
  const wrapped = new Error(
    `${context.action}${where}${account} failed: ${name}: ${message}`,
  );
  wrapped.name = name;
  return wrapped;
}
