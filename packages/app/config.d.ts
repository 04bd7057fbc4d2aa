export interface Config {
  auth?: {
    providers?: {
      /** Local sign-in personas (development only), see packages/backend/src/modules/localPersonas.ts */
      localPersonas?: {
        /** Refuse to be used outside NODE_ENV=development unless true. */
        dangerouslyAllowOutsideDevelopment?: boolean;
        personas?: Array<{
          /** @visibility frontend */
          id: string;
          /** Button label on the sign-in page. @visibility frontend */
          title: string;
          /** The catalog user this persona signs in as. */
          userEntityRef: string;
        }>;
      };
    };
  };
}
