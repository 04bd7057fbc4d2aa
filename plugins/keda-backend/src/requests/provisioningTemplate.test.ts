import { parseEntityRef } from '@backstage/catalog-model';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import { DEFAULT_KEDA_TEMPLATES } from '@keda-self-service/plugin-keda-node';

const TEMPLATE = path.resolve(
  __dirname,
  '../../../../templates/keda-provision-request/template.yaml',
);

describe('the platform-only provisioning template', () => {
  const template = yaml.parse(fs.readFileSync(TEMPLATE, 'utf8'));

  it('is the template the backend starts on approval', () => {
    const ref = parseEntityRef(DEFAULT_KEDA_TEMPLATES.provisioning);
    expect(template.kind).toBe('Template');
    expect(template.metadata.name).toBe(ref.name);
    expect(template.metadata.namespace ?? 'default').toBe(ref.namespace);
    expect(template.spec.owner).toBe('group:default/platform-team');
  });

  it('takes exactly the values the backend sends ({ requestId })', () => {
    const properties = template.spec.parameters.flatMap((p: any) =>
      Object.keys(p.properties ?? {}),
    );
    expect(properties).toEqual(['requestId']);
    expect(template.spec.parameters[0].required).toEqual(['requestId']);
  });

  it('loads the request, provisions, reports and readies the pull request, in that order', () => {
    expect(template.spec.steps.map((s: any) => s.action)).toEqual([
      'keda:request:get',
      'keda:aws:scaler-role:ensure',
      'keda:request:progress',
      'keda:github:pull-request:ready',
    ]);
  });

  it('passes no IAM document to the provisioning action', () => {
    const ensure = template.spec.steps[1];
    expect(Object.keys(ensure.input).sort()).toEqual([
      'externalId',
      'request',
      'requester',
    ]);
    expect(JSON.stringify(template)).not.toMatch(
      /trustPolicy|permissionPolicy/,
    );
  });
});
