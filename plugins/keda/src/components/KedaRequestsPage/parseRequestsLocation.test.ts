import { parseRequestsLocation } from './KedaRequestsPage';
import { requestDetailPath } from './KedaRequestsList';

describe('parseRequestsLocation', () => {
  it('reads the list at the mount path, with or without a trailing slash', () => {
    expect(parseRequestsLocation('/keda')).toEqual({ basePath: '/keda' });
    expect(parseRequestsLocation('/keda/')).toEqual({ basePath: '/keda' });
  });

  it('reads the request id of /keda/requests/<id>, decoded', () => {
    expect(parseRequestsLocation('/keda/requests/req-1')).toEqual({
      basePath: '/keda',
      requestId: 'req-1',
    });
    expect(parseRequestsLocation('/platform/keda/requests/a%20b/')).toEqual({
      basePath: '/platform/keda',
      requestId: 'a b',
    });
  });

  it('keeps a malformed escape as it is instead of throwing', () => {
    expect(parseRequestsLocation('/keda/requests/%E0%A4%A').requestId).toBe(
      '%E0%A4%A',
    );
  });

  it('round-trips with requestDetailPath, the link the list renders', () => {
    const path = requestDetailPath('/keda/', 'req/7');
    expect(path).toBe('/keda/requests/req%2F7');
    expect(parseRequestsLocation(path)).toEqual({
      basePath: '/keda',
      requestId: 'req/7',
    });
  });
});
