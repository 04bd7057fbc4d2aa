import { createKedaStatusFixtures } from '../fixtures';
import { describeScalingHealth, scalingDirection } from './scalingHealth';

const fixtures = createKedaStatusFixtures(new Date('2026-11-28T06:00:00Z'));
const so = (scenario: keyof typeof fixtures) =>
  fixtures[scenario].scaledObjects[0];

describe('describeScalingHealth', () => {
  it('calls a ready ScaledObject with active triggers Active', () => {
    const view = describeScalingHealth(so('healthy'));
    expect(view).toMatchObject({ label: 'Active', tone: 'ok' });
  });

  it('calls a ready ScaledObject with inactive triggers Ready and explains idling', () => {
    const healthy = so('healthy');
    const idle = {
      ...healthy,
      conditions: healthy.conditions.map(c =>
        c.type === 'Active' ? { ...c, status: 'False' as const } : c,
      ),
      replicas: { ...healthy.replicas, idle: 0 },
    };
    const view = describeScalingHealth(idle);
    expect(view).toMatchObject({ label: 'Ready', tone: 'ok' });
    expect(view.summary).toContain('held at 0 replicas');
  });

  it('calls Ready=False Degraded and uses the Ready message as the summary', () => {
    const view = describeScalingHealth(so('degraded'));
    expect(view).toMatchObject({ label: 'Degraded', tone: 'error' });
    expect(view.summary).toBe(
      'Failed to ensure HPA is correctly created for ScaledObject',
    );
  });

  it('calls a paused ScaledObject Paused and names the paused replica count', () => {
    const view = describeScalingHealth(so('paused'));
    expect(view).toMatchObject({ label: 'Paused', tone: 'paused' });
    expect(view.summary).toContain('held at 2 replicas');
  });

  it('spots Fallback even though KEDA keeps Ready=True meanwhile', () => {
    const healthy = so('healthy');
    const view = describeScalingHealth({
      ...healthy,
      conditions: healthy.conditions.map(c =>
        c.type === 'Fallback'
          ? {
              ...c,
              status: 'True' as const,
              message:
                'At least one trigger is falling back on this scaled object',
            }
          : c,
      ),
    });
    expect(view).toMatchObject({ label: 'Fallback', tone: 'warning' });
    expect(view.summary).toContain('falling back');
  });

  it('calls a ScaledObject without a Ready condition Progressing', () => {
    const view = describeScalingHealth({
      ...so('healthy'),
      health: 'Progressing',
      conditions: [],
    });
    expect(view).toMatchObject({ label: 'Progressing', tone: 'progressing' });
  });

  it('orders conditions Ready, Active, Fallback, Paused', () => {
    const healthy = so('healthy');
    const view = describeScalingHealth({
      ...healthy,
      conditions: [...healthy.conditions].reverse(),
    });
    expect(view.conditions.map(c => c.type)).toEqual([
      'Ready',
      'Active',
      'Fallback',
      'Paused',
    ]);
  });
});

describe('scalingDirection', () => {
  it('is up when the HPA wants more replicas than run', () => {
    expect(scalingDirection(so('scaling'))).toBe('up');
  });

  it('is undefined at the desired count', () => {
    expect(scalingDirection(so('healthy'))).toBeUndefined();
  });
});
