import { fitName, kubernetesName, stableHash } from './names';

describe('stableHash', () => {
  it('is the SHA-256 prefix of the key', () => {
    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(stableHash('abc')).toBe('ba7816bf');
    expect(stableHash('abc', 16)).toBe('ba7816bf8f01cfea');
  });
});

describe('fitName', () => {
  it('keeps names that fit', () => {
    expect(fitName('orders', 10, 'k')).toBe('orders');
  });
  it('cuts and suffixes names that do not', () => {
    const name = fitName('a'.repeat(70), 63, 'key');
    expect(name).toHaveLength(63);
    expect(name.endsWith(`-${stableHash('key')}`)).toBe(true);
  });
});

describe('kubernetesName', () => {
  it('lower-cases and replaces characters outside DNS labels', () => {
    expect(kubernetesName('Orders_Worker.v2')).toBe('orders-worker-v2');
  });
  it('fits 63 characters as a label value', () => {
    const name = kubernetesName(`${'x'.repeat(80)}-worker`);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});
