import { renderInTestApp } from '@backstage/frontend-test-utils';
import type { KedaAuthChain } from '@keda-self-service/plugin-keda-common';
import { screen } from '@testing-library/react';
import { operatorIdentityText, RoleChain } from './RoleChain';

const OPERATOR = 'arn:aws:iam::111111111111:role/keda-operator-demo-eks';
const auth: KedaAuthChain = {
  kind: 'TriggerAuthentication',
  name: 'orders-sqs',
  found: true,
  provider: 'aws',
  roleArn: 'arn:aws:iam::222222222222:role/keda/keda-sqs-orders',
  operatorRoleArn: OPERATOR,
};

describe('RoleChain', () => {
  it("shows the operator's EKS Pod Identity binding", async () => {
    await renderInTestApp(
      <RoleChain
        namespace="orders"
        auth={{
          ...auth,
          operatorIdentity: {
            method: 'pod-identity',
            namespace: 'keda',
            serviceAccount: 'keda-operator',
          },
        }}
      />,
    );
    expect(screen.getByLabelText('Operator identity')).toHaveTextContent(
      "operator identity: EKS Pod Identity (keda/keda-operator → keda-operator-demo-eks, bound by the cluster's pod identity association)",
    );
  });

  it('names the association when its id is known, and IRSA otherwise', () => {
    expect(
      operatorIdentityText(
        {
          method: 'pod-identity',
          namespace: 'keda',
          serviceAccount: 'keda-operator',
          associationId: 'a-0123456789abcdefg',
        },
        OPERATOR,
      ),
    ).toBe(
      'operator identity: EKS Pod Identity association a-0123456789abcdefg (keda/keda-operator → keda-operator-demo-eks)',
    );
    expect(
      operatorIdentityText(
        { method: 'irsa', namespace: 'keda', serviceAccount: 'keda-operator' },
        OPERATOR,
      ),
    ).toBe(
      'operator identity: IRSA (keda/keda-operator → keda-operator-demo-eks)',
    );
  });

  it('shows no identity line when the cluster config does not say', async () => {
    await renderInTestApp(<RoleChain namespace="orders" auth={auth} />);
    expect(screen.queryByLabelText('Operator identity')).toBeNull();
  });
});
