import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import { useEffect, useRef, useState } from 'react';

/** The decisions that take a comment. */
export type CommentedDecision = 'approve' | 'reject' | 'withdraw';

const TEXT: Record<
  CommentedDecision,
  { title: string; confirm: string; help: string; commentRequired: boolean }
> = {
  approve: {
    title: 'Approve this request?',
    confirm: 'Approve',
    help: 'Approving starts the provisioning task, which creates the IAM roles of the plan. The comment is optional and goes into the decision log.',
    commentRequired: false,
  },
  reject: {
    title: 'Reject this request?',
    confirm: 'Reject',
    help: 'Tell the requester why, and what to change for a new request. The comment is required.',
    commentRequired: true,
  },
  withdraw: {
    title: 'Withdraw your request?',
    confirm: 'Withdraw',
    help: 'Nothing gets provisioned; close the pull request yourself. The comment is optional.',
    commentRequired: false,
  },
};

/**
 * Confirms a decision and takes its comment (required to reject). The
 * dialog stays open while the call runs, so a failure can be read in place.
 */
export function DecisionDialog(props: {
  decision?: CommentedDecision;
  busy: boolean;
  onCancel(): void;
  onConfirm(comment: string): void;
}) {
  const { decision, busy, onCancel, onConfirm } = props;
  const [comment, setComment] = useState('');
  const [touched, setTouched] = useState(false);
  const commentRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    setComment('');
    setTouched(false);
  }, [decision]);
  if (!decision) return null;

  const text = TEXT[decision];
  const missing = text.commentRequired && !comment.trim();
  const submit = () => {
    setTouched(true);
    if (!missing) onConfirm(comment.trim());
  };
  return (
    <Dialog
      open
      onClose={busy ? undefined : onCancel}
      aria-labelledby="keda-decision-title"
      aria-describedby="keda-decision-help"
      fullWidth
      maxWidth="sm"
      // Keyboard users land in the comment field once the dialog is open.
      TransitionProps={{ onEntered: () => commentRef.current?.focus() }}
    >
      {/* noValidate: the field says itself what is missing (the browser's
          bubble would block submit before our message shows) */}
      <form
        noValidate
        onSubmit={e => {
          e.preventDefault();
          submit();
        }}
      >
        <DialogTitle id="keda-decision-title">{text.title}</DialogTitle>
        <DialogContent>
          <DialogContentText id="keda-decision-help">
            {text.help}
          </DialogContentText>
          <TextField
            id="keda-decision-comment"
            label={
              text.commentRequired ? 'Reason (required)' : 'Comment (optional)'
            }
            multiline
            minRows={3}
            fullWidth
            variant="outlined"
            inputRef={commentRef}
            required={text.commentRequired}
            value={comment}
            onChange={e => setComment(e.target.value)}
            onBlur={() => setTouched(true)}
            error={touched && missing}
            helperText={
              touched && missing
                ? 'A rejection needs a reason: tell the requester what to change.'
                : undefined
            }
            inputProps={{ maxLength: 4000 }}
          />
        </DialogContent>
        <DialogActions>
          <Button onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={busy}
          >
            {text.confirm}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
