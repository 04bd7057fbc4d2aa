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
    };
  };
}
