// Sign-in through Cognito's public JSON API: no SDK, and no secret (the app client is public).
// The IdToken lives in sessionStorage only: it survives a reload of this tab (so an upload
// can resume) and goes with the tab; nothing of it is written to localStorage. The refresh
// token is revoked at once: the app never uses it, and a copy of the sign-in answer would
// otherwise mint new tokens until it expires, whatever sign-out does.

const SESSION_KEY = 'secure-upload.session';

export class SignInError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

async function cognito(config, action, body) {
  let response;
  try {
    response = await fetch(config.cognitoEndpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new SignInError('NetworkError', '');
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    // __type is "NotAuthorizedException", or that name after a "#".
    const type = String(answer.__type ?? `HTTP ${response.status}`).split('#').pop();
    throw new SignInError(type, answer.message ?? '');
  }
  return answer;
}

/** The session, or the challenge Cognito asks to answer first (a temporary password). */
export async function signIn(config, email, password) {
  const answer = await cognito(config, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: config.userPoolClientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return settle(config, answer, email);
}

/** Answers NEW_PASSWORD_REQUIRED: the session, or a further challenge. */
export async function setNewPassword(config, challenge, newPassword) {
  const answer = await cognito(config, 'RespondToAuthChallenge', {
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    ClientId: config.userPoolClientId,
    Session: challenge.session,
    ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
  });
  return settle(config, answer, challenge.email);
}

async function settle(config, answer, email) {
  if (answer.AuthenticationResult) {
    const { IdToken, RefreshToken } = answer.AuthenticationResult;
    const session = sessionOf(IdToken, email);
    try {
      await cognito(config, 'RevokeToken', {
        Token: RefreshToken,
        ClientId: config.userPoolClientId,
      });
    } catch {
      // A failed revoke does not fail the sign-in: the refresh token then lives until it expires.
    }
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    return { session };
  }
  // Cognito names the user to answer for in USER_ID_FOR_SRP (the emulator in USERNAME).
  const named = answer.ChallengeParameters ?? {};
  const username = named.USER_ID_FOR_SRP ?? named.USERNAME ?? email;
  return { challenge: { name: answer.ChallengeName, session: answer.Session, username, email } };
}

function sessionOf(idToken, email) {
  // Read for its expiry and whose it is only: the API verifies the token's signature.
  const claims = JSON.parse(base64UrlDecode(idToken.split('.')[1]));
  return { idToken, sub: claims.sub, email, expiresAt: claims.exp * 1000 };
}

function base64UrlDecode(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The stored session while its token is valid, else null. */
export function currentSession() {
  let session = null;
  try {
    session = JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch {
    // not JSON: signed out
  }
  return session && session.expiresAt > Date.now() ? session : null;
}

export function forgetSession() {
  sessionStorage.removeItem(SESSION_KEY);
}
