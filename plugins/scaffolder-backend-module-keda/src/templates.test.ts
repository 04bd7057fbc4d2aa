import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { TemplateAction } from '@backstage/plugin-scaffolder-node';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import {
  createKedaGithubPullRequestReadyAction,
  createKedaManifestsWriteAction,
  createKedaOperatorRoleEnsureAction,
  createKedaPlanAction,
  createKedaRequestDecommissionAction,
  createKedaRequestDecommissionTargetAction,
  createKedaRequestGetAction,
  createKedaRequestProgressAction,
  createKedaRequestRecordAction,
  createKedaScalerRoleDeleteAction,
  createKedaScalerRoleEnsureAction,
} from './actions';
import { KedaRequestsClient } from './lib/kedaRequestsClient';
import { KedaPlanner } from './lib/planner';
import { recordingAwsFactory } from './__testUtils__/awsClients';
import { testConfig } from './__testUtils__/fixtures';
import { fixedPermissions } from './__testUtils__/permissions';

const TEMPLATES = path.resolve(__dirname, '../../../templates');
const README = fs.readFileSync(path.resolve(__dirname, '../README.md'), 'utf8');

function ourActions(): TemplateAction<any, any, any>[] {
  const config = testConfig();
  const { factory: aws } = recordingAwsFactory();
  const planner = new KedaPlanner({ config, aws });
  const permissions = fixedPermissions(AuthorizeResult.ALLOW).service;
  const client = new KedaRequestsClient({
    discovery: mockServices.discovery(),
    auth: mockServices.auth(),
  });
  return [
    createKedaPlanAction({ planner }),
    createKedaManifestsWriteAction(),
    createKedaScalerRoleEnsureAction({ planner, aws, permissions }),
    createKedaOperatorRoleEnsureAction({ planner, aws, permissions }),
    createKedaScalerRoleDeleteAction({ planner, aws, permissions }),
    createKedaRequestRecordAction({ client, planner, config }),
    createKedaRequestGetAction({ client }),
    createKedaRequestProgressAction({ client }),
    createKedaRequestDecommissionAction({ client }),
    createKedaRequestDecommissionTargetAction({ client }),
    createKedaGithubPullRequestReadyAction({ config: new ConfigReader({}) }),
  ];
}

// Built-in actions the templates use (scaffolder-backend, its GitHub module).
const BUILT_IN = new Set(['catalog:fetch', 'publish:github:pull-request']);

const templates = (
  yaml.parse(fs.readFileSync(path.join(TEMPLATES, 'catalog-info.yaml'), 'utf8'))
    .spec.targets as string[]
).map(target => ({
  target,
  template: yaml.parse(fs.readFileSync(path.join(TEMPLATES, target), 'utf8')),
}));

describe('templates', () => {
  const actions = new Map(ourActions().map(a => [a.id, a]));

  it('the catalog location lists the request, onboarding and decommission templates', () => {
    expect(templates.map(t => t.template.metadata.name)).toEqual(
      expect.arrayContaining([
        'keda-sqs-autoscaling',
        'keda-cluster-onboarding',
        'keda-sqs-decommission',
      ]),
    );
  });

  it.each(templates)(
    '$target names only known actions with inputs their schemas declare',
    ({ template }) => {
      expect(template.apiVersion).toBe('scaffolder.backstage.io/v1beta3');
      expect(template.spec.owner).toBe('group:default/platform-team');
      for (const step of template.spec.steps as Array<{
        id: string;
        action: string;
        input?: object;
      }>) {
        if (BUILT_IN.has(step.action)) continue;
        const action = actions.get(step.action);
        expect([step.id, action?.id]).toEqual([step.id, step.action]);
        const declared = Object.keys(
          (action!.schema?.input as any)?.properties ?? {},
        );
        for (const key of Object.keys(step.input ?? {})) {
          expect([step.id, key, declared.includes(key)]).toEqual([
            step.id,
            key,
            true,
          ]);
        }
      }
    },
  );

  it('the README documents every action and every input', () => {
    for (const action of actions.values()) {
      expect(README).toContain(`\`${action.id}\``);
      for (const key of Object.keys(
        (action.schema?.input as any)?.properties ?? {},
      )) {
        expect([action.id, key, README.includes(`\`${key}`)]).toEqual([
          action.id,
          key,
          true,
        ]);
      }
    }
  });
});
