import { InfoCard } from '@backstage/core-components';
import type {
  KedaRequestRecord,
  KedaVerificationCheck,
} from '@keda-self-service/plugin-keda-common';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import CheckCircleIcon from '@material-ui/icons/CheckCircle';
import ErrorIcon from '@material-ui/icons/Error';
import WarningIcon from '@material-ui/icons/Warning';
import { Alert } from '@material-ui/lab';

const useStyles = makeStyles(theme => ({
  pass: { color: theme.palette.success.main },
  fail: { color: theme.palette.error.main },
  warning: { color: theme.palette.warning.main },
  outcome: {
    display: 'inline-flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    whiteSpace: 'nowrap',
  },
  cell: { verticalAlign: 'top', padding: theme.spacing(0.5, 1) },
  subject: { wordBreak: 'break-all' },
}));

const OUTCOMES: Record<
  KedaVerificationCheck['outcome'],
  { label: string; Icon: typeof CheckCircleIcon }
> = {
  pass: { label: 'Pass', Icon: CheckCircleIcon },
  fail: { label: 'Fail', Icon: ErrorIcon },
  warning: { label: 'Warning', Icon: WarningIcon },
};

/**
 * The role chain's verification by the last provisioning run
 * (`keda:aws:scaler-role:ensure`: IAM's policy simulator, IAM Access
 * Analyzer and the trust evaluation): the overall result, then each check
 * with its outcome, subject and evidence.
 */
export function RoleChainVerification(props: { record: KedaRequestRecord }) {
  const classes = useStyles();
  const verification = props.record.provisioning?.verification;
  if (!verification) {
    // Only worth saying once a run has finished provisioning.
    if (props.record.state !== 'provisioned') return null;
    return (
      <InfoCard title="Role chain verification">
        <Typography variant="body2">
          The provisioning run reported no verification (it ran before the
          portal verified role chains, or in a dry run).
        </Typography>
      </InfoCard>
    );
  }
  const count = (outcome: KedaVerificationCheck['outcome']) =>
    verification.checks.filter(c => c.outcome === outcome).length;
  const failed = count('fail');
  const warnings = count('warning');
  let severity: 'success' | 'warning' | 'error' = 'success';
  if (!verification.ok) severity = 'error';
  else if (warnings) severity = 'warning';
  return (
    <InfoCard title="Role chain verification">
      <Alert severity={severity} data-testid="keda-verification-status">
        {verification.ok
          ? `Verified: ${count('pass')} of ${
              verification.checks.length
            } checks passed${warnings ? `, ${warnings} with a warning` : ''}.`
          : `Verification failed: ${failed} of ${verification.checks.length} checks failed. The roles do not work as planned; see the failed checks and the provisioning task's log.`}
      </Alert>
      {warnings > 0 && (
        <Typography variant="body2" color="textSecondary" paragraph>
          A warning means a check could not run or found something worth
          reading, without breaking the chain: most often the portal's AWS role
          lacks a permission the check needs (e.g.{' '}
          <code>access-analyzer:ValidatePolicy</code>), named in the detail.
          Grant it to get the check next time.
        </Typography>
      )}
      <table aria-label="Role chain verification" style={{ width: '100%' }}>
        <thead>
          <tr>
            <th align="left" className={classes.cell}>
              Outcome
            </th>
            <th align="left" className={classes.cell}>
              Check
            </th>
            <th align="left" className={classes.cell}>
              Subject
            </th>
            <th align="left" className={classes.cell}>
              Detail
            </th>
          </tr>
        </thead>
        <tbody>
          {verification.checks.map((c, i) => {
            const { label, Icon } = OUTCOMES[c.outcome] ?? OUTCOMES.warning;
            return (
              <tr key={`${c.check}-${i}`} data-outcome={c.outcome}>
                <td className={classes.cell}>
                  <span className={`${classes.outcome} ${classes[c.outcome]}`}>
                    <Icon fontSize="small" aria-hidden />
                    <Typography component="span" variant="body2">
                      {label}
                    </Typography>
                  </span>
                </td>
                <td className={classes.cell}>
                  <code>{c.check}</code>
                </td>
                <td className={`${classes.cell} ${classes.subject}`}>
                  {c.subject}
                </td>
                <td className={classes.cell}>{c.detail}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </InfoCard>
  );
}
