import { kedaRequestSchema } from '@keda-self-service/plugin-keda-common';
import { z } from 'zod/v3';
import { kedaRequestInput } from './schemas';

describe('kedaRequestInput', () => {
  it('has exactly the fields of keda-common’s kedaRequestSchema', () => {
    const mirror = Object.keys(kedaRequestInput(z).shape).sort();
    const source = Object.keys(
      (kedaRequestSchema as any).shape ??
        (kedaRequestSchema as any).def?.in?.shape ??
        {},
    ).sort();
    expect(source.length).toBeGreaterThan(10);
    expect(mirror).toEqual(source);
  });

  it('describes every field, so the action schema documents itself', () => {
    for (const [name, field] of Object.entries(kedaRequestInput(z).shape)) {
      expect([name, (field as z.ZodTypeAny).description]).toEqual([
        name,
        expect.any(String),
      ]);
    }
  });
});
