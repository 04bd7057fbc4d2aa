import Box from '@material-ui/core/Box';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import type { KedaDiagnosis } from '@keda-self-service/plugin-keda-common';

const useStyles = makeStyles(theme => ({
  evidence: {
    marginTop: theme.spacing(1),
    '& summary': { cursor: 'pointer' },
    '& pre': {
      whiteSpace: 'pre-wrap',
      wordBreak: 'break-word',
      fontSize: theme.typography.caption.fontSize,
      margin: theme.spacing(0.5, 0, 0),
    },
  },
}));

/** Plain-language cause and fix for each failure, with the raw message on demand. */
export function DiagnosisList(props: { diagnoses: KedaDiagnosis[] }) {
  const classes = useStyles();
  if (props.diagnoses.length === 0) return null;
  return (
    <Box display="flex" flexDirection="column" style={{ gap: 8 }}>
      {props.diagnoses.map(diagnosis => (
        <Alert
          key={`${diagnosis.code}:${diagnosis.cause}`}
          severity={diagnosis.severity}
          data-testid={`keda-diagnosis-${diagnosis.code}`}
        >
          <AlertTitle>{diagnosis.cause}</AlertTitle>
          <Typography variant="body2">
            <strong>Fix:</strong> {diagnosis.fix}
          </Typography>
          {diagnosis.evidence && (
            // <details> is keyboard operable and announced as expandable
            // without extra ARIA.
            <details className={classes.evidence}>
              <summary>Message from AWS / KEDA ({diagnosis.code})</summary>
              <pre>{diagnosis.evidence}</pre>
            </details>
          )}
        </Alert>
      ))}
    </Box>
  );
}
