import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Drawer from '@material-ui/core/Drawer';
import IconButton from '@material-ui/core/IconButton';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemIcon from '@material-ui/core/ListItemIcon';
import ListItemText from '@material-ui/core/ListItemText';
import { makeStyles } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import CloseIcon from '@material-ui/icons/Close';
import InfoOutlinedIcon from '@material-ui/icons/InfoOutlined';
import ReportProblemIcon from '@material-ui/icons/ReportProblem';
import type { KedaEvent } from '@keda-self-service/plugin-keda-common';
import { useId, useState } from 'react';
import { RelativeTime } from './RelativeTime';

const useStyles = makeStyles(theme => ({
  paper: { width: 'min(520px, 100vw)', padding: theme.spacing(2) },
  warning: { color: theme.palette.warning.main },
  message: { wordBreak: 'break-word' },
}));

function eventTime(event: KedaEvent): string | undefined {
  return event.lastTimestamp ?? event.firstTimestamp;
}

/** A button that opens the recent Kubernetes events in a side drawer, newest first. */
export function EventsDrawer(props: {
  events: KedaEvent[];
  scaledObjectName: string;
  now: number;
}) {
  const classes = useStyles();
  const [open, setOpen] = useState(false);
  const titleId = useId();
  const events = [...props.events].sort(
    (a, b) =>
      Date.parse(eventTime(b) ?? '') - Date.parse(eventTime(a) ?? '') || 0,
  );
  const warnings = events.filter(e => e.type === 'Warning').length;

  return (
    <>
      <Button
        size="small"
        variant="outlined"
        onClick={() => setOpen(true)}
        disabled={events.length === 0}
        aria-haspopup="dialog"
      >
        {events.length === 0
          ? 'No recent events'
          : `Recent events (${events.length}${
              warnings
                ? `, ${warnings} warning${warnings === 1 ? '' : 's'}`
                : ''
            })`}
      </Button>
      <Drawer
        anchor="right"
        open={open}
        onClose={() => setOpen(false)}
        classes={{ paper: classes.paper }}
        PaperProps={{ role: 'dialog', 'aria-labelledby': titleId } as object}
      >
        <Box display="flex" alignItems="center" justifyContent="space-between">
          <Typography variant="h6" component="h2" id={titleId}>
            Recent events: {props.scaledObjectName}
          </Typography>
          <IconButton aria-label="Close events" onClick={() => setOpen(false)}>
            <CloseIcon />
          </IconButton>
        </Box>
        <List dense>
          {events.map((event, index) => (
            <ListItem
              key={`${event.reason}-${index}`}
              alignItems="flex-start"
              divider
            >
              <ListItemIcon>
                {event.type === 'Warning' ? (
                  <ReportProblemIcon
                    className={classes.warning}
                    titleAccess="Warning"
                  />
                ) : (
                  <InfoOutlinedIcon titleAccess="Normal" />
                )}
              </ListItemIcon>
              <ListItemText
                primary={
                  <>
                    <strong>{event.reason}</strong> ·{' '}
                    {event.involvedObject.kind} {event.involvedObject.name}
                    {event.count && event.count > 1 ? ` · ×${event.count}` : ''}
                  </>
                }
                secondary={
                  <>
                    <span className={classes.message}>{event.message}</span>
                    <br />
                    <RelativeTime
                      iso={eventTime(event)}
                      now={props.now}
                      fallback="time unknown"
                    />
                  </>
                }
              />
            </ListItem>
          ))}
        </List>
      </Drawer>
    </>
  );
}
