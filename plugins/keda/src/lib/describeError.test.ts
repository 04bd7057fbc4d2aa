import { ResponseError } from '@backstage/errors';
import { describeError } from './describeError';

describe('describeError', () => {
  it("uses the backend's message and the HTTP status of a ResponseError", async () => {
    const error = await ResponseError.fromResponse(
      new Response(
        JSON.stringify({
          error: {
            name: 'NotAllowedError',
            message: 'Missing permission keda.status.read',
          },
          request: { method: 'GET', url: '/api/keda/status' },
          response: { statusCode: 403 },
        }),
        {
          status: 403,
          statusText: 'Forbidden',
          headers: { 'Content-Type': 'application/json' },
        },
      ),
    );
    expect(describeError(error)).toBe(
      'Missing permission keda.status.read (HTTP 403)',
    );
  });

  it('still names the HTTP status when the body is not a serialised error', async () => {
    const error = await ResponseError.fromResponse(
      new Response('<html>Bad Gateway</html>', {
        status: 502,
        statusText: 'Bad Gateway',
      }),
    );
    expect(describeError(error)).toMatch(/502 Bad Gateway.*\(HTTP 502\)$/);
  });

  it('uses the message of any other error', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toBe(
      'Failed to fetch',
    );
  });
});
