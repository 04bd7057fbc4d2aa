/**
 * The self-service templates the portal links to (`templates/` in this
 * repository), with the names of the form fields other code pre-fills. The
 * entity card builds its links from these, and a test reads each template's
 * YAML to prove every pre-filled key is one of its parameters.
 */

/** Reference to a scaffolder template, as its page route takes it. @public */
export interface KedaTemplateRef {
  namespace: string;
  templateName: string;
}

/**
 * `templates/keda-sqs-autoscaling/template.yaml`: request autoscaling.
 * @public
 */
export const KEDA_AUTOSCALING_TEMPLATE = {
  namespace: 'default',
  templateName: 'keda-sqs-autoscaling',
  /** parameters the portal pre-fills (the `formData` query of the link) */
  parameters: {
    /** entity ref of the component to scale (EntityPicker) */
    component: 'component',
  },
} as const;

/**
 * `templates/keda-sqs-decommission/template.yaml`: remove autoscaling.
 * @public
 */
export const KEDA_DECOMMISSION_TEMPLATE = {
  namespace: 'default',
  templateName: 'keda-sqs-decommission',
  parameters: {
    /** entity ref of the component (EntityPicker) */
    component: 'component',
    /** id of the component's current request to remove (KedaRequestPicker) */
    requestId: 'requestId',
  },
} as const;

/**
 * Name of the scaffolder field extension that lists an entity's current
 * requests and answers the chosen request's id (`ui:field` in templates).
 * @public
 */
export const KEDA_REQUEST_PICKER_FIELD = 'KedaRequestPicker';
