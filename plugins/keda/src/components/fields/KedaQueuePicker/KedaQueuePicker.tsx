import {
  parseEntityRef,
  RELATION_DEPENDS_ON,
  stringifyEntityRef,
  type Entity,
} from '@backstage/catalog-model';
import { useApi } from '@backstage/frontend-plugin-api';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import type {
  CustomFieldValidator,
  FieldExtensionComponentProps,
} from '@backstage/plugin-scaffolder-react';
import { ScaffolderField } from '@backstage/plugin-scaffolder-react/alpha';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Autocomplete from '@material-ui/lab/Autocomplete';
import useAsync from 'react-use/esm/useAsync';
import {
  parsedQueue,
  queueUrlOfResource,
  queueUrlProblem,
  TEMPLATE_PARAMETERS,
} from '../common';

/** `ui:options` of {@link KedaQueuePicker}. */
export interface KedaQueuePickerUiOptions {
  /** the form field holding the component's entity ref; default `component` */
  componentField?: string;
}

/** A queue the component depends on, as the picker offers it. */
export interface ComponentQueue {
  entityRef: string;
  title: string;
  url: string;
}

/**
 * The SQS queues a component depends on: its `dependsOn` relations to
 * `Resource`s of type `sqs-queue` that carry a queue URL.
 */
export async function componentQueues(
  catalogApi: {
    getEntityByRef(ref: string): Promise<Entity | undefined>;
    getEntitiesByRefs(request: {
      entityRefs: string[];
    }): Promise<{ items: Array<Entity | undefined> }>;
  },
  componentRef: string,
): Promise<ComponentQueue[]> {
  const component = await catalogApi.getEntityByRef(componentRef);
  const resourceRefs = (component?.relations ?? [])
    .filter(r => r.type === RELATION_DEPENDS_ON)
    .map(r => r.targetRef)
    .filter(
      ref => parseEntityRef(ref).kind.toLocaleLowerCase('en-US') === 'resource',
    );
  if (resourceRefs.length === 0) return [];
  const { items } = await catalogApi.getEntitiesByRefs({
    entityRefs: resourceRefs,
  });
  return items.flatMap(entity => {
    const url = entity && queueUrlOfResource(entity);
    return entity && url
      ? [
          {
            entityRef: stringifyEntityRef(entity),
            title: entity.metadata.title ?? entity.metadata.name,
            url,
          },
        ]
      : [];
  });
}

/**
 * `ui:field: KedaQueuePicker` — the SQS queue URL, offering the queues the
 * chosen component depends on in the catalog; any URL may be typed. Says
 * what is wrong with a typed URL as the person types (keda-common's
 * parser, the one the action uses) and which account and region it
 * resolves to.
 */
export const KedaQueuePicker = (
  props: FieldExtensionComponentProps<string, KedaQueuePickerUiOptions>,
) => {
  const {
    onChange,
    formData,
    required,
    rawErrors,
    idSchema,
    formContext,
    schema: { title = 'SQS queue URL', description },
    uiSchema,
  } = props;
  const componentField =
    uiSchema['ui:options']?.componentField ?? TEMPLATE_PARAMETERS.component;
  const componentRef = formContext?.formData?.[componentField] as
    | string
    | undefined;
  const catalogApi = useApi(catalogApiRef);
  const { value: queues = [], loading } = useAsync(
    async () => (componentRef ? componentQueues(catalogApi, componentRef) : []),
    [catalogApi, componentRef],
  );

  const value = formData ?? '';
  const problem = queueUrlProblem(value);
  const queue = parsedQueue(value);
  const known = queues.find(q => q.url === value.trim());
  let helper = problem;
  if (!helper && queue) {
    helper = `${known ? `${known.title}: ` : ''}queue ${
      queue.queueName
    } in account ${queue.accountId}, region ${queue.region}`;
  } else if (!helper && queues.length > 0) {
    helper = `Pick one of the ${queues.length} queue${
      queues.length === 1 ? '' : 's'
    } the component depends on, or paste a URL`;
  }

  return (
    <ScaffolderField
      rawErrors={rawErrors}
      rawDescription={uiSchema['ui:description'] ?? description}
      required={required}
      disabled={props.disabled}
    >
      <Autocomplete<string, false, false, true>
        id={idSchema?.$id}
        freeSolo
        options={queues.map(q => q.url)}
        loading={loading}
        value={value}
        inputValue={value}
        onInputChange={(_event, input) => onChange(input || undefined)}
        onChange={(_event, selected) => onChange(selected || undefined)}
        disabled={props.disabled}
        renderOption={url => {
          const offered = queues.find(q => q.url === url);
          return (
            <div>
              <Typography variant="body1">{offered?.title ?? url}</Typography>
              <Typography variant="caption" color="textSecondary">
                {url}
              </Typography>
            </div>
          );
        }}
        renderInput={params => (
          <TextField
            {...params}
            label={title}
            required={required}
            error={Boolean(problem) || Boolean(rawErrors?.length)}
            helperText={helper}
            margin="dense"
            variant="outlined"
          />
        )}
      />
    </ScaffolderField>
  );
};

/** On Next: the URL must parse (keda-common `parseQueueUrl`). */
export const kedaQueuePickerValidation: CustomFieldValidator<string> = (
  value,
  validation,
) => {
  const problem = queueUrlProblem(value);
  if (problem) validation.addError(`queueUrl: ${problem}`);
};
