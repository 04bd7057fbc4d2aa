import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KedaPlanner } from '../lib/planner';
import { KedaRequestsClient } from '../lib/kedaRequestsClient';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import {
  ordersRequest,
  runAction,
  testConfig,
} from '../__testUtils__/fixtures';
import { fixedPermissions } from '../__testUtils__/permissions';
import { createKedaGithubPullRequestReadyAction } from './githubPullRequestReady';
import { createKedaManifestsWriteAction } from './manifestsWrite';
import { createKedaOperatorRoleEnsureAction } from './operatorRoleEnsure';
import { createKedaRequestRecordAction } from './requestRecord';
import { createKedaScalerRoleDeleteAction } from './scalerRoleDelete';
import { createKedaScalerRoleEnsureAction } from './scalerRoleEnsure';

/*
 * What the bad-input corpus (plugins/keda-backend/src/reliability, #16)
 * found: inputs the actions took, or refused only after a remote call or
 * without naming the field. Each is now refused first, naming its field,
 * with no AWS credentials asked for, no GitHub call and no file written.
 */

function aws() {
  const recording = recordingAwsFactory();
  const planner = new KedaPlanner({
    config: testConfig(),
    aws: recording.factory,
  });
  const permissions = fixedPermissions(AuthorizeResult.ALLOW).service;
  return { ...recording, planner, permissions };
}

describe('bad input is refused before any side effect, naming the field', () => {
  describe('keda:aws:scaler-role:delete', () => {
    const input = {
      cluster: 'demo-eks',
      namespace: 'orders',
      workloadName: 'orders-worker',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
    };
    it.each([
      ['namespace', { namespace: 'Orders_NS' }, /^namespace: .*DNS label/],
      ['namespace', { namespace: 'a'.repeat(64) }, /^namespace: .*63/],
      [
        'workloadName',
        { workloadName: 'orders\nkind: Secret' },
        /^workloadName: .*Kubernetes object name/,
      ],
      [
        'queueUrl',
        { queueUrl: 'https://sns.eu-west-1.amazonaws.com/222222222222/x' },
        /^queueUrl: .*not an SQS endpoint/,
      ],
    ])('%s', async (_field, patch, message) => {
      const { planner, factory, permissions, accounts } = aws();
      const action = createKedaScalerRoleDeleteAction({
        planner,
        aws: factory,
        permissions,
      });
      await expect(runAction(action, { ...input, ...patch })).rejects.toThrow(
        message,
      );
      expect(accounts).toEqual([]);
    });
  });

  it('keda:aws:scaler-role:ensure: requester must be a user entity ref', async () => {
    const { planner, factory, permissions, accounts } = aws();
    const action = createKedaScalerRoleEnsureAction({
      planner,
      aws: factory,
      permissions,
    });
    for (const requester of [
      'jane',
      'group:default/platform-team',
      'user:default/jane\nkeda.backstage.io/managed-by: other',
      `user:default/${'j'.repeat(300)}`,
    ]) {
      await expect(
        runAction(action, {
          request: ordersRequest,
          externalId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
          requester,
        }),
      ).rejects.toThrow(/^requester: .*not a user entity ref/);
    }
    expect(accounts).toEqual([]);
  });

  it('keda:aws:operator-role:ensure: valuesPath outside the workspace names valuesPath', async () => {
    const { planner, factory, permissions, accounts } = aws();
    const action = createKedaOperatorRoleEnsureAction({
      planner,
      aws: factory,
      permissions,
    });
    const workspacePath = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-ws-'));
    try {
      await expect(
        runAction(
          action,
          { cluster: 'demo-eks', valuesPath: '../../values.yaml' },
          { workspacePath },
        ),
      ).rejects.toThrow(/^valuesPath: "\.\.\/\.\.\/values\.yaml" must be/);
      expect(accounts).toEqual([]);
    } finally {
      fs.rmSync(workspacePath, { recursive: true, force: true });
    }
  });

  describe('keda:manifests:write', () => {
    const manifests = [{ path: 'clusters/a/b/c.yaml', content: 'x: 1\n' }];
    it.each([
      [{ targetPath: '../outside' }, /^targetPath: "\.\.\/outside" must be/],
      [{ targetPath: '/var/lib/keda' }, /^targetPath: /],
      [
        { manifests: [{ path: 'clusters/a\n/b.yaml', content: 'x' }] },
        /^manifests: .*control character/,
      ],
      [
        { manifests: [{ path: 'clusters/a/b\u0000.yaml', content: 'x' }] },
        /^manifests: .*control character/,
      ],
    ])('%j', async (patch, message) => {
      const workspacePath = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-ws-'));
      try {
        await expect(
          runAction(
            createKedaManifestsWriteAction(),
            { manifests, ...patch },
            { workspacePath },
          ),
        ).rejects.toThrow(message);
        expect(fs.readdirSync(workspacePath)).toEqual([]);
      } finally {
        fs.rmSync(workspacePath, { recursive: true, force: true });
      }
    });
  });

  describe('keda:github:pull-request:ready', () => {
    it.each([
      ['github.com?repo=gitops', /^repoUrl: .*missing owner/],
      ['gitlab.example.com?owner=acme&repo=gitops', /^repoUrl: /],
      ['github.com?owner=acme&repo=../../orgs/acme', /^repoUrl: repo/],
      ['github.com?owner=acme/../x&repo=gitops', /^repoUrl: owner/],
      ['github.com?owner=acme&repo=gitops\n', /^repoUrl: .*control/],
    ])('%j', async (repoUrl, message) => {
      const getCredentials = jest.fn(async () => ({
        token: 't',
        type: 'token' as const,
        headers: {},
      }));
      const action = createKedaGithubPullRequestReadyAction({
        config: new ConfigReader({
          integrations: {
            github: [{ host: 'github.com', token: 't' }],
          },
        }),
        credentialsProvider: { getCredentials },
      });
      await expect(
        runAction(action, { repoUrl, pullRequestNumber: 7 }),
      ).rejects.toThrow(message);
      expect(getCredentials).not.toHaveBeenCalled();
    });
  });

  describe('keda:request:record', () => {
    function record() {
      const { planner } = aws();
      const create = jest.fn();
      const client = { create } as unknown as KedaRequestsClient;
      const action = createKedaRequestRecordAction({
        client,
        planner,
        config: testConfig(),
      });
      return { action, create };
    }

    it('validates the request itself before asking the backend', async () => {
      const { action, create } = record();
      await expect(
        runAction(action, {
          request: { ...ordersRequest, namespace: 'a'.repeat(200_000) },
        }),
      ).rejects.toThrow(/namespace: namespace is at most 63 characters/);
      expect(create).not.toHaveBeenCalled();
    });

    it.each([
      // eslint-disable-next-line no-script-url
      'javascript:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      `https://github.com/acme/gitops/pull/${'7'.repeat(3000)}`,
    ])('refuses pullRequest.url %s', async url => {
      const { action, create } = record();
      await expect(
        runAction(action, {
          request: ordersRequest,
          pullRequest: {
            url,
            number: 7,
            repoUrl: 'github.com?owner=platform&repo=gitops',
          },
        }),
      ).rejects.toThrow(/^pullRequest\.url: /);
      expect(create).not.toHaveBeenCalled();
    });
  });
});
