import { Progress } from '@backstage/core-components';
import {
  KEDA_CURRENT_STATES,
  KEDA_DECOMMISSION_TEMPLATE,
  type KedaRequestRecord,
} from '@keda-self-service/plugin-keda-common';
import type { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormHelperText from '@material-ui/core/FormHelperText';
import FormLabel from '@material-ui/core/FormLabel';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import Alert from '@material-ui/lab/Alert';
import { useEffect } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { describeError } from '../../../lib/describeError';
import { useKedaRequestsApi } from '../../KedaRequestsPage/useKedaRequestsApi';
import { queueName } from '../../../lib/format';

/** `ui:options` of the `KedaRequestPicker` field. @public */
export interface KedaRequestPickerUiOptions {
  /**
   * Name of the form field holding the entity ref whose requests are
   * listed; default `component`.
   */
  entityRefField?: string;
}

/** Props of the `KedaRequestPicker` field ({@link KedaRequestPickerFieldExtension}). @public */
export type KedaRequestPickerProps = FieldExtensionComponentProps<
  string,
  KedaRequestPickerUiOptions
>;

/** What a person recognises a request by: where it scales and on what. */
export function requestOptionLabel(record: KedaRequestRecord): string {
  const { namespace, workload } = record.plan.request;
  return `${record.cluster} · ${namespace}/${workload.name} · queue ${queueName(
    record.queueUrl,
  )} (${record.state}, ${record.id})`;
}

/**
 * Scaffolder field `KedaRequestPicker`: lists the current requests
 * (provisioned or failed) of the entity chosen in another field of the
 * form and answers the chosen request's id. With exactly one it is chosen
 * for the user. The list comes from the keda backend's `GET /requests`
 * filtered by entity and state, as the person filling in the form.
 *
 * @public
 */
export function KedaRequestPicker(props: KedaRequestPickerProps) {
  const {
    formData,
    onChange,
    required,
    disabled,
    rawErrors,
    schema,
    uiSchema,
    formContext,
    idSchema,
  } = props;
  const entityRefField =
    uiSchema?.['ui:options']?.entityRefField ??
    KEDA_DECOMMISSION_TEMPLATE.parameters.component;
  const entityRef: string | undefined =
    formContext?.formData?.[entityRefField] || undefined;
  const api = useKedaRequestsApi();

  const { value, loading, error } = useAsync(async () => {
    if (!entityRef) return undefined;
    return api.listRequests({
      entityRef,
      state: [...KEDA_CURRENT_STATES],
    });
  }, [api, entityRef]);

  // One candidate: choose it. A value that is not among the entity's
  // current requests (another entity chosen since, or a stale link) is
  // cleared rather than submitted.
  useEffect(() => {
    if (!value) return;
    if (value.length === 1 && formData !== value[0].id) {
      onChange(value[0].id);
    } else if (formData && !value.some(r => r.id === formData)) {
      onChange(undefined);
    }
  }, [value, formData, onChange]);

  const label = schema.title ?? 'Autoscaling to remove';
  const id = idSchema?.$id ?? 'keda-request-picker';
  let body;
  if (!entityRef) {
    body = (
      <FormHelperText>
        Choose the component first; its current KEDA requests are listed here.
      </FormHelperText>
    );
  } else if (loading) {
    body = <Progress />;
  } else if (error) {
    body = (
      <Alert severity="error">
        Could not load the KEDA requests of {entityRef}: {describeError(error)}
      </Alert>
    );
  } else if (!value || value.length === 0) {
    body = (
      <Alert severity="info">
        {entityRef} has no current KEDA request (provisioned or failed), so the
        portal has no autoscaling on record to remove.
      </Alert>
    );
  } else {
    body = (
      <RadioGroup
        aria-labelledby={`${id}-label`}
        name={id}
        value={formData ?? ''}
        onChange={event => onChange(event.target.value)}
      >
        {value.map(record => (
          <FormControlLabel
            key={record.id}
            value={record.id}
            control={<Radio />}
            label={requestOptionLabel(record)}
            disabled={disabled}
          />
        ))}
      </RadioGroup>
    );
  }

  return (
    <FormControl
      component="fieldset"
      margin="normal"
      required={required}
      error={(rawErrors?.length ?? 0) > 0}
      fullWidth
    >
      <FormLabel component="legend" id={`${id}-label`}>
        {label}
      </FormLabel>
      {body}
      {schema.description && (
        <FormHelperText>{schema.description}</FormHelperText>
      )}
    </FormControl>
  );
}
