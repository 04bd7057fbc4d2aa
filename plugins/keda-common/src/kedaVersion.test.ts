import {
  compareKedaVersion,
  kedaSupportsAwsEksProvider,
  kedaSupportsExternalId,
} from './kedaVersion';

describe('compareKedaVersion', () => {
  it.each([
    ['2.20.2', '2.20.2', 0],
    ['v2.20.2', '2.20.2', 0],
    ['2.20', '2.20.0', 0],
    ['2.9.0', '2.10.0', -1],
    ['2.20.0', '2.19.9', 1],
    ['3.0.0', '2.99.99', 1],
    ['2.20.0-rc1', '2.20.0', -1],
    ['2.20.0', '2.20.0-rc1', 1],
    ['2.20.0-rc1', '2.20.0-rc2', -1],
  ])('%s vs %s → %i', (a, b, sign) => {
    expect(Math.sign(compareKedaVersion(a, b))).toBe(sign);
  });

  it('names the bad version and the expected form', () => {
    expect(() => compareKedaVersion('latest', '2.20.0')).toThrow(
      /"latest" is not a KEDA version; use the form 2\.20\.2/,
    );
  });
});

describe('feature gates', () => {
  it.each([
    ['2.19.0', false],
    ['2.20.0-rc1', false],
    ['2.20.0', true],
    ['2.20.2', true],
    ['2.21.0', true],
  ])('externalID on KEDA %s: %s', (version, expected) => {
    expect(kedaSupportsExternalId(version)).toBe(expected);
  });

  it.each([
    ['2.20.2', true],
    ['2.99.0', true],
    ['3.0.0-rc1', false],
    ['3.0.0', false],
  ])('aws-eks provider on KEDA %s: %s', (version, expected) => {
    expect(kedaSupportsAwsEksProvider(version)).toBe(expected);
  });
});
