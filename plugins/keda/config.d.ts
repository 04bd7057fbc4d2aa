export interface Config {
  keda?: {
    /**
     * Settings of the KEDA frontend plugin (entity scaling card).
     */
    frontend?: {
      /**
       * How often, in seconds, the entity scaling card refetches the status
       * while the page is visible. Defaults to 15. Values below 5 are raised
       * to 5 so a page left open does not hammer the status API.
       * @visibility frontend
       */
      refreshIntervalSeconds?: number;
      /**
       * The templates the card and the requests page link to, as template
       * entity refs (`[template:][<namespace>/]<name>`), for a portal that
       * registers its own copies under other names. Their parameters must
       * keep the names the links pre-fill (`component`, and `requestId` for
       * decommission). Defaults: `template:default/keda-sqs-autoscaling`
       * and `template:default/keda-sqs-decommission`.
       */
      templates?: {
        /** @visibility frontend */
        autoscaling?: string;
        /** @visibility frontend */
        decommission?: string;
      };
    };
  };
}
