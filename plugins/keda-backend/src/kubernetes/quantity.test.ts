import { parseQuantity } from './quantity';

describe('parseQuantity', () => {
  it.each([
    ['1334m', 1.334],
    ['2', 2],
    ['0', 0],
    ['1.5k', 1500],
    ['1e3', 1000],
    ['500u', 0.0005],
    ['1Ki', 1024],
    ['-3', -3],
    [7, 7],
  ])('parses %p as %p', (input, expected) => {
    expect(parseQuantity(input)).toBeCloseTo(expected, 9);
  });

  it.each([['abc'], ['1x'], [''], ['m'], [undefined]])(
    'returns undefined for %p',
    input => {
      expect(parseQuantity(input as any)).toBeUndefined();
    },
  );
});
