import { useState } from 'react';
import { ProxiedSignInPage, SignInPage } from '@backstage/core-components';
import {
  configApiRef,
  useApi,
  type IdentityApi,
} from '@backstage/frontend-plugin-api';
import type { SignInPageProps } from '@backstage/plugin-app-react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';

/** Where the chosen persona is remembered across reloads (cleared on sign-out). */
export const PERSONA_STORAGE_KEY = 'keda-portal:local-persona';
const PERSONA_HEADER = 'x-keda-portal-persona';

type Persona = { id: string; title: string };

function forgetPersonaOnSignOut(identity: IdentityApi): IdentityApi {
  return {
    getProfileInfo: () => identity.getProfileInfo(),
    getBackstageIdentity: () => identity.getBackstageIdentity(),
    getCredentials: () => identity.getCredentials(),
    signOut: async () => {
      localStorage.removeItem(PERSONA_STORAGE_KEY);
      await identity.signOut();
    },
  };
}

/**
 * Sign-in for local use: guest (a developer) plus the personas configured in
 * `auth.providers.localPersonas` (e.g. a developer and a platform engineer),
 * so the approval flow can be tried from both sides on one machine.
 * Without personas configured it is the standard guest sign-in page.
 */
export function LocalSignInPage(props: SignInPageProps) {
  const config = useApi(configApiRef);
  const personas: Persona[] = (
    config.getOptionalConfigArray('auth.providers.localPersonas.personas') ?? []
  ).map(p => ({ id: p.getString('id'), title: p.getString('title') }));
  const [persona, setPersona] = useState<string | null>(() =>
    localStorage.getItem(PERSONA_STORAGE_KEY),
  );

  if (persona && personas.some(p => p.id === persona)) {
    return (
      <ProxiedSignInPage
        {...props}
        provider="localPersonas"
        headers={{ [PERSONA_HEADER]: persona }}
        onSignInSuccess={identity =>
          props.onSignInSuccess(forgetPersonaOnSignOut(identity))
        }
      />
    );
  }

  return (
    <>
      <SignInPage {...props} providers={['guest']} />
      {personas.length > 0 && (
        <Box
          component="section"
          aria-labelledby="local-personas-heading"
          display="flex"
          flexDirection="column"
          alignItems="center"
          pb={4}
        >
          <Typography id="local-personas-heading" variant="h6" gutterBottom>
            Or sign in locally as
          </Typography>
          <Box display="flex" gridGap={16}>
            {personas.map(p => (
              <Button
                key={p.id}
                variant="outlined"
                color="primary"
                onClick={() => {
                  localStorage.setItem(PERSONA_STORAGE_KEY, p.id);
                  setPersona(p.id);
                }}
              >
                {p.title}
              </Button>
            ))}
          </Box>
        </Box>
      )}
    </>
  );
}
