import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
  createProxyAuthenticator,
} from '@backstage/plugin-auth-node';

/** The header the app's sign-in page sends with the chosen persona id. */
export const PERSONA_HEADER = 'x-keda-portal-persona';

type Persona = { id: string; title: string; userEntityRef: string };

/** Reads `auth.providers.localPersonas.personas`. */
export function readPersonas(config: Config): Persona[] {
  return (config.getOptionalConfigArray('personas') ?? []).map(p => ({
    id: p.getString('id'),
    title: p.getString('title'),
    userEntityRef: p.getString('userEntityRef'),
  }));
}

/**
 * Local sign-in as one of a few configured catalog users, so a single
 * developer machine can try the approval flow as a developer and as a
 * platform engineer. Like the guest provider it refuses to work outside
 * development unless `dangerouslyAllowOutsideDevelopment` is set: the
 * persona is chosen by a request header, which proves nothing about who is
 * at the keyboard.
 */
export const localPersonasAuthenticator = createProxyAuthenticator({
  defaultProfileTransform: async (result: { persona: Persona }) => ({
    profile: { displayName: result.persona.title },
  }),
  initialize({ config }) {
    const allowed =
      process.env.NODE_ENV === 'development' ||
      config.getOptionalBoolean('dangerouslyAllowOutsideDevelopment') === true;
    return { allowed, personas: readPersonas(config) };
  },
  async authenticate({ req }, { allowed, personas }) {
    if (!allowed) {
      throw new NotAllowedError(
        "Local personas are for development only; set 'auth.providers.localPersonas.dangerouslyAllowOutsideDevelopment' to use them elsewhere",
      );
    }
    const id = req.header(PERSONA_HEADER);
    const persona = personas.find(p => p.id === id);
    if (!persona) {
      throw new InputError(
        `Unknown local persona '${
          id ?? ''
        }' in header ${PERSONA_HEADER}; configured: ${personas
          .map(p => p.id)
          .join(', ')}`,
      );
    }
    return { result: { persona } };
  },
});

export const authModuleLocalPersonas = createBackendModule({
  pluginId: 'auth',
  moduleId: 'local-personas-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ providers, config }) {
        if (!config.has('auth.providers.localPersonas')) return;
        providers.registerProvider({
          providerId: 'localPersonas',
          factory: createProxyAuthProviderFactory({
            authenticator: localPersonasAuthenticator,
            async signInResolver({ result }, ctx) {
              return ctx.signInWithCatalogUser({
                entityRef: result.persona.userEntityRef,
              });
            },
          }),
        });
      },
    });
  },
});
