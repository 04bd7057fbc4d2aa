import { ResponseError } from '@backstage/errors';

/**
 * One readable line for an error from the status API. A `ResponseError`'s own
 * message is only "Request failed with 403 Forbidden"; what the backend said
 * (e.g. which permission is missing) is in its serialised body.
 */
export function describeError(error: Error): string {
  if (error instanceof ResponseError || error.name === 'ResponseError') {
    const { body, statusCode } = error as ResponseError;
    const serverMessage = body?.error?.message;
    if (serverMessage) {
      return `${serverMessage} (HTTP ${
        statusCode ?? body.response?.statusCode
      })`;
    }
  }
  return error.message;
}
