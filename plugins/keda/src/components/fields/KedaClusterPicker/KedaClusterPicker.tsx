import type { KedaClusterInfo } from '@keda-self-service/plugin-keda-common';
import type {
  CustomFieldValidator,
  FieldExtensionComponentProps,
} from '@backstage/plugin-scaffolder-react';
import { ScaffolderField } from '@backstage/plugin-scaffolder-react/alpha';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useEffect } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { describeError } from '../../../lib/describeError';
import { templateFormApiFrom, useTemplateFormApi } from '../common';

/** One line saying where a cluster is: `account 111111111111 · eu-west-1`. */
export function clusterFacts(cluster: KedaClusterInfo): string {
  return [
    cluster.accountId ? `account ${cluster.accountId}` : undefined,
    cluster.region,
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * `ui:field: KedaClusterPicker` — the clusters the keda backend has
 * configured (`GET /api/keda/clusters`), each with its account and region.
 * A single cluster is chosen for the person. Without the list (the backend
 * unreachable) it falls back to typing the name.
 */
export const KedaClusterPicker = (
  props: FieldExtensionComponentProps<string>,
) => {
  const {
    onChange,
    formData,
    required,
    rawErrors,
    idSchema,
    schema: { title = 'Cluster', description },
    uiSchema,
  } = props;
  const api = useTemplateFormApi();
  const {
    value: clusters,
    loading,
    error,
  } = useAsync(() => api.listClusters(), [api]);

  // The only choice is made for the person.
  useEffect(() => {
    if (clusters?.length === 1 && formData !== clusters[0].cluster) {
      if (!formData || !clusters.some(c => c.cluster === formData)) {
        onChange(clusters[0].cluster);
      }
    }
  }, [clusters, formData, onChange]);

  const hasErrors = Boolean(rawErrors?.length);
  const selected = clusters?.find(c => c.cluster === formData);
  const helper = error
    ? `Could not list the clusters: ${describeError(
        error,
      )}. Type the cluster's name`
    : selected && clusterFacts(selected);

  return (
    <ScaffolderField
      rawErrors={rawErrors}
      rawDescription={uiSchema['ui:description'] ?? description}
      required={required}
      disabled={props.disabled}
    >
      <TextField
        id={idSchema?.$id}
        label={title}
        select={Boolean(clusters)}
        value={formData ?? ''}
        onChange={e => onChange(e.target.value || undefined)}
        required={required}
        disabled={loading || props.disabled}
        error={hasErrors}
        helperText={helper}
        margin="dense"
        variant="outlined"
        fullWidth
        SelectProps={{
          // The name in the box; account and region in the helper text.
          renderValue: value => {
            const cluster = clusters?.find(c => c.cluster === value);
            return cluster?.title ?? String(value ?? '');
          },
        }}
        inputProps={{ 'data-testid': 'keda-cluster-picker' }}
      >
        {(clusters ?? []).map(cluster => (
          <MenuItem key={cluster.cluster} value={cluster.cluster}>
            <div>
              <Typography variant="body1">
                {cluster.title ?? cluster.cluster}
              </Typography>
              <Typography variant="caption" color="textSecondary">
                {[
                  cluster.title ? cluster.cluster : undefined,
                  clusterFacts(cluster),
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </Typography>
            </div>
          </MenuItem>
        ))}
      </TextField>
    </ScaffolderField>
  );
};

/**
 * On Next: the cluster must be one the keda backend has configured. When
 * the list cannot be read the backend decides on the run.
 */
export const kedaClusterPickerValidation: CustomFieldValidator<string> = async (
  value,
  validation,
  { apiHolder },
) => {
  if (!value) return;
  const api = templateFormApiFrom(apiHolder);
  if (!api) return;
  let clusters: KedaClusterInfo[];
  try {
    clusters = await api.listClusters();
  } catch {
    return;
  }
  if (!clusters.some(c => c.cluster === value)) {
    validation.addError(
      `cluster: "${value}" is not a configured cluster; choose one of ${
        clusters.map(c => c.cluster).join(', ') ||
        '(none: the platform team must add keda.clusters)'
      }`,
    );
  }
};
