import { kedaHealth, kedaHealthDetail } from './health';

const so = (...conditions: object[]) => ({ status: { conditions } });

describe('kedaHealth', () => {
  it('is Degraded when Ready is False, with KEDA’s message', () => {
    expect(
      kedaHealthDetail(
        so(
          {
            type: 'Ready',
            status: 'False',
            reason: 'ScaledObjectCheckFailed',
            message: 'AccessDenied: not authorized to perform sts:AssumeRole',
          },
          { type: 'Paused', status: 'True' },
        ),
      ),
    ).toEqual({
      status: 'Degraded',
      message: 'AccessDenied: not authorized to perform sts:AssumeRole',
    });
  });

  it('is Suspended when paused and not failing', () => {
    expect(
      kedaHealthDetail(
        so(
          { type: 'Ready', status: 'True' },
          { type: 'Paused', status: 'True', message: 'ScaledObject is paused' },
        ),
      ).status,
    ).toBe('Suspended');
  });

  it('is Healthy when Ready is True', () => {
    expect(
      kedaHealthDetail(
        so(
          {
            type: 'Ready',
            status: 'True',
            message:
              'ScaledObject is defined correctly and is ready for scaling',
          },
          { type: 'Paused', status: 'False' },
        ),
      ),
    ).toEqual({
      status: 'Healthy',
      message: 'ScaledObject is defined correctly and is ready for scaling',
    });
  });

  it.each([
    ['no status', {}],
    ['no conditions', { status: {} }],
    ['Ready Unknown', so({ type: 'Ready', status: 'Unknown' })],
    ['not an object', null],
  ])('is Progressing with %s', (_why, obj) => {
    expect(kedaHealth(obj)).toBe('Progressing');
  });
});
