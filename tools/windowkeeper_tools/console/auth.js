// Sign-in: the authorization code flow with PKCE (S256) against the Cognito hosted UI when
// deployed, the local OpenID provider of the local stack otherwise (the same endpoints).
// config.js names it: auth = { domain, clientId, scopes?, redirectUri? }.
// Tokens live in memory and sessionStorage (this tab only, gone when it closes), never in
// localStorage; the PKCE verifier and state only for the round trip to the sign-in page.

const SESSION_KEY = "windowkeeper.console.session";
const PENDING_KEY = "windowkeeper.console.pkce";
const REFRESH_MARGIN_MS = 2 * 60 * 1000; // refresh two minutes before the ID token expires

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function randomString(byteCount = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function s256(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

export function claimsOf(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return {};
  }
}

export class SignIn {
  constructor(config) {
    this.config = config || null;
    this.session = null; // { idToken, accessToken, refreshToken, expiresAt }
    this.timer = null;
    this.onTokens = () => {};
    this.onEnded = () => {};
  }

  get enabled() { return Boolean(this.config && this.config.clientId); }
  get domain() { return (this.config.domain || location.origin).replace(/\/$/, ""); }
  get redirectUri() { return this.config.redirectUri || `${location.origin}${location.pathname}`; }

  async begin() {
    const verifier = randomString(48);
    const state = randomString(16);
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: this.config.clientId,
      redirect_uri: this.redirectUri,
      scope: this.config.scopes || "openid email profile",
      state,
      code_challenge: await s256(verifier),
      code_challenge_method: "S256",
    });
    location.assign(`${this.domain}/oauth2/authorize?${query}`);
  }

  // On load: finish a sign-in coming back from the provider, or pick up this tab's session.
  // Returns null, or throws an Error whose message is a sentence for the agent.
  async resume() {
    const url = new URL(location.href);
    const code = url.searchParams.get("code");
    const error = url.searchParams.get("error");
    if (code || error) {
      history.replaceState(null, "", url.pathname); // the code is single-use: not in the address bar
      const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
      sessionStorage.removeItem(PENDING_KEY);
      if (error) throw new Error(`Sign-in did not complete: ${url.searchParams.get("error_description") || error}.`);
      if (!pending || pending.state !== url.searchParams.get("state")) {
        throw new Error("Sign-in did not complete: this answer is not for the sign-in this tab started. Sign in again.");
      }
      await this.tokenRequest({
        grant_type: "authorization_code",
        code,
        redirect_uri: this.redirectUri,
        code_verifier: pending.verifier,
      });
      return this.session;
    }
    const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (!stored) return null;
    this.session = stored;
    if (stored.expiresAt - Date.now() < REFRESH_MARGIN_MS) await this.refresh();
    else this.schedule();
    return this.session;
  }

  async tokenRequest(form) {
    const response = await fetch(`${this.domain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: this.config.clientId, ...form }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(`Sign-in was refused: ${body.error_description || body.error || `HTTP ${response.status}`}.`);
    }
    const claims = claimsOf(body.id_token);
    this.session = {
      idToken: body.id_token,
      accessToken: body.access_token,
      // Cognito answers a refresh without a new refresh token: keep the one we have.
      refreshToken: body.refresh_token || this.session?.refreshToken || null,
      expiresAt: claims.exp ? claims.exp * 1000 : Date.now() + Number(body.expires_in || 3600) * 1000,
    };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(this.session));
    this.schedule();
    this.onTokens(this.session);
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.session?.refreshToken) return;
    const wait = Math.max(0, this.session.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    this.timer = setTimeout(() => this.refresh().catch((error) => this.onEnded(error)), wait);
  }

  async refresh() {
    if (!this.session?.refreshToken) throw new Error("Your session ended; sign in again.");
    await this.tokenRequest({ grant_type: "refresh_token", refresh_token: this.session.refreshToken });
  }

  // Forget everything here, revoke the refresh token, then end the provider's session.
  async signOut() {
    clearTimeout(this.timer);
    const refreshToken = this.session?.refreshToken;
    this.session = null;
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    if (refreshToken) {
      await fetch(`${this.domain}/oauth2/revoke`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: this.config.clientId, token: refreshToken }),
      }).catch(() => {}); // signing out goes on even if the provider cannot be reached
    }
    const query = new URLSearchParams({ client_id: this.config.clientId, logout_uri: this.redirectUri });
    location.assign(`${this.domain}/logout?${query}`);
  }
}
