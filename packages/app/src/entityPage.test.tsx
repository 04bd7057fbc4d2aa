import {
  createKedaStatusFixtures,
  ordersWorkerEntity,
} from '@keda-self-service/plugin-keda/fixtures';
import kedaPlugin from '@keda-self-service/plugin-keda/alpha';
import { kedaApiRef } from '@keda-self-service/plugin-keda';
import { createFrontendPlugin } from '@backstage/frontend-plugin-api';
import { renderTestApp } from '@backstage/frontend-test-utils';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { createTestEntityPage } from '@backstage/plugin-catalog-react/testUtils';
import { screen } from '@testing-library/react';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';

jest.setTimeout(60_000);
const LAZY = { timeout: 30_000 };

/** The entity page entries of `app.extensions` in the repository's app-config.yaml. */
function entityPageExtensionsConfig(): object[] {
  const appConfig = yaml.parse(
    fs.readFileSync(
      path.resolve(__dirname, '../../../app-config.yaml'),
      'utf8',
    ),
  );
  return (appConfig.app.extensions as Array<string | object>).filter(entry =>
    /^entity-(card|content):/.test(
      typeof entry === 'string' ? entry : Object.keys(entry)[0],
    ),
  ) as object[];
}

// Another plugin's content card, installed before the KEDA plugin and, like
// most cards, not named in app-config.
const otherPlugin = createFrontendPlugin({
  pluginId: 'other',
  extensions: [
    EntityCardBlueprint.make({
      name: 'other',
      params: {
        type: 'content',
        loader: async () => <div>other content card</div>,
      },
    }),
  ],
});

const unused = async () => {
  throw new Error('not used on the Overview');
};

async function overviewOrder(extensionsConfig: object[]) {
  renderTestApp({
    features: [otherPlugin, kedaPlugin],
    extensions: [createTestEntityPage({ entity: ordersWorkerEntity })],
    apis: [
      [
        kedaApiRef,
        {
          getStatus: async () => createKedaStatusFixtures(new Date()).healthy,
          listRequests: async () => [],
          getRequest: unused,
          approveRequest: unused,
          rejectRequest: unused,
          withdrawRequest: unused,
          retryRequest: unused,
        },
      ],
    ],
    config: { app: { extensions: extensionsConfig } },
  });
  const keda = await screen.findByText(
    'KEDA · scaling on SQS queue depth',
    {},
    LAZY,
  );
  const other = await screen.findByText('other content card', {}, LAZY);
  // eslint-disable-next-line no-bitwise
  return keda.compareDocumentPosition(other) & Node.DOCUMENT_POSITION_FOLLOWING
    ? 'keda first'
    : 'keda later';
}

describe('entity page Overview', () => {
  it('app-config puts the KEDA autoscaling card first among the content cards', async () => {
    expect(await overviewOrder(entityPageExtensionsConfig())).toBe(
      'keda first',
    );
  });

  it('without that config it would follow the cards of plugins installed before it', async () => {
    expect(await overviewOrder([])).toBe('keda later');
  });
});
