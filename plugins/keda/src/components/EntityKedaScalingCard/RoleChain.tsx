import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import { makeStyles } from '@material-ui/core/styles';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import ArrowForwardIcon from '@material-ui/icons/ArrowForward';
import Alert from '@material-ui/lab/Alert';
import type {
  KedaAuthChain,
  KedaOperatorIdentity,
} from '@keda-self-service/plugin-keda-common';

const useStyles = makeStyles(theme => ({
  chain: {
    display: 'flex',
    alignItems: 'center',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  role: {
    border: `1px solid ${theme.palette.divider}`,
    borderRadius: theme.shape.borderRadius,
    padding: theme.spacing(0.5, 1),
    minWidth: 0,
  },
  chips: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(0.5),
    marginTop: theme.spacing(1),
  },
}));

/** `arn:aws:iam::111111111111:role/keda/keda-operator` → account and role name. */
export function parseRoleArn(arn?: string): {
  accountId?: string;
  name?: string;
} {
  const match = arn?.match(/^arn:[\w-]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/);
  return match ? { accountId: match[1], name: match[2] } : {};
}

function RoleBox(props: { title: string; arn?: string; missing: string }) {
  const classes = useStyles();
  const { accountId, name } = parseRoleArn(props.arn);
  return (
    <div className={classes.role}>
      <Typography variant="caption" color="textSecondary" display="block">
        {props.title}
      </Typography>
      {props.arn ? (
        <Tooltip title={props.arn}>
          <Typography variant="body2" component="span">
            {name ?? props.arn}
            {accountId && ` (${accountId})`}
          </Typography>
        </Tooltip>
      ) : (
        <Typography variant="body2" component="span" color="textSecondary">
          {props.missing}
        </Typography>
      )}
    </div>
  );
}

/**
 * How the operator pod gets the operator role: "EKS Pod Identity association
 * <id> (<namespace>/<service account> → <role>)", or the configured binding
 * when the association's id is not known (the status API makes no EKS call).
 */
export function operatorIdentityText(
  identity: KedaOperatorIdentity,
  operatorRoleArn?: string,
): string {
  const binding = `${identity.namespace}/${identity.serviceAccount} → ${
    parseRoleArn(operatorRoleArn).name ?? operatorRoleArn ?? 'operator role'
  }`;
  if (identity.method === 'irsa') {
    return `operator identity: IRSA (${binding})`;
  }
  return identity.associationId
    ? `operator identity: EKS Pod Identity association ${identity.associationId} (${binding})`
    : `operator identity: EKS Pod Identity (${binding}, bound by the cluster's pod identity association)`;
}

/**
 * How KEDA gets to the queue: the operator's own role (account A) assumes the
 * scaler role (account B), configured by a (Cluster)TriggerAuthentication.
 */
export function RoleChain(props: { auth?: KedaAuthChain; namespace: string }) {
  const classes = useStyles();
  const { auth } = props;
  if (!auth) {
    return (
      <Typography variant="body2" color="textSecondary">
        No authenticationRef: KEDA uses the operator's own identity for the
        queue.
      </Typography>
    );
  }
  if (!auth.found) {
    return (
      <Alert severity="error">
        {auth.kind} <strong>{auth.name}</strong> was not found
        {auth.kind === 'TriggerAuthentication' &&
          ` in namespace ${props.namespace}`}
        . KEDA cannot authenticate to AWS until it exists; check that the merged
        pull request applied it.
      </Alert>
    );
  }
  const scalerRole =
    auth.roleArn ??
    (auth.identityOwner === 'workload' ? undefined : auth.operatorRoleArn);
  return (
    <Box>
      <div className={classes.chain} aria-label="Role chain" role="group">
        <RoleBox
          title="KEDA operator role"
          arn={auth.operatorRoleArn}
          missing="not configured for this cluster"
        />
        <ArrowForwardIcon aria-label="assumes" titleAccess="assumes" />
        <RoleBox
          title="Scaler role"
          arn={scalerRole}
          missing={
            auth.identityOwner === 'workload'
              ? "from the workload's service account"
              : 'none'
          }
        />
      </div>
      {auth.operatorIdentity && (
        <Typography
          variant="caption"
          color="textSecondary"
          display="block"
          aria-label="Operator identity"
        >
          <Tooltip title={auth.operatorRoleArn ?? ''}>
            <span>
              {operatorIdentityText(
                auth.operatorIdentity,
                auth.operatorRoleArn,
              )}
            </span>
          </Tooltip>
        </Typography>
      )}
      <div className={classes.chips}>
        <Chip
          size="small"
          variant="outlined"
          label={`${auth.kind} ${auth.name}`}
        />
        {auth.provider && (
          <Chip
            size="small"
            variant="outlined"
            label={`provider ${auth.provider}`}
          />
        )}
        {auth.crossAccount !== undefined && (
          <Chip
            size="small"
            variant="outlined"
            label={auth.crossAccount ? 'Cross-account' : 'Same account'}
          />
        )}
        {auth.externalIdSet !== undefined && (
          <Chip
            size="small"
            variant="outlined"
            label={auth.externalIdSet ? 'ExternalId set' : 'No ExternalId'}
          />
        )}
      </div>
      {auth.deprecatedProvider && (
        <Box mt={1}>
          <Alert severity="warning">
            Provider <code>{auth.provider ?? 'aws-eks'}</code> is deprecated
            since KEDA 2.13 and removed in KEDA v3. Switch the
            TriggerAuthentication to <code>provider: aws</code> with{' '}
            <code>roleArn</code> set to the scaler role.
          </Alert>
        </Box>
      )}
      {auth.crossAccount && auth.externalIdSet === false && (
        <Box mt={1}>
          <Alert severity="info">
            The scaler role is assumed across accounts without an ExternalId. On
            KEDA 2.20 or later, re-request to add one so other namespaces cannot
            borrow this role.
          </Alert>
        </Box>
      )}
    </Box>
  );
}
